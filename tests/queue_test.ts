// The submission queue under attack: tickets that outlive their op, aborts racing completions,
// chains from different callers in one tick, batches and tables too small, malformed fields,
// callbacks that throw, and a C table full of waits that never complete.
import assert from "node:assert/strict";
import {
  Async,
  constants,
  multi,
  op,
  Reactor,
  sharedReactor,
  single,
  TcpListener,
  TcpStream,
} from "../mod.ts";
import { pipe, tcpPair, text } from "./_helpers.ts";
import { OP } from "../ffi/layout.ts";

const ECANCELED = -constants.ECANCELED;
const code = (c: string) => (e: Error & { code?: string }) => e.code === c;

Deno.test("aborting a batch after one of its ops finished cancels nothing of another caller's", async () => {
  for (let trial = 0; trial < 20; trial++) {
    const [r1, w1] = pipe();
    const [r2, w2] = pipe();
    const ac = new AbortController();
    const mine = multi([op.nop(), op.read(r1, new Uint8Array(4))], { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 0)); // the NOP completed: its id is free again
    const theirs = single(op.read(r2, new Uint8Array(4))); // likely takes that id
    await new Promise((r) => setTimeout(r, 0));
    ac.abort(new Error("stop"));
    const [nop, read] = await mine; // the NOP happened: the batch resolves, its read is cancelled
    assert.equal(nop, undefined);
    assert.equal((read as Error & { code: string }).code, "ECANCELED");
    await single(op.write(w2, text("abcd")));
    assert.equal(await theirs, 4, `trial ${trial}: another caller's read was cancelled`);
    for (const fd of [r1, w1, r2, w2]) await single(op.close(fd));
  }
});

Deno.test("op.cancel() of an op that already completed is ENOENT and touches no other op", async () => {
  const [r, w] = pipe();
  const done = op.nop();
  await single(done);
  const other = single(op.read(r, new Uint8Array(2))); // may reuse the finished op's id
  await new Promise((res) => setTimeout(res, 0));
  await assert.rejects(single(op.cancel(done)), code("ENOENT"));
  await single(op.write(w, text("hi")));
  assert.equal(await other, 2);
  await single(op.close(r));
  await single(op.close(w));
});

Deno.test("an abort racing the data never throws received bytes away", async () => {
  const [c, s] = await tcpPair();
  const sender = new Reactor({ entries: 16 }); // its completions are reaped apart from the recv's
  const sent = 400;
  let got = 0, aborted = 0;
  for (let i = 0; i < sent; i++) {
    const ac = new AbortController();
    const buf = new Uint8Array(1);
    const p = single(op.recv(s, buf), { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 0)); // the recv waits in C
    await single(op.send(c, new Uint8Array([i & 0xff])), { reactor: sender });
    // the byte has arrived; the recv may have completed in C but not yet reached JS
    ac.abort(new Error("late"));
    try {
      assert.equal(await p, 1);
      assert.equal(buf[0], i & 0xff);
      got++;
    } catch (e) {
      assert.match(String(e), /late/);
      aborted++;
      // the byte was not consumed: the next read returns it
      const again = new Uint8Array(1);
      const n = await single(op.recv(s, again), { signal: AbortSignal.timeout(2000) });
      assert.equal(n, 1, `trial ${i}: the byte was consumed by the aborted recv`);
      assert.equal(again[0], i & 0xff);
      got++;
    }
  }
  assert.equal(got, sent, `${aborted} aborted`);
  await sender.close();
  await single(op.close(c));
  await single(op.close(s));
});

