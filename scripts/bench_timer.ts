/**
 * Timer benchmark: ario's {@linkcode Timer} side by side with `setTimeout`
 * in one process.
 *
 * - lateness p50 / p99: 1 000 timers at random 1–10 ms deadlines, all set
 *   at once; lateness = fire time − deadline, both read with
 *   `performance.now()` (µs).
 * - wall time to schedule and fire 100 000 timers at random 0–5 ms (ms).
 *
 * Each workload runs `ROUNDS` times, alternating ours and the anchor; each
 * figure is the median over rounds of that round's percentile (or wall
 * time), which keeps one round disturbed by other load on the machine from
 * deciding the result. The design timer.ts replaced (one C TIMEOUT op per
 * timer) is measured once, for the record.
 *
 * Run: `deno run -A scripts/bench_timer.ts` (ARIO_LIB / ARIO_BACKEND apply).
 *
 * @module
 */
import { ReactorClock, Timer } from "../timer.ts";
import { sharedReactor } from "../reactor.ts";

/**
 * One line of the comparison table.
 *
 * @example
 * ```ts ignore
 * const row: Row = { name: "lateness p99", ours: 100, anchor: 2600, unit: "µs", better: "lower" };
 * ```
 */
export interface Row {
  /** What was measured. */
  name: string;
  /** Our figure. */
  ours: number;
  /** The anchor's figure (`setTimeout`). */
  anchor: number;
  /** Unit of both figures. */
  unit: string;
  /** Which direction is better. */
  better: "lower" | "higher";
}

const ROUNDS = 5;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const pause = () => new Promise((r) => setTimeout(r, 20));

async function latenessOurs(n: number, clock: ReactorClock): Promise<number[]> {
  const out: number[] = [];
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const d = 1 + Math.random() * 9;
    const due = performance.now() + d;
    all.push(Timer.after(d, { clock }).then(() => out.push(performance.now() - due)));
  }
  await Promise.all(all);
  return out;
}

async function latenessTimeout(n: number): Promise<number[]> {
  const out: number[] = [];
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const d = 1 + Math.random() * 9;
    const due = performance.now() + d;
    all.push(
      new Promise<void>((r) => setTimeout(() => (out.push(performance.now() - due), r()), d)),
    );
  }
  await Promise.all(all);
  return out;
}

async function manyOurs(n: number, clock: ReactorClock): Promise<number> {
  const t0 = performance.now();
  const all: Timer[] = new Array(n);
  for (let i = 0; i < n; i++) all[i] = Timer.after(Math.random() * 5, { clock });
  await Promise.all(all);
  return performance.now() - t0;
}

async function manyTimeout(n: number): Promise<number> {
  const t0 = performance.now();
  const all: Promise<void>[] = new Array(n);
  for (let i = 0; i < n; i++) all[i] = new Promise<void>((r) => setTimeout(r, Math.random() * 5));
  await Promise.all(all);
  return performance.now() - t0;
}

/** One C TIMEOUT op per timer (the design the heap replaced), for the record. */
async function manyDirect(n: number): Promise<number> {
  const r = sharedReactor();
  const t0 = performance.now();
  const all: Promise<number>[] = new Array(n);
  for (let i = 0; i < n; i++) all[i] = r.timeout(Math.ceil(Math.random() * 5e6));
  await Promise.all(all);
  return performance.now() - t0;
}

async function latenessDirect(n: number): Promise<number[]> {
  const r = sharedReactor();
  const out: number[] = [];
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const d = 1 + Math.random() * 9;
    const due = performance.now() + d;
    all.push(r.timeout(Math.ceil(d * 1e6)).then(() => out.push(performance.now() - due)));
  }
  await Promise.all(all);
  return out;
}

/**
 * Runs the timer workloads and returns the comparison rows (ours = ario
 * Timer on the reactor clock, anchor = `setTimeout`). Lateness in µs,
 * wall time in ms.
 *
 * @example
 * ```ts ignore
 * import { benchTimers } from "./scripts/bench_timer.ts";
 * for (const row of await benchTimers()) console.log(row.name, row.ours, row.anchor, row.unit);
 * ```
 */
export async function benchTimers(): Promise<Row[]> {
  const clock = new ReactorClock();
  // warm up both paths (JIT, the reactor's thread)
  await latenessOurs(200, clock);
  await latenessTimeout(200);
  await manyOurs(10_000, clock);
  await manyTimeout(10_000);

  const ours: number[][] = [], anchor: number[][] = [], direct: number[][] = [];
  const wallOurs: number[] = [], wallAnchor: number[] = [];
  for (let k = 0; k < ROUNDS; k++) {
    await pause();
    ours.push(await latenessOurs(1000, clock));
    await pause();
    anchor.push(await latenessTimeout(1000));
    await pause();
    if (k === 0) direct.push(await latenessDirect(1000));
  }
  for (let k = 0; k < ROUNDS; k++) {
    await pause();
    wallOurs.push(await manyOurs(100_000, clock));
    await pause();
    wallAnchor.push(await manyTimeout(100_000));
  }
  await pause();
  const wallDirect = [await manyDirect(100_000)];
  // median over rounds of each round's percentile, in µs
  const us = (rounds: number[][], p: number) =>
    Math.round(
      median(rounds.map((xs) => percentile([...xs].sort((a, b) => a - b), p))) * 1000 * 10,
    ) / 10;
  const ms = (x: number) => Math.round(x * 10) / 10;
  return [
    {
      name: "timer lateness p50 (1k timers, 1–10 ms)",
      ours: us(ours, 50),
      anchor: us(anchor, 50),
      unit: "µs",
      better: "lower",
    },
    {
      name: "timer lateness p99 (1k timers, 1–10 ms)",
      ours: us(ours, 99),
      anchor: us(anchor, 99),
      unit: "µs",
      better: "lower",
    },
    {
      name: "timer lateness max (1k timers, 1–10 ms)",
      ours: us(ours, 100),
      anchor: us(anchor, 100),
      unit: "µs",
      better: "lower",
    },
    {
      name: "schedule+fire 100k timers (0–5 ms)",
      ours: ms(median(wallOurs)),
      anchor: ms(median(wallAnchor)),
      unit: "ms",
      better: "lower",
    },
    {
      name: "  one C TIMEOUT op per timer: lateness p99",
      ours: us(direct, 99),
      anchor: us(anchor, 99),
      unit: "µs",
      better: "lower",
    },
    {
      name: "  one C TIMEOUT op per timer: 100k timers",
      ours: ms(median(wallDirect)),
      anchor: ms(median(wallAnchor)),
      unit: "ms",
      better: "lower",
    },
  ];
}

if (import.meta.main) {
  const rows = await benchTimers();
  const backend = sharedReactor().backend;
  console.log(
    `ario Timer (${backend} backend, JS heap + one C TIMEOUT) vs setTimeout, Deno ${Deno.version.deno}`,
  );
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`${pad("workload", 46)} ${pad("ario", 10)} ${pad("setTimeout", 11)} unit  ratio`);
  for (const r of rows) {
    const ratio = r.better === "lower" ? r.anchor / r.ours : r.ours / r.anchor;
    console.log(
      `${pad(r.name, 46)} ${pad(String(r.ours), 10)} ${pad(String(r.anchor), 11)} ${
        pad(r.unit, 5)
      } ${ratio.toFixed(1)}x better`,
    );
  }
  await sharedReactor().close();
}
