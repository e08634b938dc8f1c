/**
 * Wake-up latency of the reactor's two doorbell modes, through the public
 * API: a TIMEOUT op at an absolute deadline 200 µs ahead, latency = the
 * reactor clock when the await resumes − the deadline (µs).
 *
 * - main thread: a C thread rings a thread-safe callback.
 * - Worker: JS waits with the `nonblocking` ario_wait (bounded, re-armed),
 *   since a Worker can be terminated without `unload` and a C thread must
 *   then never call into it.
 *
 * Rounds alternate the two; each figure is the median over rounds of that
 * round's percentile. Run: `deno run -A scripts/bench_wake.ts` (ARIO_BACKEND
 * applies).
 *
 * @module
 */
const ROUNDS = 5, N = 2000;
const mod = new URL("../mod.ts", import.meta.url).href;

const body = `
const ario = await import(${JSON.stringify(mod)});
const r = ario.sharedReactor();
for (let i = 0; i < 50; i++) await r.timeout(r.now() + 200_000n, { abs: true }); // warm-up
const lat = [];
for (let i = 0; i < ${N}; i++) {
  const deadline = r.now() + 200_000n;
  await r.timeout(deadline, { abs: true });
  lat.push(Number(r.now() - deadline) / 1e3);
}
lat.sort((a, b) => a - b);
const res = { p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)] };
`;

async function onMain(): Promise<{ p50: number; p99: number }> {
  const run = new Function(`return (async () => { ${body}; return res; })();`);
  return await run();
}

async function inWorker(): Promise<{ p50: number; p99: number }> {
  const src = URL.createObjectURL(
    new Blob([`${body}; postMessage(res);`], { type: "text/javascript" }),
  );
  const w = new Worker(src, { type: "module" });
  const res = await new Promise<{ p50: number; p99: number }>((r) =>
    w.onmessage = (e) => r(e.data)
  );
  w.terminate();
  URL.revokeObjectURL(src);
  return res;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const main: { p50: number; p99: number }[] = [], worker: { p50: number; p99: number }[] = [];
for (let i = 0; i < ROUNDS; i++) {
  main.push(await onMain());
  worker.push(await inWorker());
}
const fmt = (xs: { p50: number; p99: number }[]) =>
  `p50 ${median(xs.map((x) => x.p50)).toFixed(1)} µs, p99 ${
    median(xs.map((x) => x.p99)).toFixed(1)
  } µs`;
console.log(`backend ${Deno.env.get("ARIO_BACKEND") ?? "default"}, ${ROUNDS} rounds of ${N}`);
console.log(`main thread (thread-safe callback): ${fmt(main)}`);
console.log(`Worker (nonblocking ario_wait):     ${fmt(worker)}`);
