/**
 * The bench's proxy row: `total` bytes from an upstream TcpListener through
 * examples/proxy.ts (its own process) to a TcpStream client, with SPLICE
 * (socket -> pipe -> socket in the kernel) and with `--copy` (read/write
 * through a JS buffer). Both proxies stay up; rounds alternate them and
 * each figure is the median of its rounds: bytes/s at the client, and the
 * proxy process's CPU time (user + system, /proc) per GiB moved, which on
 * a loaded machine says more than the rate. Linux only (splice).
 * `deno run -A scripts/bench_proxy.ts [MiB] [rounds]` runs it alone.
 */
import { fileURLToPath } from "node:url";
import { TcpListener, TcpStream } from "../mod.ts";

const proxy = fileURLToPath(new URL("../examples/proxy.ts", import.meta.url));

interface Proxy {
  child: Deno.ChildProcess;
  port: number;
}

async function startProxy(upstreamPort: number, mode: string[]): Promise<Proxy> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-env",
      "--allow-read",
      proxy,
      "--to",
      `127.0.0.1:${upstreamPort}`,
      ...mode,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let text = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`proxy ${mode.join(" ")} exited before listening`);
    text += value;
    const m = text.match(/listening on 127\.0\.0\.1:(\d+)/);
    if (m) {
      reader.releaseLock();
      child.stdout.cancel().catch(() => {});
      return { child, port: Number(m[1]) };
    }
  }
}

/** CPU seconds (user + system) process `pid` has used so far. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from the 3rd on
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
}

/** Figures of one mode: bytes/s and proxy CPU seconds per GiB. */
export interface ProxyFigures {
  rate: number;
  cpuPerGiB: number;
}

/** One transfer of `total` bytes through `p`. */
async function through(p: Proxy, total: number): Promise<ProxyFigures> {
  const cpu0 = cpuSeconds(p.child.pid);
  const rate = await transfer(p.port, total);
  return { rate, cpuPerGiB: (cpuSeconds(p.child.pid) - cpu0) / (total / 2 ** 30) };
}

/** `total` bytes read through the proxy on `port`; bytes/s. */
async function transfer(port: number, total: number): Promise<number> {
  const c = await TcpStream.connect({ hostname: "127.0.0.1", port });
  const b = new Uint8Array(1 << 20);
  let got = 0;
  const t0 = performance.now();
  for (let n; (n = await c.read(b)) !== null;) got += n;
  const dt = (performance.now() - t0) / 1e3;
  c.close();
  if (got !== total) throw new Error(`proxy delivered ${got} of ${total} bytes`);
  return got / dt;
}

/** Medians through the splice proxy and the read/write one. */
export async function benchProxy(
  total: number,
  rounds: number,
): Promise<{ splice: ProxyFigures; copy: ProxyFigures }> {
  const up = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const c of up) {
      (async () => {
        const m = new Uint8Array(1 << 20);
        for (let sent = 0; sent < total;) {
          sent += await c.write(sent + m.length <= total ? m : m.subarray(0, total - sent));
        }
        c.close();
      })().catch((e) => console.error(`bench_proxy upstream: ${e.message}`));
    }
  })();
  const splice = await startProxy(up.localAddr.port, []);
  const copy = await startProxy(up.localAddr.port, ["--copy"]);
  const runs = { splice: [] as ProxyFigures[], copy: [] as ProxyFigures[] };
  try {
    for (let round = 0; round < rounds; round++) {
      runs.splice.push(await through(splice, total));
      runs.copy.push(await through(copy, total));
    }
  } finally {
    for (const p of [splice, copy]) {
      p.child.kill("SIGTERM");
      await p.child.status;
    }
    up.close();
    await serving.catch(() => {});
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const med = (fs: ProxyFigures[]): ProxyFigures => ({
    rate: median(fs.map((f) => f.rate)),
    cpuPerGiB: median(fs.map((f) => f.cpuPerGiB)),
  });
  return { splice: med(runs.splice), copy: med(runs.copy) };
}

if (import.meta.main) {
  const mib = Number(Deno.args[0] ?? 256), rounds = Number(Deno.args[1] ?? 3);
  const { splice, copy } = await benchProxy(mib * 2 ** 20, rounds);
  const show = (f: ProxyFigures) =>
    `${(f.rate / 1e9).toFixed(2)} GB/s, ${f.cpuPerGiB.toFixed(2)} CPU s/GiB`;
  console.log(`${mib} MiB through examples/proxy.ts, ${rounds} rounds (medians):`);
  console.log(`  splice      ${show(splice)}`);
  console.log(`  read/write  ${show(copy)}`);
  console.log(
    `  splice/read-write: rate ${(splice.rate / copy.rate).toFixed(2)}×, ` +
      `CPU ${(splice.cpuPerGiB / copy.cpuPerGiB).toFixed(2)}×`,
  );
}
