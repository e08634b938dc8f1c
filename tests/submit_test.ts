// The batched submit API over real loopback sockets and pipes. CI runs this
// file once per backend (ARIO_BACKEND=epoll|poll|...).
import assert from "node:assert/strict";
import { constants, multi, op, POLL, Reactor, sharedReactor, single } from "../mod.ts";
import { closeFd, pipe, str, tcpPair, text, udpSocket } from "./_helpers.ts";
import { encode, prepSocket, prepSplice, prepTee, stagedOnFd } from "../sqe.ts";
import { OFF_CURRENT, OP } from "../ffi/layout.ts";

Deno.test("single() resolves a NOP and a timeout", async () => {
  assert.equal(await single(op.nop()), undefined);
  const t0 = performance.now();
  assert.equal(await single(op.timeout(5)), "timeout");
  assert.ok(performance.now() - t0 >= 4.9);
});

Deno.test("a soft chain runs in order when every op succeeds", async () => {
  const [c, s] = await tcpPair();
  const buf = new Uint8Array(4);
  const [sent, got, nop] = await multi([
    op.send(c, text("ping"), { link: "soft" }),
    op.recv(s, buf, { link: "soft", waitAll: true }),
    op.nop(),
  ]);
  assert.deepEqual([sent, got, nop], [4, 4, undefined]);
  assert.equal(str(buf), "ping");
  closeFd(c);
  closeFd(s);
});

Deno.test("a failure in the middle of a soft chain cancels the rest", async () => {
  const r = await multi([
    op.nop({ link: "soft" }),
    op.close(987654, { link: "soft" }),
    op.nop({ link: "soft" }),
    op.nop(),
  ]);
  assert.equal(r[0], undefined);
  assert.equal((r[1] as Error & { code: string }).code, "EBADF");
  assert.ok(r[1] instanceof Deno.errors.BadResource);
  assert.equal((r[2] as Error & { code: string }).code, "ECANCELED");
  assert.equal((r[3] as Error & { code: string }).code, "ECANCELED");
});

Deno.test("a hard chain goes on after a failure", async () => {
  const r = await multi([op.close(987654, { link: "hard" }), op.nop({ link: "hard" }), op.nop()]);
  assert.equal((r[0] as Error & { code: string }).code, "EBADF");
  assert.deepEqual(r.slice(1), [undefined, undefined]);
});

Deno.test("a short read breaks a soft chain", async () => {
  const [rd, wr] = pipe();
  await single(op.write(wr, text("ab")));
  const r = await multi([op.read(rd, new Uint8Array(8), { link: "soft" }), op.nop()]);
  assert.equal(r[0], 2);
  assert.equal((r[1] as Error & { code: string }).code, "ECANCELED");
  closeFd(rd);
  closeFd(wr);
});

Deno.test("a link timeout fires: the op is cancelled, the chain broken", async () => {
  const [c, s] = await tcpPair();
  const t0 = performance.now();
  const r = await multi([
    op.recv(s, new Uint8Array(8), { link: "soft" }),
    op.linkTimeout(20, { link: "soft" }),
    op.nop(),
  ]);
  assert.ok(performance.now() - t0 >= 19.5);
  assert.equal((r[0] as Error & { code: string }).code, "ECANCELED");
  assert.equal(r[1], true);
  assert.equal((r[2] as Error & { code: string }).code, "ECANCELED");
  closeFd(c);
  closeFd(s);
});

Deno.test("a link timeout that does not fire lets the chain go on", async () => {
  const [c, s] = await tcpPair();
  const p = multi([
    op.recv(s, new Uint8Array(8), { link: "soft" }),
    op.linkTimeout(2000, { link: "soft" }),
    op.nop(),
  ]);
  await single(op.timeout(5));
  await single(op.send(c, text("late")));
  assert.deepEqual(await p, [4, false, undefined]);
  closeFd(c);
  closeFd(s);
});

Deno.test("an AbortSignal cancels a pending op and rejects with its reason", async () => {
  const [c, s] = await tcpPair();
  const ac = new AbortController();
  const p = single(op.recv(s, new Uint8Array(8)), { signal: ac.signal });
  setTimeout(() => ac.abort(new Error("stop")), 5);
  await assert.rejects(p, /stop/);
  // the socket still works
  const buf = new Uint8Array(2);
  const [, n] = await multi([op.send(c, text("ok")), op.recv(s, buf, { waitAll: true })]);
  assert.equal(n, 2);
  await assert.rejects(
    single(op.nop(), { signal: AbortSignal.abort(new Error("early")) }),
    /early/,
  );
  closeFd(c);
  closeFd(s);
});

