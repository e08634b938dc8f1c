/**
 * `deno task bench`: one table, measured in one run, ours beside the anchors
 * (scripts/anchors: the same workloads on Deno.connect/listen, node:net, Bun,
 * and a one-thread C epoll loop). Echo, bulk and UDP rows go through the
 * public API (TcpStream, UdpSocket); the raw op path has rows of its own.
 * Ratios matter, not absolute figures. `--quick` shortens every workload.
 */
import { OP } from "../ffi/layout.ts";
import { benchPool } from "./bench_pool.ts";
import { benchProxy } from "./bench_proxy.ts";
import { benchTimers } from "./bench_timer.ts";
import { load } from "../ffi/load.ts";
import { zigPath } from "./build.ts";
import {
  constants,
  multi,
  op,
  Reactor,
  sharedReactor,
  TcpListener,
  TcpStream,
  UdpSocket,
} from "../mod.ts";
import { fileURLToPath } from "node:url";

const quick = Deno.args.includes("--quick");
const root = fileURLToPath(new URL("..", import.meta.url)); // decodes %20: a path with a space

/** One row of the table. */
export interface Row {
  name: string;
  ours: number;
  anchor?: number;
  anchorName?: string;
  unit: string;
  better: "lower" | "higher";
  target?: string;
}

const started = performance.now();
/** A progress line on stderr: the phase, time so far and memory (a bench must not grow). */
function progress(phase: string): void {
  const mib = (Deno.memoryUsage().rss / 1048576).toFixed(0);
  console.error(
    `  ${((performance.now() - started) / 1e3).toFixed(0)} s: ${phase} (rss ${mib} MiB)`,
  );
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

// ---------------------------------------------------------------- NOP ops/s
async function nopRate(batch: number, r: Reactor): Promise<number> {
  const raws = Array.from({ length: batch }, () => ({ op: OP.NOP, fd: -1 }));
  const total = quick ? 200_000 : 2_000_000;
  const rounds = Math.max(1, Math.floor(total / batch));
  const run = () =>
    new Promise<void>((resolve) => {
      let left = batch;
      const done = () => {
        if (--left === 0) resolve();
      };
      if (batch === 1) r.rawCallback(raws[0], done);
      else r.submitRaw(raws, new Array(batch).fill(done));
    });
  for (let i = 0; i < Math.min(rounds, 200); i++) await run(); // warm up
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await run();
  return (rounds * batch) / ((performance.now() - t0) / 1e3);
}

// ---------------------------------------------------------- wake latency C->JS
const keepAlive: unknown[] = [];

async function wakeDoorbell(n: number, r = sharedReactor()): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const deadline = r.now() + 200_000n; // 200 µs
    await r.timeout(deadline, { abs: true });
    lat.push(Number(r.now() - deadline) / 1e3);
  }
  return lat;
}

async function wakeNonblocking(n: number): Promise<number[]> {
  // a loop of our own, waited on by a nonblocking (thread pool) FFI call
  const lib = load();
  const params = new Uint32Array([64, 0, 0, 0]);
  const size = Number(lib.ario_mem_size(params));
  const mem = new Uint8Array(size + 16);
  keepAlive.push(mem);
  const base = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(mem)));
  const loop = Deno.UnsafePointer.create(BigInt(base + ((16 - (base % 16)) % 16)))!;
  if (lib.ario_init(loop, BigInt(size), params) < 0) throw new Error("init failed");
  const sqe = new Uint32Array(12), cq = new Uint8Array(16 * 4);
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const deadline = BigInt(lib.ario_now()) + 200_000n;
    sqe.fill(0);
    sqe[0] = OP.TIMEOUT;
    sqe[1] = -1 >>> 0;
    sqe[7] = 1; // ARIO_TIMEOUT_ABS
    sqe[8] = Number(deadline & 0xffffffffn);
    sqe[9] = Number(deadline >> 32n);
    lib.ario_submit(loop, new Uint8Array(sqe.buffer), 1);
    await lib.ario_wait(loop, -1n);
    lat.push(Number(BigInt(lib.ario_now()) - deadline) / 1e3);
    lib.ario_reap(loop, cq, 4, 0n);
  }
  lib.ario_deinit(loop);
  return lat;
}

