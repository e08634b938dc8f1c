// The seeded suite: the TS layer (streams, writeAll, listeners, UDP, timers,
// abort, multi batches with links) through the public API on the `sim`
// backend, which reorders, delays and fakes readiness and injects the
// faults real kernels produce (short reads and writes, EAGAIN, EINTR, a
// full table; ECONNRESET and EPIPE in the second test). Each seed checks
// end-to-end invariants: no byte lost, duplicated or reordered, each op
// settles once, timers never early, nothing hangs.
//
// Runs only with ARIO_BACKEND=sim (skipped otherwise):
//   ARIO_BACKEND=sim deno test -A tests/sim_test.ts
// Env: ARIO_SIM_SEEDS (seeds per test, default 60: ~20 s here), ARIO_SIM_SEED_BASE
// (first seed, default 1), ARIO_SIM_SEED (replay that one seed only),
// ARIO_SIM_FAULTS (the C backend's fault list; see csrc/backend/sim.c),
// ARIO_SIM_SKIP (workloads to leave out, comma-separated), ARIO_SIM_ENTRIES
// (the reactor's entries; default 64, 256 or 4096 by seed),
// ARIO_SIM_MAX_FAILURES (failing seeds before a test stops, default 3).
// A failure prints the seed and the command that replays it; scripts/sim.sh
// runs thousands of seeds. Replay is exact for the sim's decisions given the
// same sequence of questions (one PRNG stream per reactor); loopback timing,
// the doorbell thread and the real monotonic clock (timers are not
// simulated) can change that sequence, so a timing-sensitive failure may
// take a few replays, or a profile that makes it likely (ARIO_SIM_FAULTS).
import assert from "node:assert/strict";
import {
  Async,
  constants,
  type IoError,
  multi,
  op,
  Reactor,
  ReactorClock,
  single,
  type StreamSocket,
  TcpListener,
  TcpStream,
  Timer,
  UdpSocket,
  UnixStream,
} from "../mod.ts";
import { load } from "../ffi/load.ts";
import { encodeAddr } from "../addr.ts";

const enabled = Deno.env.get("ARIO_BACKEND") === "sim";
const replay = Deno.env.get("ARIO_SIM_SEED");
const SEEDS = Number(Deno.env.get("ARIO_SIM_SEEDS") ?? 60);
const BASE = Number(Deno.env.get("ARIO_SIM_SEED_BASE") ?? 1);
const userFaults = Deno.env.get("ARIO_SIM_FAULTS");
const ENTRIES = Deno.env.get("ARIO_SIM_ENTRIES")
  ? Number(Deno.env.get("ARIO_SIM_ENTRIES"))
  : undefined;
const RESET_FAULTS = "shuffle,delay,spurious,short,eagain,eintr,table,reset=0.03";
const SEED_TIMEOUT_MS = 20_000;
const MAX_FAILURES = Number(Deno.env.get("ARIO_SIM_MAX_FAILURES") ?? 3); // then stop

if (!enabled) {
  console.log("sim_test: skipped (runs with ARIO_BACKEND=sim)");
}

/** The seeds a test runs: the replayed one, or BASE..BASE+SEEDS-1. */
function seeds(): number[] {
  if (replay !== undefined) return [Number(replay)];
  return Array.from({ length: SEEDS }, (_, k) => BASE + k);
}

// ------------------------------------------------------------ randomness --

/** A small seeded PRNG (mulberry32) per task, so tasks draw independently. */
class Rng {
  #s: number;
  constructor(seed: number, stream: number) {
    this.#s = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
  }
  u32(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0..n-1 */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      b[i] = v;
      if (i + 1 < n) b[i + 1] = v >>> 8;
      if (i + 2 < n) b[i + 2] = v >>> 16;
      if (i + 3 < n) b[i + 3] = v >>> 24;
    }
    return b;
  }
}

/** Yields for a random while: nothing, a microtask, or a macrotask. */
function pause(rng: Rng): Promise<void> | undefined {
  const k = rng.int(4);
  if (k === 0) return undefined;
  if (k === 1) return Promise.resolve();
  return new Promise((r) => setTimeout(r, 0));
}

function noop(): void {}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Index of the first difference, or -1. */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

// -------------------------------------------------------------- checking --

