// Soak: connection churn, timers and transfers for a while, printing open
// fds, RSS, JS heap and the reactor's pending ops after each round; fails
// if fds or pending grow after warm-up, or RSS keeps growing (its last
// quarter above the warm-up high-water mark by more than the slack). Not in
// CI (it is long); `--short` runs ~40 s.
//
//   deno run -A scripts/soak.ts [--minutes 10] [--short] [--slack-mib 24]
//
// Each round: 2 000 TcpStream.connect/accept/close cycles against one
// TcpListener, 20 000 timers (random 0–2 ms, a tenth cancelled), a 16 MB
// transfer over one TCP pair, and a Unix pair ping-pong.
import { parseArgs } from "node:util";
import { sharedReactor, TcpListener, TcpStream, Timer, UnixStream } from "../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "10" },
    short: { type: "boolean", default: false },
    "slack-mib": { type: "string", default: "24" },
  },
});
const seconds = values.short ? 40 : Number(values.minutes) * 60;
const slack = Number(values["slack-mib"]) * 2 ** 20;
const r = sharedReactor();

function fds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

async function churn(l: TcpListener, cycles: number): Promise<void> {
  for (let i = 0; i < cycles; i++) {
    const [s, c] = await Promise.all([l.accept(), TcpStream.connect(l.localAddr)]);
    c.close();
    s.close();
  }
}

async function timers(n: number): Promise<void> {
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const ac = i % 10 === 0 ? new AbortController() : undefined;
    const t = Timer.after(Math.random() * 2);
    all.push(t.wait({ signal: ac?.signal }).catch(() => {}));
    ac?.abort();
  }
  await Promise.all(all);
}

async function transfer(l: TcpListener, bytes: number): Promise<void> {
  const [s, c] = await Promise.all([l.accept(), TcpStream.connect(l.localAddr)]);
  const chunk = new Uint8Array(256 * 1024);
  const w = (async () => {
    for (let sent = 0; sent < bytes; sent += chunk.length) await c.writeAll(chunk);
    await c.closeWrite();
  })();
  const buf = new Uint8Array(64 * 1024);
  let got = 0;
  for (let n = await s.read(buf); n !== null; n = await s.read(buf)) got += n;
  await w;
  c.close();
  s.close();
  if (got !== bytes) throw new Error(`transfer: got ${got} of ${bytes} bytes`);
}

async function pingPong(n: number): Promise<void> {
  const [a, b] = UnixStream.pair();
  const one = new Uint8Array(16), back = new Uint8Array(16);
  for (let i = 0; i < n; i++) {
    await a.writeAll(one);
    await b.read(back);
  }
  a.close();
  b.close();
}

interface Sample {
  t: number;
  fds: number;
  rss: number;
  heap: number;
  pending: number;
}

const MiB = (b: number) => (b / 2 ** 20).toFixed(1);
const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
const samples: Sample[] = [];
const t0 = performance.now();
console.log("round   s    fds  rss MiB  heap MiB  pending");
for (let round = 0; performance.now() - t0 < seconds * 1000; round++) {
  await churn(l, 2000);
  await timers(20_000);
  await transfer(l, 16 * 2 ** 20);
  await pingPong(2000);
  await new Promise((res) => setTimeout(res, 20)); // let closes and cancels land
  const m = Deno.memoryUsage();
  const s: Sample = {
    t: (performance.now() - t0) / 1000,
    fds: fds(),
    rss: m.rss,
    heap: m.heapUsed,
    pending: r.pending,
  };
  samples.push(s);
  console.log(
    `${String(round).padStart(5)} ${s.t.toFixed(0).padStart(4)} ${String(s.fds).padStart(5)} ${
      MiB(s.rss).padStart(8)
    } ${MiB(s.heap).padStart(9)} ${String(s.pending).padStart(8)}`,
  );
}
l.close();

// warm-up: the first quarter of the rounds (at least 2)
const warm = Math.max(2, Math.floor(samples.length / 4));
if (samples.length < warm + 2) throw new Error(`too few rounds (${samples.length}) to judge`);
const base = samples.slice(0, warm);
const rest = samples.slice(warm);
const lastQuarter = samples.slice(samples.length - Math.max(1, Math.floor(samples.length / 4)));
const maxOf = (xs: Sample[], k: keyof Sample) => Math.max(...xs.map((x) => x[k]));
const failures: string[] = [];
if (maxOf(rest, "fds") > maxOf(base, "fds")) {
  failures.push(`fds grew: ${maxOf(base, "fds")} after warm-up, then up to ${maxOf(rest, "fds")}`);
}
if (maxOf(rest, "pending") > maxOf(base, "pending")) {
  failures.push(`pending grew: ${maxOf(base, "pending")}, then ${maxOf(rest, "pending")}`);
}
const rssWarm = maxOf(base, "rss"), rssEnd = Math.min(...lastQuarter.map((x) => x.rss));
if (rssEnd > rssWarm + slack) {
  failures.push(`RSS grew: ${MiB(rssWarm)} MiB after warm-up, ${MiB(rssEnd)} MiB at the end`);
}
console.log(
  `${samples.length} rounds in ${samples[samples.length - 1].t.toFixed(0)} s; after warm-up: ` +
    `fds ${maxOf(base, "fds")} → ${maxOf(rest, "fds")}, pending ${maxOf(base, "pending")} → ${
      maxOf(rest, "pending")
    }, RSS ${MiB(rssWarm)} → ${MiB(rssEnd)} MiB (slack ${MiB(slack)})`,
);
if (failures.length) {
  console.log(`FAIL: ${failures.join("; ")}`);
  Deno.exit(1);
}
console.log("PASS: flat after warm-up");
Deno.exit(0);