Deno.test("an abort in the tick of submission: the op is cancelled before it runs, or its result is kept", async () => {
  const [c, s] = await tcpPair();
  for (let i = 0; i < 50; i++) {
    await single(op.send(c, new Uint8Array([i])));
    await new Promise((r) => setTimeout(r, 1)); // the byte is readable before the recv starts
    const ac = new AbortController();
    const buf = new Uint8Array(1);
    const p = single(op.recv(s, buf), { signal: ac.signal });
    ac.abort(new Error("now"));
    const n = await p.catch((e) => (assert.match(String(e), /now/), 0));
    if (n === 0) {
      assert.equal(await single(op.recv(s, buf), { signal: AbortSignal.timeout(2000) }), 1);
    }
    assert.equal(buf[0], i, `trial ${i}: the byte was lost`);
  }
  await single(op.close(c));
  await single(op.close(s));
});

Deno.test("a batch left open at its end fails alone: it never chains into another caller's ops", async () => {
  const [open] = await Promise.all([
    multi([op.timeout(1, { link: "soft" })]),
    single(op.nop()), // the same tick: must run, not be cancelled by the chain above
  ]);
  assert.ok(open[0] instanceof Error && (open[0] as Error & { code: string }).code === "EINVAL");
  const [a, b, c] = await multi([op.nop(), op.nop({ link: "soft" }), op.nop({ link: "hard" })]);
  assert.equal(a, undefined);
  assert.equal((b as Error & { code: string }).code, "ECANCELED");
  assert.equal((c as Error & { code: string }).code, "EINVAL");
  assert.equal(sharedReactor().pending, 0);
});

Deno.test("more unlinked ops than the table holds queue; only a chain longer than it is refused", async () => {
  const r = new Reactor({ entries: 16 });
  const results = await multi(Array.from({ length: 100 }, () => op.nop()), { reactor: r });
  assert.equal(results.length, 100);
  assert.ok(results.every((x) => x === undefined));
  const chain = Array.from({ length: 17 }, (_, k) => op.nop(k < 16 ? { link: "soft" } : {}));
  await assert.rejects(multi(chain, { reactor: r }), RangeError);
  const fits = Array.from({ length: 16 }, (_, k) => op.nop(k < 15 ? { link: "soft" } : {}));
  assert.equal((await multi(fits, { reactor: r })).length, 16);
  await r.close();
});

Deno.test("numbers are checked at the edge: a TypeError or RangeError names the field", async () => {
  const buf = new Uint8Array(1);
  assert.throws(() => op.read(2 ** 32 + 1, buf), /fd/);
  assert.throws(() => op.read(NaN, buf), TypeError);
  for (const offset of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => op.read(0, buf, { offset }), /offset/);
    assert.throws(() => op.write(1, buf, { offset }), /offset/);
  }
  assert.throws(() => op.timeout(2 ** 64 / 1e6), /ms/); // 2^64 ns would wrap to a short timer
  const r = sharedReactor();
  for (const ns of [NaN, -1, 1.5, 2n ** 64n, -1n]) {
    await assert.rejects(r.timeout(ns), RangeError);
  }
  await assert.rejects(r.timeout(1000, { count: -1 }), /count/);
  const bad: [string, Record<string, unknown>][] = [
    ["op", { op: 300, fd: -1 }],
    ["op", { op: 1.5, fd: -1 }],
    ["fd", { op: OP.NOP, fd: 2 ** 32 }],
    ["fd", { op: OP.NOP, fd: NaN }],
    ["flags", { op: OP.NOP, fd: -1, flags: 256 }],
    ["len", { op: OP.NOP, fd: -1, len: -1 }],
    ["len", { op: OP.NOP, fd: -1, len: 2 ** 32 }],
    ["opFlags", { op: OP.NOP, fd: -1, opFlags: 0.5 }],
    ["off", { op: OP.NOP, fd: -1, off: -1 }],
    ["off", { op: OP.NOP, fd: -1, off: 2n ** 64n }],
    ["addr", { op: OP.NOP, fd: -1, addr: -8 }],
  ];
  for (const [field, raw] of bad) {
    assert.throws(() => r.rawCallback(raw as never, () => {}), new RegExp(field), field);
    assert.throws(() => r.submitRaw([raw as never], [() => {}]), new RegExp(field), field);
  }
  assert.throws(() => new Async(2 ** 32 + 1), TypeError);
  assert.equal(r.pending, 0);
});