interface Ctx {
  seed: number;
  r: Reactor;
  reset: boolean; // ECONNRESET/EPIPE injected: connections may end early
  resets: number; // errors the reset faults surfaced
  pending: Set<string>; // tasks not yet done, for a hang report
}

/** What a reset may surface as: the injected errno, or its consequences. */
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ENOTCONN"]);

/** Under reset faults: e must be an errno error naming the op (or a close it caused). */
function checkResetError(ctx: Ctx, e: unknown, where: string): void {
  const io = e as IoError;
  if (!ctx.reset || !(e instanceof Error)) throw e;
  const closed = e instanceof Deno.errors.BadResource &&
    (io.code === "ECANCELED" || io.code === "EBADF");
  if (!closed && !RESET_CODES.has(io.code)) throw e;
  if (!closed) {
    assert.ok(typeof io.op === "string" && io.op.length > 0, `${where}: error names no op`);
    assert.ok(e.message.includes(io.op), `${where}: message "${e.message}" lacks the op`);
    ctx.resets++;
  }
}

async function track<T>(ctx: Ctx, name: string, p: () => Promise<T>): Promise<T> {
  ctx.pending.add(name);
  try {
    return await p();
  } finally {
    ctx.pending.delete(name);
  }
}

// ------------------------------------------------------------- workloads --

type Reader = Async & { readable: ReadableStream<Uint8Array> };

/**
 * Writes `data` to `w` in random pieces (writeAll), then ends the stream;
 * reads `rd` to the end through read() (with random aborts), the readable
 * stream, or a BYOB reader. Checks the bytes end to end.
 */
async function transfer(
  ctx: Ctx,
  name: string,
  w: Async,
  rd: Reader,
  data: Uint8Array,
  rngW: Rng,
  rngR: Rng,
  via: "read" | "readable" | "byob",
  end: () => Promise<void>,
): Promise<void> {
  let failed = false;
  const writer = track(ctx, `${name}:write`, async () => {
    try {
      let off = 0;
      while (off < data.length) {
        const n = Math.min(data.length - off, 1 + rngW.int(rngW.chance(0.5) ? 512 : 65536));
        await w.writeAll(data.subarray(off, off + n));
        off += n;
        await pause(rngW);
      }
      await end();
    } catch (e) {
      checkResetError(ctx, e, `${name} write`);
      failed = true;
      w.close();
    }
  });
  const got: Uint8Array[] = [];
  const reader = track(ctx, `${name}:read(${via})`, async () => {
    try {
      if (via === "read") {
        for (;;) {
          const buf = new Uint8Array(1 + rngR.int(rngR.chance(0.5) ? 64 : 70000));
          let n: number | null;
          if (rngR.chance(0.3)) {
            // an abort at a random point: before the flush, after it, later
            const ac = new AbortController();
            const reason = new Error("sim abort");
            const p = rd.read(buf, { signal: ac.signal });
            const when = rngR.int(4);
            if (when === 0) ac.abort(reason);
            else if (when === 1) queueMicrotask(() => ac.abort(reason));
            else setTimeout(() => ac.abort(reason), when === 2 ? 0 : 1);
            try {
              n = await p;
            } catch (e) {
              if (e === reason) continue; // cancelled: nothing was consumed
              throw e;
            }
          } else {
            n = await rd.read(buf);
          }
          if (n === null) break;
          assert.ok(n > 0 && n <= buf.length, `${name}: read returned ${n} for ${buf.length}`);
          got.push(buf.slice(0, n));
        }
      } else if (via === "readable") {
        for await (const chunk of rd.readable) got.push(chunk.slice());
      } else {
        const rdr = rd.readable.getReader({ mode: "byob" });
        for (;;) {
          const { value, done } = await rdr.read(new Uint8Array(1 + rngR.int(40000)));
          if (done) break;
          got.push(value.slice());
        }
        rdr.releaseLock();
      }
    } catch (e) {
      checkResetError(ctx, e, `${name} read`);
      failed = true;
      rd.close();
    }
  });
  await Promise.all([writer, reader]);
  const all = concat(got);
  const at = firstDiff(all, data);
  if (failed) {
    // a connection that ended: what was read is a prefix of what was sent
    assert.ok(all.length <= data.length, `${name}: read ${all.length} > sent ${data.length}`);
    assert.equal(firstDiff(all, data.subarray(0, all.length)), -1, `${name}: not a prefix`);
  } else {
    assert.equal(
      at,
      -1,
      `${name}: ${all.length} of ${data.length} bytes read, first difference at ${at}`,
    );
  }
}

