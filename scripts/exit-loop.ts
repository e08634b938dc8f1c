// Exit and terminate loops at scale (tests/exit_test.ts runs 200 per mode in
// CI): every exit mode of tests/_exit_modes.ts `--runs` times per backend,
// plus Worker terminate()/self.close() loops, counting crashes.
//
//   deno run -A scripts/exit-loop.ts [--runs 10000] [--parallel 4]
//     [--backends io_uring,epoll,poll,select] [--modes natural,exit,...] [--workers 2000]
//
// Exits 1 if any run crashed.
import { parseArgs } from "node:util";
import { cleanup, loop, MODES, type RunResult, runWorkers } from "../tests/_exit_modes.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "10000" },
    parallel: { type: "string", default: "4" },
    backends: { type: "string", default: "io_uring,epoll,poll,select" },
    modes: { type: "string", default: Object.keys(MODES).join(",") },
    workers: { type: "string", default: "" },
  },
});
const runs = Number(values.runs);
const parallel = Number(values.parallel);
const workers = values.workers === "" ? Math.min(runs, 2000) : Number(values.workers);
const names = values.modes.split(",").filter((n) => n !== "");
for (const n of names) if (!(n in MODES)) throw new Error(`unknown mode ${n}`);

let failed = 0;
const shown: Record<string, number> = {};
const report = (what: string, r: RunResult) => {
  shown[what] = (shown[what] ?? 0) + 1;
  if (shown[what] > 3) return; // the first three of each mode
  console.log(
    `  CRASH ${what}: ${r.crash}\n    ${r.out.trim().split("\n").slice(-4).join("\n    ")}`,
  );
};
for (const be of values.backends.split(",")) {
  const t0 = performance.now();
  const crashes = names.length ? await loop(names, runs, parallel, be, (n, r) => report(n, r)) : {};
  for (const end of ["terminate", "close"] as const) {
    if (workers === 0) continue;
    // one process per 100 workers, `parallel` processes at a time
    const per = Math.min(100, workers);
    const jobs = Math.ceil(workers / per);
    let bad = 0, next = 0;
    await Promise.all(Array.from({ length: parallel }, async () => {
      while (next < jobs) {
        next++;
        const r = await runWorkers(per, end, be);
        if (r.crash) {
          bad++;
          report(`worker-${end}`, r);
        }
      }
    }));
    crashes[`worker-${end} (processes of ${per})`] = bad;
  }
  const total = Object.values(crashes).reduce((a, b) => a + b, 0);
  failed += total;
  console.log(
    `${be}: ${runs} runs per mode, ${workers} workers per end, ${
      ((performance.now() - t0) / 1000).toFixed(0)
    } s; crashes ${JSON.stringify(crashes)}`,
  );
}
cleanup();
Deno.exit(failed > 0 ? 1 : 0);
