/**
 * The cost of I/O memory through the public API only (`TcpListener`,
 * `TcpStream.connect`, `read`, `write`): 1-conn 16 B ping-pong RTT,
 * 100-connection 16 B echo, and 1 GiB sent in 64 KiB writes over one
 * connection. Prints one JSON line per workload: the figure, and the
 * process's CPU time (user + system) per unit of work, which a busy shared
 * machine disturbs less than wall-clock figures.
 *
 * `deno run -A scripts/bench_buffer.ts [--quick] [rtt|echo|bulk]...`
 */
import { cpuUsage } from "node:process";
import { sharedReactor, TcpListener, TcpStream } from "../mod.ts";

const quick = Deno.args.includes("--quick");
const picked = Deno.args.filter((a) => !a.startsWith("--"));
const want = (w: string) => picked.length === 0 || picked.includes(w);

async function pairs(n: number): Promise<[TcpStream, TcpStream][]> {
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { backlog: 1024 });
  const out: [TcpStream, TcpStream][] = [];
  for (let i = 0; i < n; i++) {
    const accepted = l.accept();
    const c = await TcpStream.connect(l.localAddr);
    const s = await accepted;
    c.setNoDelay(true);
    s.setNoDelay(true);
    out.push([c, s]);
  }
  l.close();
  return out;
}

async function readFull(s: TcpStream, buf: Uint8Array, want: number): Promise<void> {
  let got = 0;
  while (got < want) {
    const n = await s.read(got === 0 ? buf : buf.subarray(got));
    if (n === null) throw new Error("unexpected end of stream");
    got += n;
  }
}

/** C connections, each N round trips of 16 B; returns msgs/s. */
async function echo(C: number, N: number): Promise<number> {
  const ps = await pairs(C);
  const serve = async (s: TcpStream) => {
    const b = new Uint8Array(65536);
    for (;;) {
      const n = await s.read(b);
      if (n === null) return;
      await s.writeAll(b.subarray(0, n));
    }
  };
  const client = async (c: TcpStream) => {
    const m = new Uint8Array(16), b = new Uint8Array(65536);
    for (let i = 0; i < N; i++) {
      await c.write(m);
      await readFull(c, b, 16);
    }
  };
  const servers = ps.map(([, s]) => serve(s).catch(() => {}));
  const t0 = performance.now();
  await Promise.all(ps.map(([c]) => client(c)));
  const dt = (performance.now() - t0) / 1e3;
  for (const [c] of ps) c.close();
  await Promise.all(servers);
  for (const [, s] of ps) s.close();
  return (C * N) / dt;
}

/**
 * `total` bytes in 64 KiB writes, read with a 64 KiB buffer; returns GB/s.
 * `shared`: both buffers on a SharedArrayBuffer (used in place, no copy).
 */
async function bulk(total: number, shared = false): Promise<number> {
  const [[c, s]] = await pairs(1);
  const mem = (n: number) => new Uint8Array(shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
  const chunk = mem(65536).fill(7);
  const t0 = performance.now();
  const writer = (async () => {
    for (let sent = 0; sent < total; sent += chunk.length) await c.writeAll(chunk);
    c.close();
  })();
  const b = mem(65536);
  let got = 0;
  for (;;) {
    const n = await s.read(b);
    if (n === null) break;
    got += n;
  }
  await writer;
  const dt = (performance.now() - t0) / 1e3;
  s.close();
  if (got !== total) throw new Error(`bulk: got ${got} of ${total} bytes`);
  return total / dt / 1e9;
}

const backend = sharedReactor().backend;
/** Runs `f`; returns its figure and the CPU µs it took per `units`. */
async function measured(f: () => Promise<number>, units: number): Promise<[number, number]> {
  const c0 = cpuUsage();
  const v = await f();
  const c = cpuUsage(c0);
  return [v, (c.user + c.system) / units];
}
if (want("rtt")) {
  const N = quick ? 2000 : 20000;
  await echo(1, N / 10); // warm up
  const [rate, cpu] = await measured(() => echo(1, N), N);
  console.log(JSON.stringify({ backend, workload: "rtt_us", value: 1e6 / rate, cpu_us: cpu }));
}
if (want("echo")) {
  const N = quick ? 200 : 2000;
  await echo(100, N / 10);
  const [rate, cpu] = await measured(() => echo(100, N), 100 * N);
  console.log(JSON.stringify({ backend, workload: "echo100_msgs_s", value: rate, cpu_us: cpu }));
}
if (want("bulk")) {
  const total = quick ? 2 ** 28 : 2 ** 30;
  await bulk(2 ** 26);
  const [gbs, cpu] = await measured(() => bulk(total), total / 65536);
  console.log(JSON.stringify({ backend, workload: "bulk_gb_s", value: gbs, cpu_us: cpu }));
}
if (want("bulk_sab")) {
  const total = quick ? 2 ** 28 : 2 ** 30;
  await bulk(2 ** 26, true);
  const [gbs, cpu] = await measured(() => bulk(total, true), total / 65536);
  console.log(JSON.stringify({ backend, workload: "bulk_sab_gb_s", value: gbs, cpu_us: cpu }));
}
Deno.exit(0);