async function tcpWorkload(ctx: Ctx, rng: Rng): Promise<void> {
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { reactor: ctx.r });
  const [client, server] = await Promise.all([
    TcpStream.connect({ hostname: "127.0.0.1", port: l.localAddr.port }, { reactor: ctx.r }),
    l.accept(),
  ]);
  l.close();
  const up = rng.bytes(rng.int(rng.chance(0.3) ? 300_000 : 5000));
  const down = rng.bytes(rng.int(rng.chance(0.3) ? 300_000 : 5000));
  const vias = ["read", "readable", "byob"] as const;
  await Promise.all([
    transfer(
      ctx,
      "tcp up",
      client,
      server,
      up,
      new Rng(ctx.seed, 10),
      new Rng(ctx.seed, 11),
      vias[rng.int(3)],
      () => client.closeWrite(),
    ),
    transfer(
      ctx,
      "tcp down",
      server,
      client,
      down,
      new Rng(ctx.seed, 12),
      new Rng(ctx.seed, 13),
      vias[rng.int(3)],
      () => server.closeWrite(),
    ),
  ]);
  client.close();
  server.close();
}

async function unixWorkload(ctx: Ctx, rng: Rng): Promise<void> {
  const [a, b] = UnixStream.pair({ reactor: ctx.r });
  const data = rng.bytes(rng.int(rng.chance(0.3) ? 400_000 : 3000));
  await transfer(
    ctx,
    "unix",
    a,
    b,
    data,
    new Rng(ctx.seed, 20),
    new Rng(ctx.seed, 21),
    "read",
    () => (a as StreamSocket).closeWrite(),
  );
  a.close();
  b.close();
}

async function pipeWorkload(ctx: Ctx, rng: Rng): Promise<void> {
  const [rd, w] = Async.pipe({ reactor: ctx.r });
  const data = rng.bytes(rng.int(rng.chance(0.3) ? 300_000 : 3000));
  await transfer(
    ctx,
    "pipe",
    w,
    rd,
    data,
    new Rng(ctx.seed, 30),
    new Rng(ctx.seed, 31),
    rng.chance(0.7) ? "read" : "readable",
    () => Promise.resolve(w.close()),
  );
  rd.close();
}

/** Datagrams, sent in one burst: each arrives at most once, intact. */
async function udpWorkload(ctx: Ctx, rng: Rng): Promise<void> {
  const a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 }, { reactor: ctx.r });
  const b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 }, { reactor: ctx.r });
  const k = 1 + rng.int(40);
  const sent: Uint8Array[] = [];
  for (let i = 0; i < k; i++) {
    const d = new Uint8Array(8 + rng.int(1400));
    new DataView(d.buffer).setUint32(0, i);
    new DataView(d.buffer).setUint32(4, d.length);
    d.set(new Rng(ctx.seed, 1000 + i).bytes(d.length - 8), 8);
    sent.push(d);
  }
  const to = { hostname: "127.0.0.1", port: b.localAddr.port };
  const sends = Promise.all(sent.map((d) => a.sendTo(d, to)));
  sends.catch(noop); // awaited below; handled if a check fails first
  const seen = new Set<number>();
  const buf = new Uint8Array(2048);
  while (seen.size < k) {
    let got;
    try {
      got = await b.recvFrom(buf, { signal: AbortSignal.timeout(2000) });
    } catch (e) {
      if ((e as Error).name === "TimeoutError") break; // loss is allowed, duplicates are not
      throw e;
    }
    assert.ok(got.n >= 8, `udp: ${got.n}-byte datagram`);
    const dv = new DataView(buf.buffer);
    const i = dv.getUint32(0), len = dv.getUint32(4);
    assert.ok(i < k, `udp: datagram index ${i}`);
    assert.ok(!seen.has(i), `udp: datagram ${i} arrived twice`);
    seen.add(i);
    assert.equal(got.n, len, `udp: datagram ${i} is ${got.n} bytes, sent ${len}`);
    assert.equal(firstDiff(buf.subarray(0, got.n), sent[i]), -1, `udp: datagram ${i} altered`);
    assert.equal((got.addr as Deno.NetAddr).port, a.localAddr.port);
  }
  const counts = await sends;
  counts.forEach((n, i) => assert.equal(n, sent[i].length, `udp: sendTo ${i} returned ${n}`));
  a.close();
  b.close();
}