// ------------------------------------------------------------- echo workload
const lib = () => load();

function nodelay(fd: number) {
  lib().ario_setsockopt(fd, constants.IPPROTO_TCP, constants.TCP_NODELAY, new Int32Array([1]), 4);
}

/** Ours: C connections, each N ping-pongs of S bytes (the anchors' workload). */
async function echoOurs(r: Reactor, C: number, N: number, S: number): Promise<number> {
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { backlog: 1024, reactor: r });
  const pairs: [number, number][] = [];
  for (let i = 0; i < C; i++) {
    const c = lib().ario_socket(constants.AF_INET, constants.SOCK_STREAM, 0);
    const [s] = await multi([
      op.accept(l.fd),
      op.connect(c, l.localAddr),
    ], { reactor: r });
    nodelay(c);
    nodelay(s as number);
    pairs.push([c, s as number]);
  }
  const RECV = { op: OP.RECV, fd: 0, addr: new Uint8Array(0) as Uint8Array, len: 0 };
  const serve = async (s: number) => {
    const b = new Uint8Array(65536);
    const rx = { ...RECV, fd: s, addr: b, len: b.length };
    for (;;) {
      const n = await r.raw(rx, b);
      if (n <= 0) return;
      let o = 0;
      while (o < n) {
        const w = await r.raw({ op: OP.SEND, fd: s, addr: b.subarray(o, n), len: n - o });
        if (w < 0) return;
        o += w;
      }
    }
  };
  const client = async (c: number) => {
    const m = new Uint8Array(S), b = new Uint8Array(65536);
    const tx = { op: OP.SEND, fd: c, addr: m, len: S };
    const rx = { op: OP.RECV, fd: c, addr: b, len: b.length };
    for (let i = 0; i < N; i++) {
      await r.raw(tx);
      let got = 0;
      while (got < S) got += await r.raw(rx);
    }
  };
  const servers = pairs.map(([, s]) => serve(s));
  const t0 = performance.now();
  await Promise.all(pairs.map(([c]) => client(c)));
  const dt = (performance.now() - t0) / 1e3;
  for (const [c, s] of pairs) {
    lib().ario_close(r.unsafeLoop, c);
    lib().ario_close(r.unsafeLoop, s);
  }
  await Promise.all(servers);
  l.close();
  return (C * N) / dt;
}

/** Ours through the public API: TcpListener, TcpStream.connect, read, write (the anchors' shape). */
async function echoPublic(C: number, N: number, S: number): Promise<number> {
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { backlog: 1024 });
  const serving = (async () => {
    const conns: Promise<void>[] = [];
    for (let i = 0; i < C; i++) {
      const c = await l.accept();
      c.setNoDelay(true);
      conns.push((async () => {
        const b = new Uint8Array(65536);
        for (;;) {
          const n = await c.read(b).catch(() => null);
          if (n === null) break;
          await c.writeAll(b.subarray(0, n));
        }
        c.close();
      })());
    }
    await Promise.all(conns);
  })();
  const clients = await Promise.all(Array.from({ length: C }, async () => {
    const c = await TcpStream.connect(l.localAddr);
    c.setNoDelay(true);
    return c;
  }));
  const t0 = performance.now();
  await Promise.all(clients.map(async (c) => {
    const m = new Uint8Array(S), b = new Uint8Array(65536);
    for (let i = 0; i < N; i++) {
      await c.writeAll(m);
      for (let got = 0; got < S;) got += (await c.read(b))!;
    }
  }));
  const dt = (performance.now() - t0) / 1e3;
  for (const c of clients) c.close();
  await serving;
  l.close();
  return (C * N) / dt;
}

/**
 * Ours, bulk: `total` bytes in `chunk`-byte writes over one TcpStream, received with `read` or
 * (`multishot`) `chunks()`; bytes/s.
 */