Deno.test("op.cancel() cancels by op and by fd; ENOENT when nothing matches", async () => {
  const [c, s] = await tcpPair();
  const r1 = op.recv(s, new Uint8Array(8));
  const p1 = single(r1);
  assert.equal(await single(op.cancel(r1)), 1);
  await assert.rejects(p1, (e: Error & { code: string }) => e.code === "ECANCELED");
  const p2 = multi([op.recv(s, new Uint8Array(8)), op.recv(s, new Uint8Array(8))]);
  await single(op.nop());
  assert.equal(await single(op.cancel({ fd: s, all: true })), 2);
  const r = await p2;
  assert.ok(
    r.every((x) => x instanceof Error && (x as Error & { code: string }).code === "ECANCELED"),
  );
  await assert.rejects(single(op.cancel(r1)), (e: Error & { code: string }) => e.code === "ENOENT");
  closeFd(c);
  closeFd(s);
});

Deno.test("close() cancels what waits on the fd first", async () => {
  const [c, s] = await tcpPair();
  const [recv, closed] = await multi([op.recv(s, new Uint8Array(8)), op.close(s)]);
  assert.equal((recv as Error & { code: string }).code, "ECANCELED");
  assert.equal(closed, undefined);
  closeFd(c);
});

Deno.test("a counted timeout completes after N other completions", async () => {
  const r = await multi([op.timeout(5000, { count: 2 }), op.nop(), op.nop()]);
  assert.deepEqual(r, ["count", undefined, undefined]);
});

Deno.test("timeouts fire in deadline order, absolute ones too", async () => {
  const order: number[] = [];
  const now = Number(sharedReactor().now()) / 1e6;
  await Promise.all([
    single(op.timeout(15)).then(() => order.push(15)),
    single(op.timeout(5)).then(() => order.push(5)),
    single(op.timeout(now + 10, { absolute: true })).then(() => order.push(10)),
  ]);
  assert.deepEqual(order, [5, 10, 15]);
});

Deno.test("UDP sendTo/recvFrom report the sender", async () => {
  const a = udpSocket(), b = udpSocket();
  const buf = new Uint8Array(64);
  const [got, sent] = await multi([
    op.recvFrom(a.fd, buf),
    op.sendTo(b.fd, text("hello"), { hostname: "127.0.0.1", port: a.port }),
  ]);
  assert.equal(sent, 5);
  assert.ok(!(got instanceof Error));
  assert.equal(got.n, 5);
  assert.deepEqual(got.addr, { transport: "udp", hostname: "127.0.0.1", port: b.port });
  closeFd(a.fd);
  closeFd(b.fd);
});

Deno.test("poll() reports readiness; EOF after shutdown", async () => {
  const [c, s] = await tcpPair();
  const [mask] = await multi([op.poll(s, POLL.OUT)]);
  assert.ok((mask as number) & POLL.OUT);
  const [, n] = await multi([op.shutdown(c, "write"), op.recv(s, new Uint8Array(4))]);
  assert.equal(n, 0);
  closeFd(c);
  closeFd(s);
});

Deno.test("connect() to a closed port rejects with ConnectionRefused", async () => {
  const { fd } = udpSocket(); // a port nobody listens on over TCP
  const { port } = udpSocket();
  closeFd(fd);
  const { tcpSocket } = await import("./_helpers.ts");
  const c = tcpSocket();
  await assert.rejects(
    single(op.connect(c, { hostname: "127.0.0.1", port })),
    (e: Error & { code: string; op: string }) =>
      e instanceof Deno.errors.ConnectionRefused && e.code === "ECONNREFUSED" && e.op === "connect",
  );
  closeFd(c);
});

Deno.test("more ops than the C table holds wait in JS and all complete", async () => {
  const r = new Reactor({ entries: 8 });
  try {
    const results = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) => single<unknown>(i % 2 ? op.nop() : op.timeout(1), { reactor: r }),
      ),
    );
    assert.equal(results.length, 200);
    assert.equal(r.pending, 0);
    // a chain longer than the table can never fit: refused at once
    await assert.rejects(
      multi(Array.from({ length: 9 }, (_, i) => op.nop(i < 8 ? { link: "soft" } : undefined)), {
        reactor: r,
      }),
      RangeError,
    );
  } finally {
    await r.close();
  }
});