/** Timers: each fires once, never before its deadline. */
async function timerWorkload(ctx: Ctx, rng: Rng): Promise<void> {
  const clock = new ReactorClock(ctx.r);
  const n = 1 + rng.int(12);
  const fired = new Array(n).fill(0);
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const ms = rng.int(15);
    const start = clock.nowNs();
    const t = Timer.after(ms, { clock });
    const deadline = await t.then((d) => {
      fired[i]++;
      return d;
    });
    const now = clock.nowNs();
    assert.ok(deadline * 1e6 >= start + ms * 1e6 - 1, `timer ${i}: deadline before start + ${ms}`);
    assert.ok(now >= start + ms * 1e6, `timer ${i} (${ms} ms) fired ${(now - start) / 1e6} ms in`);
  }));
  await new Promise((r) => setTimeout(r, 2));
  assert.deepEqual(fired, new Array(n).fill(1), "each timer fires once");
  assert.equal(clock.size, 0, "no timer entry left");
}

type Spec =
  | { kind: "nop"; link?: "soft" | "hard" }
  | { kind: "timeout"; ms: number; link?: "soft" | "hard" }
  | { kind: "send"; len: number; link?: "soft" | "hard" }
  | { kind: "recv"; len: number; link?: "soft" | "hard" };

/**
 * multi() batches of chains (nop, timeout, send→recv) with soft and hard
 * links; the results must follow io_uring's link rules, and the bytes a
 * chain sent arrive in order. A burst of single() NOPs rides along.
 */
async function multiWorkload(ctx: Ctx, rng: Rng): Promise<void> {
  const [a, b] = UnixStream.pair({ reactor: ctx.r });
  const rounds = 1 + rng.int(4);
  for (let round = 0; round < rounds; round++) {
    const chains: Spec[][] = [];
    const nChains = 1 + rng.int(4);
    // which chain carries send→recv (none if == nChains; none under reset faults)
    const ioChain = ctx.reset ? nChains : rng.int(nChains + 1);
    for (let c = 0; c < nChains; c++) {
      const chain: Spec[] = [];
      const len = 1 + rng.int(5);
      for (let j = 0; j < len; j++) {
        if (c === ioChain && j === len - 1) {
          const n = 1 + rng.int(3000);
          chain.push({ kind: "send", len: n }, { kind: "recv", len: n });
        } else if (rng.chance(0.3)) chain.push({ kind: "timeout", ms: rng.int(3) });
        else chain.push({ kind: "nop" });
      }
      for (let j = 0; j < chain.length - 1; j++) chain[j].link = rng.chance(0.5) ? "soft" : "hard";
      chains.push(chain);
    }
    const specs = chains.flat();
    const data = rng.bytes(specs.find((s) => s.kind === "send")?.len ?? 0);
    const rbuf = new Uint8Array(data.length);
    const ops = specs.map((s) => {
      const o = { link: s.link };
      switch (s.kind) {
        case "nop":
          return op.nop(o);
        case "timeout":
          return op.timeout(s.ms, o);
        case "send":
          return op.send(a.fd, data, o);
        case "recv":
          return op.recv(b.fd, rbuf, o);
      }
    });
    const nops = rng.int(60);
    const burst = Array.from({ length: nops }, () => single(op.nop(), { reactor: ctx.r }));
    for (const p of burst) p.catch(noop);
    const results = await multi(ops, { reactor: ctx.r });
    for (const v of await Promise.all(burst)) assert.equal(v, undefined);
    let at = 0, sent = 0, received = 0;
    for (const chain of chains) {
      let broken = false;
      for (const s of chain) {
        const res = results[at++] as unknown;
        const what = `multi round ${round}: op ${at - 1} (${s.kind}, link ${s.link})`;
        if (broken) {
          assert.ok(
            res instanceof Error && (res as IoError).code === "ECANCELED",
            `${what}: ${res}`,
          );
          continue;
        }
        let failed = false;
        if (s.kind === "nop") assert.equal(res, undefined, what);
        else if (s.kind === "timeout") {
          assert.equal(res, "timeout", what);
          failed = true; // -ETIME fails a link
        } else if (s.kind === "send") {
          assert.ok(typeof res === "number" && res >= 1 && res <= s.len, `${what}: ${res}`);
          sent = res as number;
          failed = sent < s.len; // a short send breaks a soft link
        } else {
          assert.ok(typeof res === "number" && res >= 1 && res <= sent, `${what}: ${res}`);
          received = res as number;
        }
        if (failed && s.link === "soft") broken = true;
      }
    }
    // what the chain sent arrives whole and in order
    const rest = new Uint8Array(sent);
    rest.set(rbuf.subarray(0, received));
    for (let got = received; got < sent;) {
      const n = await single(op.recv(b.fd, rest.subarray(got)), { reactor: ctx.r });
      assert.ok(n > 0, "multi: end of stream while draining");
      got += n;
    }
    assert.equal(firstDiff(rest, data.subarray(0, sent)), -1, `multi round ${round}: bytes differ`);
  }
  a.close();
  b.close();
}