async function bulkPublic(total: number, chunk: number, multishot = false): Promise<number> {
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const c = await l.accept();
    const b = new Uint8Array(chunk);
    let got = 0;
    if (multishot) {
      for await (const part of c.chunks({ size: chunk })) if ((got += part.length) >= total) break;
    }
    while (got < total) {
      const n = await c.read(b);
      if (n === null) break;
      got += n;
    }
    c.close();
    return got;
  })();
  const c = await TcpStream.connect(l.localAddr);
  const m = new Uint8Array(chunk);
  const t0 = performance.now();
  for (let sent = 0; sent < total;) {
    sent += await c.write(sent + chunk <= total ? m : m.subarray(0, total - sent));
  }
  const got = await served;
  const dt = (performance.now() - t0) / 1e3;
  c.close();
  l.close();
  return got / dt;
}

/** Ours, UDP: K senders, each N ping-pongs of 16 bytes with one echo socket; round trips/s. */
async function udpPublic(K: number, N: number): Promise<number> {
  const echo = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const b = new Uint8Array(64);
    for (;;) {
      const got = await echo.recvFrom(b).catch(() => null);
      if (got === null) return;
      await echo.sendTo(b.subarray(0, got.n), got.addr as Deno.NetAddr);
    }
  })();
  const to = echo.localAddr;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: K }, async () => {
    using s = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    const m = new Uint8Array(16), b = new Uint8Array(64);
    for (let i = 0; i < N; i++) {
      await s.sendTo(m, to);
      await s.recv(b);
    }
  }));
  const dt = (performance.now() - t0) / 1e3;
  echo.close();
  await serving;
  return (K * N) / dt;
}

/** An anchor as a child process; returns the figure it prints as `<key>=<n>` (default msgs/s). */
async function anchor(cmd: string, args: string[], key = "msgs/s"): Promise<number> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "inherit" }).output();
  const m = new TextDecoder().decode(out.stdout).match(
    new RegExp(`${key.replace("/", "\\/")}=(\\d+)`),
  );
  if (!m) throw new Error(`anchor ${cmd} printed no ${key}`);
  return Number(m[1]);
}

/** Bun, pinned, fetched from npm only when the bench runs (never by the quick start). */
const BUN_VERSION = "1.4.4";
async function bunAnchor(): Promise<string | undefined> {
  const dir = `${root}build/bench-tools`;
  const exe = `${dir}/node_modules/@oven/bun-linux-x64/bin/bun`;
  const has = () => {
    try {
      return Deno.statSync(exe).isFile;
    } catch {
      return false;
    }
  };
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") return undefined;
  if (!has()) {
    console.error(`fetching @oven/bun-linux-x64@${BUN_VERSION} for the Bun anchor…`);
    await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        dir,
        "--no-save",
        "--no-package-lock",
        "--no-audit",
        "--no-fund",
        `@oven/bun-linux-x64@${BUN_VERSION}`,
      ],
      stdout: "null",
    }).output();
  }
  return has() ? exe : undefined;
}

async function cAnchor(): Promise<string | undefined> {
  const src = `${root}scripts/anchors/echo_c_epoll.c`;
  const exe = `${root}build/echo_c_epoll`;
  try {
    Deno.statSync(src);
  } catch {
    return undefined;
  }
  const r = await new Deno.Command(zigPath(), { args: ["cc", "-O2", src, "-o", exe] }).output();
  return r.code === 0 ? exe : undefined;
}

function table(rows: Row[]): string {
  const fmt = (v: number | undefined, unit: string) =>
    v === undefined
      ? "—"
      : unit.endsWith("/s")
      ? v >= 1e9
        ? `${(v / 1e9).toFixed(2)} G`
        : v >= 1e6
        ? `${(v / 1e6).toFixed(2)} M`
        : `${(v / 1e3).toFixed(1)} k`
      : v.toFixed(1);
  const lines = [
    "| workload | ario | anchor | anchor value | ratio (ario/anchor) | target |",
    "| --- | ---: | --- | ---: | ---: | --- |",
  ];
  for (const r of rows) {
    const ratio = r.anchor ? (r.ours / r.anchor).toFixed(2) + "×" : "—";
    lines.push(
      `| ${r.name} (${r.unit}) | ${fmt(r.ours, r.unit)} | ${r.anchorName ?? "—"} | ${
        fmt(r.anchor, r.unit)
      } | ${ratio} | ${r.target ?? ""} |`,
    );
  }
  return lines.join("\n");
}