Deno.test("submitRaw() with fewer callbacks than ops throws and registers nothing", () => {
  const r = sharedReactor();
  const before = r.pending;
  assert.throws(
    () => r.submitRaw([{ op: OP.NOP, fd: -1 }, { op: OP.NOP, fd: -1 }], [() => {}]),
    TypeError,
  );
  assert.equal(r.pending, before);
});

Deno.test("a completion callback that throws loses none of the other completions", async () => {
  const r = new Reactor({ entries: 16 });
  const reported: unknown[] = [];
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    reported.push(e.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    const seen: number[] = [];
    const all = new Promise<void>((resolve) => {
      const ops = Array.from({ length: 8 }, () => ({ op: OP.NOP, fd: -1 }));
      r.submitRaw(
        ops,
        ops.map((_, k) => () => {
          seen.push(k);
          if (k % 3 === 0) throw new Error(`boom ${k}`);
          if (seen.length === 8) resolve();
        }),
      );
    });
    await all;
    assert.deepEqual(seen.sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
    await new Promise((res) => setTimeout(res, 0));
    assert.equal(reported.length, 3);
    assert.equal(r.pending, 0);
    assert.equal(await r.timeout(1000), -constants.ETIME); // the reactor still works
  } finally {
    globalThis.removeEventListener("error", onError);
    await r.close();
  }
});

Deno.test("a full table of idle reads: writes, cancels, aborts and close() still get through", async () => {
  const entries = 16;
  const r = new Reactor({ entries });
  const idle: [number, number][] = [];
  const reads: Promise<unknown>[] = [];
  for (let k = 0; k < entries + 8; k++) { // more idle reads than the table holds
    const p = pipe();
    idle.push(p);
    reads.push(single(op.read(p[0], new Uint8Array(1)), { reactor: r }).catch((e) => e));
  }
  await new Promise((res) => setTimeout(res, 5));
  // active traffic elsewhere
  const [c, s] = await tcpPair();
  for (let i = 0; i < 20; i++) {
    const msg = new Uint8Array([i]);
    await single(op.send(c, msg), { reactor: r });
    const got = new Uint8Array(1);
    assert.equal(await single(op.recv(s, got), { reactor: r }), 1);
    assert.equal(got[0], i);
  }
  // an abort of a read that waits in C and of one that waits in JS
  const ac = new AbortController();
  const extra = pipe();
  const aborted = single(op.read(extra[0], new Uint8Array(1)), { reactor: r, signal: ac.signal });
  ac.abort(new Error("aborted"));
  await assert.rejects(aborted, /aborted/);
  // a cancel by fd of an idle read
  assert.equal(await single(op.cancel({ fd: idle[0][0] }), { reactor: r }), 1);
  assert.equal(((await reads[0]) as Error & { code: string }).code, "ECANCELED");
  // every idle read still completes once its data comes
  for (let k = 1; k < idle.length; k++) {
    await single(op.write(idle[k][1], text("x")), { reactor: r });
  }
  const results = await Promise.all(reads.slice(1));
  assert.ok(results.every((x) => x === 1), JSON.stringify(results));
  await r.close();
});

Deno.test("a cancel of an op still waiting in JS completes it there, once", async () => {
  const r = new Reactor({ entries: 4 });
  const pipes = Array.from({ length: 10 }, () => pipe());
  const settled: unknown[] = [];
  const tickets = pipes.map(([fd]) =>
    r.rawCallback(
      { op: OP.READ, fd, addr: new Uint8Array(1), len: 1, off: 2n ** 64n - 1n },
      (res) => settled.push(res),
    )
  );
  r.cancel(tickets[9]); // the last one never reached C
  await new Promise((res) => setTimeout(res, 5));
  assert.deepEqual(settled, [ECANCELED]);
  r.cancel(tickets[9]); // its ticket now names nothing
  await new Promise((res) => setTimeout(res, 5));
  assert.deepEqual(settled, [ECANCELED]);
  await r.close();
  assert.equal(settled.length, 10);
});

/** Reads the soft limit of open files. */
function fdLimit(): number {
  const m = Deno.readTextFileSync("/proc/self/limits").match(/Max open files\s+(\d+)/);
  return m ? Number(m[1]) : 1024;
}

Deno.test({
  name: "10 000 idle TCP connections and active traffic on the default reactor (epoll, io_uring)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // select watches fds below FD_SETSIZE only; poll scans every fd per wait (slow, not wedged)
    const backend = sharedReactor().backend;
    if (backend === "select") return;
    const want = Math.min(backend === "poll" ? 2_000 : 10_000, fdLimit() - 200);
    const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
    // the idle clients live in another process, so this one holds one fd per connection
    const py = `import socket,sys,time
n=int(sys.argv[2]);port=int(sys.argv[1]);s=[]
for i in range(n):
  c=socket.create_connection(("127.0.0.1",port));s.append(c)
print("ready",flush=True);sys.stdin.read()`;
    const child = new Deno.Command("python3", {
      args: ["-c", py, String(l.localAddr.port), String(want)],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const conns: TcpStream[] = [];
    const reads: Promise<number | null>[] = [];
    for (let k = 0; k < want; k++) {
      const conn = await l.accept();
      conns.push(conn);
      reads.push(conn.read(new Uint8Array(16)).catch(() => -1));
    }
    const out = child.stdout.getReader();
    assert.match(new TextDecoder().decode((await out.read()).value), /ready/);
    // active traffic on a new connection while every idle read waits
    const active = await TcpStream.connect(l.localAddr);
    const peer = await l.accept();
    const buf = new Uint8Array(5);
    for (let i = 0; i < 50; i++) {
      await active.write(text("ping!"));
      let got = 0;
      while (got < 5) got += (await peer.read(buf.subarray(got)))!;
      assert.equal(new TextDecoder().decode(buf), "ping!");
    }
    active.close();
    peer.close();
    // closing the clients ends every idle read with end of stream
    const w = child.stdin.getWriter();
    await w.close();
    await child.status;
    const ends = await Promise.all(reads);
    assert.ok(ends.every((x) => x === null), "every idle read saw end of stream");
    for (const c of conns) c.close();
    l.close();
    out.releaseLock();
    await child.stdout.cancel();
  },
});

Deno.test("entries above the C table's maximum are refused up front", async () => {
  assert.throws(() => new Reactor({ entries: 65519 }), RangeError);
  const r = new Reactor({ entries: 65518, backend: "epoll" });
  assert.equal(r.entries, 65518);
  await r.close();
});

Deno.test("a wait taken back from a full table is never run again after its fd was closed", async () => {
  const r = new Reactor({ entries: 4 });
  for (let round = 0; round < 5; round++) {
    const pipes = Array.from({ length: 12 }, () => pipe());
    const reads = pipes.map(([fd]) =>
      single(op.read(fd, new Uint8Array(8)), { reactor: r }).then((n) => n, (e) => e.code)
    );
    await new Promise((res) => setTimeout(res, 25 + round * 10)); // turns are being taken
    for (const [rd, wr] of pipes) {
      r.closeFd(rd);
      r.closeFd(wr);
    }
    // new pipes take the numbers back; their bytes belong to nobody above
    const fresh = Array.from({ length: 12 }, () => pipe());
    for (const [, wr] of fresh) await single(op.write(wr, text("intruder")), { reactor: r });
    assert.deepEqual(await Promise.all(reads), new Array(12).fill("ECANCELED"), `round ${round}`);
    for (const [rd, wr] of fresh) {
      assert.equal(await single(op.read(rd, new Uint8Array(8)), { reactor: r }), 8);
      r.closeFd(rd);
      r.closeFd(wr);
    }
  }
  await r.close();
});