/**
 * An abort must reach only the ops it names: a multi() whose first op
 * already completed is aborted right after another caller's op took the
 * freed id (ids are reused last-in first-out); that op must still complete.
 */
async function abortReuseWorkload(ctx: Ctx, rng: Rng): Promise<void> {
  const [a, b] = UnixStream.pair({ reactor: ctx.r });
  const [c, d] = UnixStream.pair({ reactor: ctx.r });
  const rounds = 1 + rng.int(3);
  for (let round = 0; round < rounds; round++) {
    const ac = new AbortController();
    const reason = new Error("sim abort");
    const buf = new Uint8Array(16);
    const m = multi([op.nop(), op.recv(b.fd, buf)], { signal: ac.signal, reactor: ctx.r });
    m.catch(noop);
    await new Promise((r) => setTimeout(r, 0)); // the NOP has completed by now
    const buf2 = new Uint8Array(16);
    const victim = single(op.recv(d.fd, buf2), { reactor: ctx.r });
    victim.catch(noop);
    if (rng.chance(0.5)) await Promise.resolve();
    ac.abort(reason);
    // the NOP has usually completed by now: the batch resolves with its
    // result; if a full table kept it waiting in JS, nothing happened and the
    // batch rejects with the reason
    const out = await m.catch((e) => e);
    if (out !== reason) {
      const [nop, recv] = out as [unknown, unknown];
      assert.equal(nop, undefined, "abort/reuse: the NOP's result");
      assert.ok(
        recv instanceof Error && (recv as IoError).code === "ECANCELED",
        `abort/reuse: the aborted recv gave ${recv}`,
      );
    }
    const n = 1 + rng.int(16);
    await c.writeAll(new Uint8Array(n).fill(round + 1));
    let got;
    try {
      got = await victim;
    } catch (e) {
      throw new Error(`abort/reuse: another caller's recv was cancelled by the abort: ${e}`);
    }
    assert.ok(got >= 1 && got <= n, `abort/reuse: the other recv gave ${got}`);
    assert.ok(buf2.subarray(0, got).every((v) => v === round + 1));
    for (let left = n - got; left > 0;) left -= (await d.read(new Uint8Array(left)))!;
  }
  for (const s of [a, b, c, d]) s.close();
}

/**
 * Batches of other callers never join: a batch that ends inside a chain
 * fails (EINVAL), and the NOPs other callers staged in the same tick are not
 * cancelled by it. A batch of more unlinked ops than the reactor has
 * entries is not a chain: it queues and completes.
 */
async function batchWorkload(ctx: Ctx, rng: Rng): Promise<void> {
  for (let round = 0; round < 1 + rng.int(3); round++) {
    const lone = multi([op.timeout(1, { link: "soft" })], { reactor: ctx.r }).then(
      ([r]) => r,
      (e) => e,
    );
    const others = Array.from(
      { length: 1 + rng.int(4) },
      () => single(op.nop(), { reactor: ctx.r }),
    );
    const settled = await Promise.allSettled(others);
    settled.forEach((s, i) =>
      assert.ok(
        s.status === "fulfilled" && s.value === undefined,
        `batch: another caller's NOP ${i} was chained to an open link: ${
          s.status === "rejected" ? s.reason : s.value
        }`,
      )
    );
    const r = await lone;
    assert.ok(
      r instanceof Error && ((r as IoError).code === "EINVAL" || !(r as IoError).code),
      `batch: a batch ending in a link gave ${r}, not EINVAL`,
    );
  }
  if (rng.chance(0.5)) {
    const n = ctx.r.entries + 1 + rng.int(32);
    let res;
    try {
      res = await multi(Array.from({ length: n }, () => op.nop()), { reactor: ctx.r });
    } catch (e) {
      throw new Error(`batch: ${n} unlinked NOPs on ${ctx.r.entries} entries: ${e}`);
    }
    assert.equal(res.filter((v) => v === undefined).length, n);
  }
}