/**
 * The table as a chart that reads in seconds: one bar per row with an
 * anchor, its length how many times better ario is than the anchor
 * (anchor/ario for lower-is-better rows), on a log scale around 1×.
 */
export function chart(rows: Row[], title: string): string {
  const rs = rows.filter((r) => r.anchor !== undefined && r.anchor > 0 && r.ours > 0);
  const W = 900, left = 430, barH = 18, gap = 6, top = 46;
  const H = top + rs.length * (barH + gap) + 40;
  const adv = (r: Row) => r.better === "lower" ? r.anchor! / r.ours : r.ours / r.anchor!;
  const maxLog = 3; // 1/8× .. 8×: a bar past it is drawn to the edge, its figure still exact
  const mid = left + (W - left - 70) / 2, half = (W - left - 70) / 2;
  const x = (v: number) => mid + Math.max(-1, Math.min(1, Math.log2(v) / maxLog)) * half;
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="36" fill="#555">bar: times better than the anchor (right of 1× ario wins, left it loses), log scale</text>`,
  ];
  rs.forEach((r, i) => {
    const y = top + i * (barH + gap);
    const a = adv(r), x1 = x(a);
    const win = a >= 1;
    out.push(
      `<text x="${left - 8}" y="${y + 13}" text-anchor="end">${
        esc(`${r.name} vs ${r.anchorName}`)
      }</text>`,
      `<rect x="${Math.min(mid, x1)}" y="${y}" width="${
        Math.max(1, Math.abs(x1 - mid))
      }" height="${barH}" fill="${win ? "#2a9d55" : "#d1495b"}"/>`,
      `<text x="${win ? x1 + 4 : x1 - 4}" y="${y + 13}" text-anchor="${win ? "start" : "end"}">${
        a.toFixed(2)
      }×</text>`,
    );
  });
  const axisY = top + rs.length * (barH + gap);
  out.push(`<line x1="${mid}" y1="${top - 4}" x2="${mid}" y2="${axisY}" stroke="#333"/>`);
  for (const v of [0.125, 0.25, 0.5, 1, 2, 4, 8]) {
    out.push(`<text x="${x(v)}" y="${axisY + 16}" text-anchor="middle" fill="#555">${v}×</text>`);
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

if (import.meta.main) {
  const rows: Row[] = [];
  const deno = Deno.execPath();
  const anchors = `${root}scripts/anchors`;
  const anchorDeno = `${anchors}/echo_deno_native.ts`;
  const anchorNode = `${anchors}/echo_node.mjs`;
  const bun = await bunAnchor();
  console.error(`backend: ${sharedReactor().backend}${quick ? " (quick)" : ""}`);
  // NOPs measure the binding and FFI; io_uring also pays a kernel round trip per batch
  for (const backend of [sharedReactor().backend, "epoll"] as const) {
    const r = backend === sharedReactor().backend ? sharedReactor() : new Reactor({ backend });
    for (const b of [1, 64, 1024]) {
      rows.push({
        name: `NOP ops/s, batch ${b}, ${backend}`,
        ours: await nopRate(b, r),
        unit: "ops/s",
        better: "higher",
        target: b > 1 ? "≥ 10 M" : "",
      });
    }
    if (r !== sharedReactor()) await r.close();
  }
  const n = quick ? 300 : 3000;
  progress("NOP rates done");
  const bell = await wakeDoorbell(n), nb = await wakeNonblocking(n);
  progress("wake latency done");
  rows.push({
    name: "wake C→JS p50, doorbell vs nonblocking call",
    ours: pct(bell, 0.5),
    anchor: pct(nb, 0.5),
    anchorName: "nonblocking wait",
    unit: "µs",
    better: "lower",
  });
  rows.push({
    name: "wake C→JS p99, doorbell vs nonblocking call",
    ours: pct(bell, 0.99),
    anchor: pct(nb, 0.99),
    anchorName: "nonblocking wait",
    unit: "µs",
    better: "lower",
  });
  { // precise timers: the doorbell rings 200 µs early and JS polls the rest (readiness backends)
    const precise = new Reactor({ backend: "epoll", timerLead: 200 });
    const lead = await wakeDoorbell(n, precise);
    await precise.close();
    rows.push({
      name: "timer wake p50, epoll with timerLead 200 µs vs the doorbell",
      ours: pct(lead, 0.5),
      anchor: pct(bell, 0.5),
      anchorName: "doorbell",
      unit: "µs",
      better: "lower",
      target: "≤ 30 µs",
    });
  }

  const N1 = quick ? 2000 : 20000, N100 = quick ? 200 : 2000;
  const c = await cAnchor();
  // every backend that runs here, beside Deno, node:net and the C epoll anchor, in one run
  const backends = ["io_uring", "epoll", "poll", "select"] as const;
  const reactors = new Map(
    backends.map((
      b,
    ) => [b, b === sharedReactor().backend ? sharedReactor() : new Reactor({ backend: b })]),
  );
  // Rounds alternate every stack, and each figure is the median of its rounds: this VM's speed
  // drifts by tens of percent over a minute, which a single pass in sequence would mistake for
  // a difference between stacks.
  const rounds = quick ? 1 : 3;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const bunEcho = `${anchors}/echo_bun.mjs`;
  for (const [C, N] of [[1, N1], [100, N100]]) {
    const runs = new Map<string, number[]>();
    const record = (k: string, v: number) => runs.set(k, [...(runs.get(k) ?? []), v]);
    for (let round = 0; round < rounds; round++) {
      const args = [String(C), String(N), "16"];
      record("deno", await anchor(deno, ["run", "-A", anchorDeno, ...args]));
      record("node", await anchor("node", [anchorNode, ...args]));
      if (bun) record("bun", await anchor(bun, [bunEcho, ...args]));
      if (c) record("c", await anchor(c, args));
      record("public", await echoPublic(C, N, 16));
      for (const b of backends) record(b, await echoOurs(reactors.get(b)!, C, N, 16));
      progress(`${C}-conn echo, round ${round + 1} of ${rounds}`);
    }
    const med = (k: string) => runs.has(k) ? median(runs.get(k)!) : undefined;
    const row = (name: string, ours: number, anchorName: string, value: number, target = ""): Row =>
      C === 1
        ? {
          name: `1-conn 16 B RTT, ${name}`,
          ours: 1e6 / ours,
          anchor: 1e6 / value,
          anchorName,
          unit: "µs",
          better: "lower",
          target,
        }
        : {
          name: `100-conn 16 B echo, ${name}`,
          ours,
          anchor: value,
          anchorName,
          unit: "msgs/s",
          better: "higher",
          target,
        };
    const goals: Record<string, string> = C === 1
      ? { "Bun.listen/connect": "≤ 1.0× Bun", "C epoll (1 thread)": "≤ 1.25× C epoll" }
      : { "Deno.connect/listen": "≥ 2.0× Deno", "Bun.listen/connect": "≥ 1.5× Bun" };
    const named: [string, string][] = [
      ["deno", "Deno.connect/listen"],
      ["node", "node:net"],
      ["bun", "Bun.listen/connect"],
      ["c", "C epoll (1 thread)"],
    ];
    const pub = med("public")!;
    for (const [k, anchorName] of named) {
      const v = med(k);
      if (v !== undefined) {
        rows.push(
          row(`TcpStream (${sharedReactor().backend})`, pub, anchorName, v, goals[anchorName]),
        );
      }
    }
    for (const b of backends) {
      rows.push(row(`raw ops (${b})`, med(b)!, "Deno.connect/listen", med("deno")!));
    }
  }
  // bulk and UDP through the public API, beside Deno's own
  {
    const total = quick ? 2 ** 27 : 2 ** 30;
    const bulk: number[] = [], bulkDeno: number[] = [], bulkMulti: number[] = [];
    const udp: number[] = [], udpDeno: number[] = [];
    const K = 16, NU = quick ? 500 : 5000;
    for (let round = 0; round < rounds; round++) {
      bulkDeno.push(
        await anchor(
          deno,
          ["run", "-A", `${anchors}/bulk_deno_native.ts`, String(total), "65536"],
          "bytes/s",
        ),
      );
      bulk.push(await bulkPublic(total, 65536));
      bulkMulti.push(await bulkPublic(total, 65536, true));
      udpDeno.push(
        await anchor(deno, [
          "run",
          "-A",
          "--unstable-net",
          `${anchors}/udp_deno_native.ts`,
          String(K),
          String(NU),
        ], "rtt/s"),
      );
      udp.push(await udpPublic(K, NU));
      progress(`bulk and UDP, round ${round + 1} of ${rounds}`);
    }
    rows.push({
      name: `${total >= 2 ** 30 ? "1 GiB" : "128 MiB"} in 64 KiB writes, one TcpStream`,
      ours: median(bulk),
      anchor: median(bulkDeno),
      anchorName: "Deno.connect/listen",
      unit: "B/s",
      better: "higher",
      target: "≥ 1.3× Deno",
    });
    rows.push({
      name: `${total >= 2 ** 30 ? "1 GiB" : "128 MiB"} in 64 KiB writes, received by chunks()`,
      ours: median(bulkMulti),
      anchor: median(bulkDeno),
      anchorName: "Deno.connect/listen",
      unit: "B/s",
      better: "higher",
    });
    rows.push({
      name: "UDP ping-pong, 16 senders, UdpSocket",
      ours: median(udp),
      anchor: median(udpDeno),
      anchorName: "Deno.listenDatagram",
      unit: "rtt/s",
      better: "higher",
      target: "≥ 2× Deno",
    });
  }
  if (Deno.build.os === "linux") { // examples/proxy.ts: splice through a pipe vs read/write
    const total = quick ? 2 ** 27 : 2 ** 30;
    const { splice, copy } = await benchProxy(total, rounds);
    progress("proxy, splice and read/write");
    const size = total >= 2 ** 30 ? "1 GiB" : "128 MiB";
    rows.push({
      name: `${size} through examples/proxy.ts, splice`,
      ours: splice.rate,
      anchor: copy.rate,
      anchorName: "proxy.ts --copy (read/write)",
      unit: "B/s",
      better: "higher",
    });
    rows.push({
      name: `proxy CPU per GiB (user + system), splice`,
      ours: splice.cpuPerGiB * 1e3,
      anchor: copy.cpuPerGiB * 1e3,
      anchorName: "proxy.ts --copy (read/write)",
      unit: "ms",
      better: "lower",
    });
  }
  for (const r of reactors.values()) if (r !== sharedReactor()) await r.close();
  { // using every core: one reactor per Worker, reusePort listeners, a C load generator
    const { one, two } = await benchPool(quick);
    progress("WorkerPool echo, 1 and 2 Workers");
    rows.push({
      name: "100-conn 16 B echo, WorkerPool of 2 (C load generator)",
      ours: two,
      anchor: one,
      anchorName: "WorkerPool of 1",
      unit: "msgs/s",
      better: "higher",
      target: "≥ 1.6× 1 Worker",
    });
  }

  for (const t of await benchTimers()) {
    const target = t.name.includes("p99")
      ? "≤ 0.2× setTimeout"
      : t.name.includes("100")
      ? "≤ 1.0× setTimeout"
      : "";
    rows.push({ ...t, anchorName: "setTimeout", target });
  }
  console.log(table(rows));
  const svg = `${root}docs/bench.svg`;
  if (!quick) {
    Deno.writeTextFileSync(
      svg,
      chart(rows, `ario beside its anchors, one run (${new Date().toISOString().slice(0, 10)})`),
    );
    console.error(`wrote ${svg}`);
  }
  Deno.exit(0);
}
