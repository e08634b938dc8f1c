// READV, WRITEV, RECVMSG, SENDMSG: fd passing, scatter/gather, datagram
// metadata, and attacks (too many buffers, detached buffers, cancel and
// close mid-op, truncation). CI runs this file once per backend.
import assert from "node:assert/strict";
import {
  Async,
  cmsgSpace,
  constants,
  encodeControl,
  fdsOf,
  iovMax,
  op,
  parseControl,
  rightsMessage,
  single,
  UdpSocket,
  UnixStream,
} from "../mod.ts";
import { closeFd, pipe, str, text } from "./_helpers.ts";
import { Operation } from "../operation.ts";
import { prepReadv, prepSendMsg } from "../sqe.ts";
import { ioAcquire, ioRelease, setU32 } from "../iomem.ts";
import { IOVEC, MSGHDR } from "../ffi/layout.ts";

type Coded = Error & { code?: string };

function cloexec(fd: number): boolean {
  // /proc says what F_GETFD would: the "flags:" line's octal value has O_CLOEXEC (02000000)
  const info = Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`);
  const flags = parseInt(/flags:\s*(\d+)/.exec(info)![1], 8);
  return (flags & 0o2000000) !== 0;
}

Deno.test("sendFds/recvFds pass a pipe's write end: usable, close-on-exec", async () => {
  const [a, b] = UnixStream.pair();
  const [r, w] = Async.pipe();
  assert.equal(await a.sendFds([w.fd], text("fd!")), 3);
  const buf = new Uint8Array(8);
  const { fds, n } = await b.recvFds({ buf });
  assert.equal(n, 3);
  assert.equal(str(buf.subarray(0, 3)), "fd!");
  assert.equal(fds.length, 1);
  assert.notEqual(fds[0], w.fd);
  assert.ok(cloexec(fds[0]), "received fd is close-on-exec");
  const w2 = new Async(fds[0]);
  await w2.write(text("through"));
  const got = new Uint8Array(7);
  assert.equal(await r.read(got), 7);
  assert.equal(str(got), "through");
  for (const x of [a, b, r, w, w2]) x.close();
});

Deno.test("recvFds: several at once; too many for maxFds closes what came and throws", async () => {
  const [a, b] = UnixStream.pair();
  const [r, w] = Async.pipe();
  await a.sendFds([r.fd, w.fd, w.fd]);
  const { fds } = await b.recvFds();
  assert.equal(fds.length, 3);
  for (const fd of fds) closeFd(fd);
  await a.sendFds([r.fd, w.fd, r.fd, w.fd]);
  await assert.rejects(b.recvFds({ maxFds: 1 }), (e: Error) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /MSG_CTRUNC/);
    return true;
  });
  await assert.rejects(a.sendFds([]), RangeError);
  await assert.rejects(a.sendFds([-1]), /fds\[0\]/);
  await assert.rejects(a.sendFds([r.fd], new Uint8Array(0)), TypeError);
  await assert.rejects(a.sendFds([r.fd], "x" as unknown as Uint8Array), TypeError);
  await assert.rejects(b.recvFds({ maxFds: 0 }), RangeError);
  // end of stream: n 0, no fds
  a.close();
  assert.deepEqual(await b.recvFds(), { fds: [], n: 0 });
  for (const x of [b, r, w]) x.close();
});

Deno.test("readv/writev scatter and gather across buffer boundaries", async () => {
  const [r, w] = pipe();
  const parts = ["ab", "", "c", "defgh"].map(text);
  assert.equal(await single(op.writev(w, parts)), 8);
  const x = new Uint8Array(3), y = new Uint8Array(0), z = new Uint8Array(10);
  assert.equal(await single(op.readv(r, [x, y, z])), 8);
  assert.equal(str(x), "abc");
  assert.equal(str(z.subarray(0, 5)), "defgh");
  assert.equal(z[5], 0);
  closeFd(r);
  closeFd(w);
});

Deno.test("readv/writev on a regular file at offsets (the file pool on readiness backends)", async () => {
  const dir = Deno.makeTempDirSync();
  const { O_RDWR, O_CREAT } = constants;
  const fd = await single(op.openat(`${dir}/f`, O_RDWR | O_CREAT, 0o600));
  assert.equal(await single(op.writev(fd, [text("hello "), text("world")], { offset: 10 })), 11);
  const a = new Uint8Array(3), b = new Uint8Array(20);
  assert.equal(await single(op.readv(fd, [a, b], { offset: 12 })), 9);
  assert.equal(str(a) + str(b.subarray(0, 6)), "llo world");
  assert.equal(Deno.readFileSync(`${dir}/f`).length, 21);
  await single(op.close(fd));
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("StreamSocket.writev writes everything, beyond ARIO_IOV_MAX buffers too", async () => {
  const [a, b] = UnixStream.pair();
  const bufs = Array.from({ length: iovMax() * 2 + 3 }, (_, k) => text(String(k % 10)));
  assert.equal(await a.writev(bufs), bufs.length);
  const got = new Uint8Array(bufs.length);
  let n = 0;
  while (n < got.length) n += (await b.read(got.subarray(n)))!;
  assert.equal(str(got), bufs.map(str).join(""));
  // a large write that the socket takes in several calls
  const big = new Uint8Array(1 << 20).fill(7);
  const sending = a.writev([big.subarray(0, 1000), big.subarray(1000)]);
  let m = 0;
  const sink = new Uint8Array(1 << 16);
  while (m < big.length) m += (await b.read(sink))!;
  assert.equal(await sending, big.length);
  a.close();
  b.close();
});

Deno.test("more than ARIO_IOV_MAX buffers: RangeError naming the limit, and C says EINVAL", async () => {
  const [r, w] = pipe();
  const many = Array.from({ length: iovMax() + 1 }, () => new Uint8Array(1));
  assert.equal(iovMax(), constants.ARIO_IOV_MAX);
  for (const build of [op.readv, op.writev, op.recvmsg, op.sendmsg]) {
    assert.throws(() => build(w, many), /at most 64 \(ARIO_IOV_MAX; C answers EINVAL\)/);
  }
  assert.equal(await single(op.writev(w, many.slice(1))), iovMax());
  assert.throws(
    () => op.writev(w, [new Uint8Array(1), "x" as unknown as Uint8Array]),
    /buffers\[1\]/,
  );
  assert.throws(() => op.recvmsg(w, [], { flags: constants.MSG_WAITALL }), /MSG_WAITALL/);
  assert.throws(() => op.readv(w, [], { offset: -1 }), /offset/);
  closeFd(r);
  closeFd(w);
});

Deno.test("raw entries C refuses: too many iovecs EINVAL, a NULL array EFAULT, MSG_WAITALL EINVAL", async () => {
  const [r, w] = pipe();
  const n = iovMax() + 1;
  const region = ioAcquire(MSGHDR.size + n * IOVEC.size + 16);
  const v = region.view;
  v.fill(0);
  const iov = region.addr + 64;
  for (let k = 0; k < n; k++) {
    setU32(v, 64 + k * IOVEC.size + IOVEC.base, (region.addr + 64) >>> 0); // any valid bytes
    setU32(v, 64 + k * IOVEC.size + IOVEC.base + 4, Math.floor((region.addr + 64) / 2 ** 32));
    setU32(v, 64 + k * IOVEC.size + IOVEC.len, 1);
  }
  const run = (raw: ReturnType<typeof prepReadv>) =>
    single(new Operation("raw", raw, (res) => res)).catch((e: Coded) => e.code);
  assert.equal(await run(prepReadv({ op: 0, fd: -1 }, r, iov, n, 2n ** 64n - 1n)), "EINVAL");
  assert.equal(await run(prepReadv({ op: 0, fd: -1 }, r, 0, 1, 2n ** 64n - 1n)), "EFAULT");
  assert.equal(await run(prepSendMsg({ op: 0, fd: -1 }, w, 0, 0)), "EFAULT");
  // a msghdr naming n iovecs
  setU32(v, MSGHDR.iov, iov >>> 0);
  setU32(v, MSGHDR.iov + 4, Math.floor(iov / 2 ** 32));
  setU32(v, MSGHDR.iovlen, n);
  assert.equal(await run(prepSendMsg({ op: 0, fd: -1 }, w, region.addr, 0)), "EINVAL");
  setU32(v, MSGHDR.iovlen, 1);
  assert.equal(
    await run(prepSendMsg({ op: 0, fd: -1 }, w, region.addr, constants.MSG_WAITALL)),
    "EINVAL",
  );
  assert.equal(await run(prepReadv({ op: 0, fd: -1 }, -1, iov, 1, 2n ** 64n - 1n)), "EBADF");
  ioRelease(region); // every op above completed
  closeFd(r);
  closeFd(w);
});

Deno.test("a buffer detached after build never reaches C; a read's bytes land in `received`", async () => {
  const [r, w] = pipe();
  // write: copied at build, so detaching afterwards changes nothing
  const src = text("hello");
  const wop = op.writev(w, [src]);
  (src.buffer as ArrayBuffer).transfer();
  assert.equal(await single(wop), 5);
  // read: the buffer goes away while the op waits
  const dst = new Uint8Array(8);
  const rop = single(op.readv(r, [dst]));
  (dst.buffer as ArrayBuffer).transfer();
  await single(op.write(w, text("xyz")));
  await assert.rejects(rop, (e: Error & { received?: Uint8Array }) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /buffers\[0\] was detached/);
    assert.match(str(e.received!), /^hello(xyz)?$/); // readiness may read both writes
    return true;
  });
  const gone = new Uint8Array(4);
  (gone.buffer as ArrayBuffer).transfer();
  assert.throws(() => op.readv(r, [gone]), /detached/);
  assert.throws(() => op.sendmsg(w, [gone]), /detached/);
  closeFd(r);
  closeFd(w);
});

Deno.test("recvmsg: cancel mid-op, then close mid-op", async () => {
  const [a, b] = UnixStream.pair();
  const o = op.recvmsg(b.fd, [new Uint8Array(4)], { controlLen: cmsgSpace(4) });
  const p = single(o);
  assert.equal(await single(op.cancel(o)), 1);
  await assert.rejects(p, (e: Coded) => e.code === "ECANCELED");
  const ac = new AbortController();
  const q = b.recvFds({ signal: ac.signal });
  ac.abort(new Error("stop"));
  await assert.rejects(q, /stop/);
  const pending = b.recvFds();
  await new Promise((res) => setTimeout(res, 5));
  b.close();
  await assert.rejects(
    pending,
    (e: Coded) => e instanceof Deno.errors.BadResource && e.code === "ECANCELED",
  );
  await assert.rejects(
    b.recvFds(),
    (e: Coded) => e instanceof Deno.errors.BadResource && e.code === "EBADF",
  );
  await assert.rejects(b.writev([text("x")]), Deno.errors.BadResource);
  a.close();
});

Deno.test("close of a writer mid-readv completes it", async () => {
  const [r, w] = pipe();
  const p = single(op.readv(r, [new Uint8Array(4), new Uint8Array(4)]));
  await new Promise((res) => setTimeout(res, 5));
  closeFd(w);
  assert.equal(await p, 0); // end of file
  closeFd(r);
});

for (const host of ["127.0.0.1", "::1"]) {
  Deno.test(`UdpSocket.recvMsg on ${host}: local address, interface, TTL, timestamp, truncation`, async () => {
    using tx = UdpSocket.bind({ hostname: host, port: 0 });
    using rx = UdpSocket.bind({ hostname: host, port: 0 });
    rx.setRecvMetadata({ pktInfo: true, ttl: true, timestamp: true });
    tx.setTtl(42);
    const before = BigInt(Date.now()) * 1_000_000n;
    await tx.sendTo(text("hello"), rx.localAddr);
    const m = await rx.recvMsg(new Uint8Array(64));
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    assert.equal(str(m.data), "hello");
    assert.equal(m.addr.hostname, host);
    assert.equal(m.addr.port, tx.localAddr.port);
    assert.equal(m.localAddr, host);
    assert.ok(m.ifIndex! > 0, "loopback's index");
    assert.equal(m.ttl, 42);
    assert.ok(m.timestamp! >= before - 1_000_000n && m.timestamp! <= after, `${m.timestamp}`);
    assert.equal(m.truncated, false);
    // a datagram longer than the buffer: truncated, never silently
    await tx.sendTo(text("0123456789"), rx.localAddr);
    const cut = await rx.recvMsg(new Uint8Array(4));
    assert.equal(str(cut.data), "0123");
    assert.equal(cut.truncated, true);
    // without metadata switched on: none reported
    rx.setRecvMetadata({ pktInfo: false, ttl: false, timestamp: false });
    await tx.sendTo(text("x"), rx.localAddr);
    const bare = await rx.recvMsg(new Uint8Array(4));
    assert.deepEqual([bare.localAddr, bare.ttl, bare.timestamp], [undefined, undefined, undefined]);
  });
}

Deno.test("recvmsg reports MSG_CTRUNC for a small control buffer; sendmsg with a destination", async () => {
  using tx = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
  using rx = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
  rx.setRecvMetadata({ pktInfo: true, ttl: true });
  const to = { hostname: "127.0.0.1", port: rx.localAddr.port };
  assert.equal(await single(op.sendmsg(tx.fd, [text("ab"), text("cd")], { to })), 4);
  const m = await single(op.recvmsg(rx.fd, [new Uint8Array(8)], { controlLen: cmsgSpace(4) }));
  assert.equal(m.n, 4);
  assert.equal(m.controlTruncated, true);
  assert.ok(m.flags & constants.MSG_CTRUNC);
  assert.ok(m.control.length <= 1);
});

Deno.test("control messages round-trip through encodeControl/parseControl", () => {
  const msgs = [rightsMessage([3, 4]), { level: 1, type: 2, data: new Uint8Array([9]) }];
  const bytes = encodeControl(msgs);
  assert.equal(bytes.length, cmsgSpace(8) + cmsgSpace(1));
  const back = parseControl(bytes);
  assert.deepEqual(back.map((m) => [m.level, m.type, [...m.data]]), [
    [constants.SOL_SOCKET, constants.SCM_RIGHTS, [3, 0, 0, 0, 4, 0, 0, 0]],
    [1, 2, [9]],
  ]);
  assert.deepEqual(fdsOf(back), [3, 4]);
  assert.deepEqual(parseControl(bytes.subarray(0, 5)), []); // a cut header: nothing
  assert.throws(() => encodeControl([{ level: 1, type: 1, data: [1] as unknown as Uint8Array }]));
});

Deno.test("SENDMSG is never taken back; RECVMSG, READV and WRITEV may be", async () => {
  const { isWait } = await import("../sqe.ts");
  const [r, w] = pipe();
  assert.equal(isWait(op.sendmsg(w, [text("x")]).raw), false);
  assert.equal(isWait(op.recvmsg(r, [new Uint8Array(1)]).raw), true);
  assert.equal(isWait(op.readv(r, [new Uint8Array(1)]).raw), true);
  assert.equal(isWait(op.writev(w, [text("x")]).raw), true);
  closeFd(r);
  closeFd(w);
});