/** Reads a stream to its end through read(). */
async function readToEnd(s: Async, rng: Rng): Promise<Uint8Array> {
  const got: Uint8Array[] = [];
  for (;;) {
    const buf = new Uint8Array(1 + rng.int(rng.chance(0.5) ? 100 : 20000));
    const n = await s.read(buf);
    if (n === null) return concat(got);
    got.push(buf.slice(0, n));
  }
}

/**
 * A listener serving several clients at once (accept through incoming()):
 * each client sends its id and bytes, the server echoes them back; every
 * connection is served once and every echo is intact. Then a connect to a
 * closed port is refused, with a linked timeout that does not fire.
 */
async function serverWorkload(ctx: Ctx, rng: Rng): Promise<void> {
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { reactor: ctx.r });
  const port = l.localAddr.port;
  const k = 1 + rng.int(8);
  const served = new Set<number>();
  const handlers: Promise<void>[] = [];
  const server = track(ctx, "server:accept", async () => {
    let n = 0;
    for await (const conn of l) {
      const hr = new Rng(ctx.seed, 200 + n);
      const h = track(ctx, `server:conn${n}`, async () => {
        try {
          const all = await readToEnd(conn, hr);
          if (ctx.reset && all.length < 4) return; // the client's connection ended early
          assert.ok(all.length >= 4, `server: ${all.length}-byte request`);
          const id = new DataView(all.buffer).getUint32(0);
          assert.ok(!served.has(id), `server: client ${id} served twice`);
          served.add(id);
          await conn.writeAll(all);
          await conn.closeWrite();
        } catch (e) {
          checkResetError(ctx, e, "server");
        } finally {
          conn.close();
        }
      });
      h.catch(noop); // awaited below
      handlers.push(h);
      if (++n === k) break;
    }
  });
  const clients = Array.from({ length: k }, (_, id) =>
    track(ctx, `client${id}`, async () => {
      const cr = new Rng(ctx.seed, 300 + id);
      const c = await TcpStream.connect({ hostname: "127.0.0.1", port }, {
        reactor: ctx.r,
        timeout: 10_000,
      });
      try {
        const msg = cr.bytes(4 + cr.int(cr.chance(0.3) ? 100_000 : 2000));
        new DataView(msg.buffer).setUint32(0, id);
        await c.writeAll(msg);
        await c.closeWrite();
        const echo = await readToEnd(c, cr);
        // a reset connection echoes a prefix
        const at = firstDiff(echo, ctx.reset ? msg.subarray(0, echo.length) : msg);
        const from = echo.length >= 4 ? new DataView(echo.buffer).getUint32(0) : -1;
        assert.equal(
          at,
          -1,
          `client ${id}: echo of ${echo.length} bytes (header says client ${from}) differs ` +
            `from the ${msg.length} sent at byte ${at}`,
        );
      } catch (e) {
        checkResetError(ctx, e, `client ${id}`);
      } finally {
        c.close();
      }
    }));
  await Promise.all([server, ...clients]);
  await Promise.all(handlers);
  l.close();
  if (!ctx.reset) assert.equal(served.size, k, `server: ${served.size} of ${k} clients served`);
  // A refused connect. Not to the closed listener's port: another workload's listener may
  // have been given that number by now (seen: a LISTEN socket made a moment before).
  const closed = closedPort();
  try {
    const c = await TcpStream.connect({ hostname: "127.0.0.1", port: closed.port }, {
      reactor: ctx.r,
      timeout: 10_000,
    });
    c.close();
    assert.fail("connect to a closed port succeeded");
  } catch (e) {
    assert.ok(e instanceof Deno.errors.ConnectionRefused, `refused connect gave ${e}`);
  } finally {
    closed.release();
  }
}

