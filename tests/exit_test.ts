// Exit and terminate loops: every way a process (or a Worker) ends while
// ario has ops in flight, 200 times per mode on the backend under test
// (ARIO_BACKEND), with 0 crashes allowed. A crash is a signal the mode did
// not send (SIGSEGV, SIGABRT), a wrong exit status, or a missing
// "error: Uncaught" where Deno must print one. ARIO_EXIT_RUNS changes the
// count; scripts/exit-loop.ts runs 10 000.
import assert from "node:assert/strict";
import { cleanup, loop, type RunResult, runWorkers } from "./_exit_modes.ts";

const backend = Deno.env.get("ARIO_BACKEND") || undefined;
const RUNS = Number(Deno.env.get("ARIO_EXIT_RUNS") ?? 200);
const PARALLEL = 3;

function check(names: string[], runs: number) {
  return async () => {
    const seen: string[] = [];
    const crashes = await loop(names, runs, PARALLEL, backend, (name, r: RunResult) => {
      if (seen.length < 3) seen.push(`${name}: ${r.crash}\n${r.out.slice(-600)}`);
    });
    const total = Object.values(crashes).reduce((a, b) => a + b, 0);
    assert.equal(
      total,
      0,
      `crashes ${JSON.stringify(crashes)} of ${runs} runs each\n${seen.join("\n")}`,
    );
  };
}

Deno.test(
  "exit: natural end (ref'd ops complete, unref'd stay in flight) never crashes",
  check(["natural"], RUNS),
);
Deno.test(
  "exit: Deno.exit() mid-flight, doorbell ringing or not, never crashes",
  check(["exit"], RUNS),
);
Deno.test(
  "exit: an uncaught error exits 1 and prints Deno's error, never crashes",
  check(["uncaught"], RUNS),
);
Deno.test(
  "exit: an unhandled rejection exits 1 and prints Deno's error, never crashes",
  check(["rejection"], RUNS),
);
Deno.test(
  "exit: SIGTERM and SIGINT end the process by the signal, never a crash",
  check(["sigterm", "sigint"], RUNS / 2),
);

for (const end of ["terminate", "close"] as const) {
  Deno.test(`exit: Worker ${end === "terminate" ? "terminate()" : "self.close()"} with ops in flight, ${RUNS} workers, never crashes`, async () => {
    const per = Math.min(100, RUNS);
    const results = await Promise.all(
      Array.from({ length: Math.ceil(RUNS / per) }, () => runWorkers(per, end, backend)),
    );
    for (const r of results) assert.equal(r.crash, undefined, `${r.crash}\n${r.out.slice(-600)}`);
  });
}

Deno.test("exit: cleanup", () => cleanup());