Deno.test("bad input throws TypeError or RangeError, never crashes", async () => {
  assert.throws(() => op.recv(3, "nope" as unknown as Uint8Array), TypeError);
  assert.throws(() => op.read(1.5, new Uint8Array(1)), TypeError);
  assert.throws(() => op.timeout(-1), RangeError);
  assert.throws(() => op.timeout(Infinity), RangeError);
  assert.throws(() => op.nop({ link: "sideways" as "soft" }), TypeError);
  assert.throws(() => op.poll(0, 0), RangeError);
  assert.throws(() => op.connect(3, { hostname: "example.com", port: 80 }), TypeError);
  assert.throws(() => op.connect(3, { hostname: "127.0.0.1", port: 70000 }), RangeError);
  assert.throws(() => op.shutdown(3, "up" as "read"), TypeError);
  await assert.rejects(multi([]), TypeError);
  await assert.rejects(multi([{}] as never), TypeError);
  // a negative fd reaches C and completes with EBADF
  await assert.rejects(
    single(op.recv(-1, new Uint8Array(1))),
    (e: Error & { code: string }) => e.code === "EBADF",
  );
  // an op cannot be submitted twice
  const o = op.nop();
  await single(o);
  await assert.rejects(single(o), TypeError);
  assert.throws(() => new Reactor({ entries: 0 }), RangeError);
  assert.throws(() => new Reactor({ backend: "carrier-pigeon" as "poll" }), TypeError);
  const detached = new Uint8Array(8);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  assert.throws(() => op.recv(0, detached), /detached/); // checked when the op is built
});

Deno.test("a closed reactor rejects new work and completes old work", async () => {
  const r = new Reactor({ entries: 16 });
  const [c, s] = await tcpPair();
  const p = single(op.recv(s, new Uint8Array(4)), { reactor: r });
  await single(op.nop(), { reactor: r });
  // watch p before closing: it rejects during close(), which may wait a macrotask
  const cancelled = assert.rejects(p, (e: Error & { code: string }) => e.code === "ECANCELED");
  await r.close();
  await cancelled;
  await assert.rejects(single(op.nop(), { reactor: r }), /closed/);
  await r.close(); // twice is fine
  closeFd(c);
  closeFd(s);
});

Deno.test("constants come from C", () => {
  assert.equal(typeof constants.AF_INET, "number");
  assert.equal(constants.NOT_A_CONSTANT, undefined);
});

Deno.test("ops staged in JS: a close cancels what works on the fd, a SPLICE or TEE by either fd, never a SOCKET by its domain", async () => {
  const words = new Uint32Array(12);
  encode(words, 0, prepSocket({ op: 0, fd: -1 }, 2, 1, 0));
  assert.equal(stagedOnFd(words, 0, 2), false, "a SOCKET's fd field is its domain");
  encode(words, 0, prepSplice({ op: 0, fd: -1 }, 7, 9, 64, OFF_CURRENT, OFF_CURRENT, 0));
  assert.ok(stagedOnFd(words, 0, 7) && stagedOnFd(words, 0, 9) && !stagedOnFd(words, 0, 8));
  encode(words, 0, prepTee({ op: 0, fd: -1 }, 7, 9, 64, 0)); // a TEE likewise
  assert.ok(stagedOnFd(words, 0, 7) && stagedOnFd(words, 0, 9) && !stagedOnFd(words, 0, 8));
  // end to end: a one-entry reactor whose entry a read holds, so the splice waits in JS
  const r = new Reactor({ entries: 1 });
  const [ar, aw] = pipe(), [br, bw] = pipe();
  const held = r.raw({ op: OP.READ, fd: ar, addr: new Uint8Array(1), len: 1, off: OFF_CURRENT });
  const spliced = r.raw(prepSplice({ op: 0, fd: -1 }, br, aw, 64, OFF_CURRENT, OFF_CURRENT, 0));
  assert.equal(r.pending, 2);
  r.closeFd(br); // its input: the staged splice is cancelled, not run later on a reused number
  assert.equal(await spliced, -constants.ECANCELED);
  r.closeFd(ar);
  assert.equal(await held, -constants.ECANCELED);
  [aw, bw].forEach(closeFd);
  await r.close();
});