/** A TCP port held by a socket that is bound and never listens: connects there are refused. */
function closedPort(): { port: number; release(): void } {
  const lib = load();
  const fd = lib.ario_socket(constants.AF_INET, constants.SOCK_STREAM, 0);
  assert.ok(fd >= 0, `socket: ${fd}`);
  const sa = encodeAddr({ hostname: "127.0.0.1", port: 0 });
  assert.equal(lib.ario_bind(fd, sa, sa.length), 0);
  const out = new Uint8Array(128), len = new Uint32Array([out.length]);
  assert.equal(lib.ario_getsockname(fd, out, new Uint8Array(len.buffer)), 0);
  return { port: (out[2] << 8) | out[3], release: () => void lib.ario_close(null, fd) };
}

/**
 * close() while reads wait: each settles once, BadResource (ECANCELED);
 * later ops reject EBADF; the peer's writes fail EPIPE (or ECONNRESET).
 */
async function closeWorkload(ctx: Ctx, rng: Rng): Promise<void> {
  const [a, b] = UnixStream.pair({ reactor: ctx.r });
  const n = 1 + rng.int(4);
  const settled = new Array(n).fill(0);
  const reads = Array.from({ length: n }, (_, i) =>
    b.read(new Uint8Array(8)).then(
      (v) => {
        settled[i]++;
        return v;
      },
      (e) => {
        settled[i]++;
        return e;
      },
    ));
  await pause(rng);
  const closed = b[Symbol.asyncDispose](); // close, and wait until it is
  for (const [i, r] of (await Promise.all(reads)).entries()) {
    assert.ok(
      r instanceof Deno.errors.BadResource && (r as IoError).code === "ECANCELED",
      `close: pending read ${i} gave ${r}`,
    );
  }
  await closed;
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(settled, new Array(n).fill(1), "close: each read settles once");
  const late = await b.read(new Uint8Array(1)).catch((e) => e);
  assert.ok(
    late instanceof Deno.errors.BadResource && (late as IoError).code === "EBADF",
    `late read: ${late}`,
  );
  // b's fd is gone (checked above). The kernel may release the socket behind it a moment later
  // (seen here: a write right after the close succeeded once in ~2000 seeds while
  // /proc/self/fd no longer listed b), so a write may land once; within 100 ms they must fail.
  let w: unknown;
  for (let tries = 0; tries < 10; tries++) {
    w = await a.write(new Uint8Array(1)).catch((e) => e);
    if (w instanceof Error) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(
    w instanceof Error && ["EPIPE", "ECONNRESET"].includes((w as IoError).code),
    `write to a closed peer gave ${w}`,
  );
  a.close();
}

// ----------------------------------------------------------------- runner --

const WORKLOADS: [string, (ctx: Ctx, rng: Rng) => Promise<void>][] = [
  ["tcp", tcpWorkload],
  ["unix", unixWorkload],
  ["pipe", pipeWorkload],
  ["udp", udpWorkload],
  ["timers", timerWorkload],
  ["multi", multiWorkload],
  ["batch", batchWorkload],
  ["abort/reuse", abortReuseWorkload],
  ["server", serverWorkload],
  ["close", closeWorkload],
];
const NO_RESET = new Set(["abort/reuse", "close"]);
/** ARIO_SIM_SKIP=batch,udp leaves workloads out (to look past a known failure). */
const SKIP = new Set((Deno.env.get("ARIO_SIM_SKIP") ?? "").split(",").filter(Boolean));

async function runSeed(seed: number, faults: string | undefined, reset: boolean): Promise<Ctx> {
  Deno.env.set("ARIO_SIM_SEED", String(seed));
  if (faults === undefined) Deno.env.delete("ARIO_SIM_FAULTS");
  else Deno.env.set("ARIO_SIM_FAULTS", faults);
  const entries = ENTRIES ?? [64, 256, 4096][seed % 3];
  const r = new Reactor({ backend: "sim", entries });
  const ctx: Ctx = { seed, r, reset, resets: 0, pending: new Set() };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settleAll: () => Promise<unknown> = () => Promise.resolve();
  try {
    const tasks = WORKLOADS
      .map(([name, fn], k) => [name, () => fn(ctx, new Rng(seed, k + 1))] as const)
      // these need their peer's writes to land, or no reset: not under reset faults
      .filter(([name]) => !SKIP.has(name) && !(reset && NO_RESET.has(name)))
      .map(([name, fn]) => track(ctx, name, fn));
    const all = Promise.all(tasks);
    settleAll = () => Promise.allSettled(tasks);
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `hang: not done after ${SEED_TIMEOUT_MS} ms (reactor pending ${r.pending}, ` +
                `in C ${load().ario_inflight(r.unsafeLoop)}): ${[...ctx.pending].join(", ")}`,
            ),
          ),
        SEED_TIMEOUT_MS,
      );
    });
    await Promise.race([all, hang]);
    return ctx;
  } finally {
    clearTimeout(timer);
    await r.close(); // cancels what a failure or a hang left in flight
    // the other workloads end (rejected) before the next seed; one that never
    // settles once its reactor is closed is reported
    let t2: ReturnType<typeof setTimeout> | undefined;
    const stuck = await Promise.race([
      settleAll().then(() => false),
      new Promise<boolean>((r) => t2 = setTimeout(() => r(true), 2000)),
    ]);
    clearTimeout(t2);
    if (stuck) {
      console.error(
        `seed ${seed}: still pending 2 s after close(): ${[...ctx.pending].join(", ")}`,
      );
    }
  }
}

function replayCommand(seed: number, faults: string | undefined, test: string): string {
  const skip = (SKIP.size ? ` ARIO_SIM_SKIP=${[...SKIP].join(",")}` : "") +
    (ENTRIES === undefined ? "" : ` ARIO_SIM_ENTRIES=${ENTRIES}`);
  const f = (faults === undefined ? "" : ` ARIO_SIM_FAULTS='${faults}'`) + skip;
  return `ARIO_BACKEND=sim ARIO_SIM_SEED=${seed}${f} node_modules/.bin/deno test -A ` +
    `tests/sim_test.ts --filter '${test}'`;
}

async function runAll(test: string, faults: string | undefined, reset: boolean): Promise<void> {
  const failures: string[] = [];
  let resets = 0;
  for (const seed of seeds()) {
    try {
      resets += (await runSeed(seed, faults, reset)).resets;
    } catch (e) {
      const msg = `seed ${seed} failed: ${(e as Error)?.stack ?? e}\n  replay: ${
        replayCommand(seed, faults, test)
      }`;
      console.error(msg);
      failures.push(msg);
      if (failures.length >= MAX_FAILURES) break;
    }
  }
  if (reset) console.log(`sim: ${resets} connection errors surfaced under reset faults`);
  assert.equal(failures.length, 0, failures.join("\n"));
}

const DEFAULT_TEST = "sim: seeded workloads under reordering, short I/O, EAGAIN, EINTR, full table";
Deno.test({
  name: DEFAULT_TEST,
  ignore: !enabled,
  sanitizeOps: false, // the hang watchdog and AbortSignal.timeout
  sanitizeResources: false,
  fn: () => runAll(DEFAULT_TEST, userFaults, false),
});

const RESET_TEST = "sim: seeded workloads under ECONNRESET and EPIPE";
Deno.test({
  name: RESET_TEST,
  ignore: !enabled,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => runAll(RESET_TEST, userFaults ?? RESET_FAULTS, true),
});

// Found by the seeded runs: when a seed fails, its reactor is closed under
// the other workloads, and a Timer on that reactor's clock neither fired nor
// rejected (every other pending op settles ECANCELED). Once, not per seed.
Deno.test({
  name: "sim: a Timer whose reactor closes settles",
  ignore: !enabled,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    Deno.env.set("ARIO_SIM_SEED", "1");
    const r = new Reactor({ backend: "sim" });
    const t = Timer.after(50, { clock: new ReactorClock(r) });
    const settled = t.then(() => "fired", () => "rejected");
    await new Promise((res) => setTimeout(res, 5));
    await r.close();
    let h: ReturnType<typeof setTimeout> | undefined;
    const out = await Promise.race([
      settled,
      new Promise((res) => h = setTimeout(() => res("pending"), 1000)),
    ]);
    clearTimeout(h);
    assert.notEqual(out, "pending", "a Timer on a closed reactor's clock never settles");
  },
});
