// async.ts, the fd core, over pipes, a real pty, an eventfd and loopback
// sockets: readiness, aborts, close in flight, streams, Async.from. CI runs
// this file once per backend (ARIO_BACKEND=...).
import assert from "node:assert/strict";
import {
  Async,
  constants,
  POLL,
  sharedReactor,
  TcpListener,
  TcpStream,
  UdpSocket,
  UnixStream,
} from "../mod.ts";
import { str, text } from "./_helpers.ts";
import {
  assertClosed,
  code,
  type Coded,
  libc,
  linksOf,
  linux,
  O_RDONLY,
  openFd,
  openPty,
  readN,
  tcpStreams,
} from "./_sockets.ts";

Deno.test("pipes: read, write, end of stream, and BadResource after close", async () => {
  const [r, w] = Async.pipe();
  assert.equal(await w.write(text("abc")), 3);
  assert.equal(str(await readN(r, 3)), "abc");
  w.close();
  assert.equal(await r.read(new Uint8Array(4)), null);
  r.close();
  await assert.rejects(r.read(new Uint8Array(1)), (e: Coded) => {
    assert.ok(e instanceof Deno.errors.BadResource);
    assert.equal(e.code, "EBADF");
    assert.match(e.message, /^Cannot read: the descriptor is closed/);
    return true;
  });
  r.close(); // twice is fine
});

Deno.test({
  name: "a real pty: Async.from() wraps both sides; lines go through the line discipline",
  ignore: !linux,
  fn: async () => {
    const { master, slave } = openPty();
    const m = await Async.from(master);
    const s = await Async.from(slave);
    await m.writeAll(text("hello pty\n"));
    const got = new Uint8Array(64);
    const n = await s.read(got, { signal: AbortSignal.timeout(2000) });
    assert.equal(str(got.subarray(0, n!)), "hello pty\n");
    await s.writeAll(text("back\n"));
    let out = "";
    while (!out.includes("back")) {
      const k = await m.read(got, { signal: AbortSignal.timeout(2000) });
      out += str(got.subarray(0, k!));
    }
    assert.match(out, /back\r\n/);
    s.close();
    m.close();
  },
});

Deno.test({
  name: "an eventfd through readWith/writeWith (async-io's read_with/write_with)",
  ignore: !linux,
  fn: async () => {
    const efd = await Async.from(libc!.eventfd(0, 0));
    const eight = new Uint8Array(8);
    const view = new DataView(eight.buffer);
    let attempts = 0;
    const reading = efd.readWith((fd) => {
      attempts++;
      const r = Number(libc!.read(fd, eight, 8n));
      return r < 0 ? -constants.EAGAIN : r;
    });
    await sharedReactor().timeout(5_000_000);
    assert.equal(attempts, 1, "one attempt, then it waits for readability");
    const one = new Uint8Array(8);
    new DataView(one.buffer).setBigUint64(0, 5n, true);
    assert.equal(await efd.writeWith((fd) => Number(libc!.write(fd, one, 8n))), 8);
    assert.equal(await reading, 8);
    assert.equal(view.getBigUint64(0, true), 5n);
    assert.equal(attempts, 2);
    await assert.rejects(efd.readWith(() => -constants.EINVAL), (e: Coded) => e.code === "EINVAL");
    await assert.rejects(
      efd.readWith(() => {
        throw new Error("mine");
      }),
      /mine/,
    );
    efd.close();
  },
});

Deno.test({
  name: "Async.from() takes a regular file on every backend (the file pool) and refuses bad fds",
  ignore: !linux,
  fn: async () => {
    const file = Deno.makeTempFileSync();
    Deno.writeTextFileSync(file, "data");
    const fd = openFd(file, O_RDONLY);
    const a = await Async.from(fd); // epoll cannot poll it: reads go to the file pool
    const buf = new Uint8Array(8);
    assert.equal(await a.read(buf), 4);
    assert.equal(str(buf.subarray(0, 4)), "data");
    assert.equal(await a.read(buf), null); // the end of the file
    a.close();
    Deno.removeSync(file);
    await assert.rejects(Async.from(999_999), (e: Coded) => e instanceof Deno.errors.BadResource);
    assert.throws(() => new Async(-1), TypeError);
  },
});

Deno.test("readiness: waitReadable, waitWritable, priority (TCP urgent data), ready() masks", async () => {
  const [c, s, l] = await tcpStreams();
  assert.ok((await c.waitWritable()) & POLL.OUT);
  const readable = s.waitReadable();
  await c.write(text("x"));
  assert.ok((await readable) & POLL.IN);
  assert.equal(await s.read(new Uint8Array(1)), 1);
  // io_uring's poll is not woken by urgent data that arrives after it is
  // armed (the kernel's wakeup carries no POLLPRI): wait after arrival there
  const early = sharedReactor().backend !== "io_uring";
  const pri = early ? s.waitPriority({ signal: AbortSignal.timeout(2000) }) : undefined;
  await c.write(text("!"), { flags: constants.MSG_OOB });
  assert.ok((await (pri ?? s.waitPriority({ signal: AbortSignal.timeout(2000) }))) & POLL.PRI);
  const oob = new Uint8Array(1);
  assert.equal(await s.read(oob, { flags: constants.MSG_OOB }), 1);
  assert.equal(str(oob), "!");
  await assert.rejects(s.ready(0x100), RangeError);
  c.close();
  assert.ok((await s.ready(POLL.IN)) & (POLL.IN | POLL.HUP));
  s.close();
  l.close();
});

Deno.test("an AbortSignal cancels any wait; the object stays usable", async () => {
  const [c, s, l] = await tcpStreams();
  const ac = new AbortController();
  const p = s.read(new Uint8Array(4), { signal: ac.signal });
  setTimeout(() => ac.abort(new Error("stop")), 5);
  await assert.rejects(p, /stop/);
  await assert.rejects(
    s.waitReadable({ signal: AbortSignal.timeout(10) }),
    (e: Error) => e.name === "TimeoutError",
  );
  await assert.rejects(l.accept({ signal: AbortSignal.abort(new Error("early")) }), /early/);
  await c.writeAll(text("ok"));
  assert.equal(str(await readN(s, 2)), "ok");
  [c, s, l].forEach((x) => x.close());
});

Deno.test("close() with ops in flight completes them with BadResource (ECANCELED), leaks nothing", async () => {
  const [c, s, l] = await tcpStreams();
  const links = linksOf(c, s, l);
  // in C already
  const reads = [s.read(new Uint8Array(4)), s.waitReadable(), s.waitPriority()];
  const accept = l.accept();
  await sharedReactor().timeout(2_000_000);
  s.close();
  l.close();
  for (const p of [...reads, accept]) {
    await assert.rejects(p, (e: Coded) => {
      assert.ok(e instanceof Deno.errors.BadResource);
      assert.equal(e.code, "ECANCELED");
      assert.match(e.message, /the descriptor was closed while waiting/);
      return true;
    });
  }
  c.close();
  // still staged in JS when closed: closed in order behind them
  const [c2, s2, l2] = await tcpStreams();
  links.push(...linksOf(c2, s2));
  l2.close();
  const staged = c2.read(new Uint8Array(4));
  c2.close();
  await assert.rejects(staged, code("ECANCELED"));
  s2.close();
  await assert.rejects(c.write(text("x")), code("EBADF"));
  assert.equal(c.localAddr.hostname, "127.0.0.1"); // addresses outlive the fd, as Deno.Conn's
  await assertClosed(links);
});

Deno.test("using / await using close the fd", async () => {
  const links: string[] = [];
  {
    await using l = TcpListener.bind({ port: 0 });
    using u = UdpSocket.bind({ port: 0 });
    await using c = await TcpStream.connect(l.localAddr);
    links.push(...linksOf(l, u, c));
  }
  await assertClosed(links);
});

Deno.test("streams: readable/writable pipe an echo and close the fd when both are done", async () => {
  const [c, s, l] = await tcpStreams();
  const links = linksOf(c, s);
  l.close();
  const echo = s.readable.pipeTo(s.writable);
  const data = new Uint8Array(1 << 20).map((_, i) => i * 7);
  const sending = (async () => {
    const w = c.writable.getWriter();
    for (let o = 0; o < data.length; o += 100_000) await w.write(data.subarray(o, o + 100_000));
    await w.close();
  })();
  const chunks: Uint8Array[] = [];
  for await (const chunk of c.readable) chunks.push(chunk);
  await sending;
  await echo;
  const got = new Uint8Array(chunks.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of chunks) got.set(x, (o += x.length) - x.length);
  assert.equal(got.length, data.length);
  assert.deepEqual(got, data);
  await sharedReactor().timeout(1_000_000);
  assert.ok(s.closed && c.closed, "both ends closed once both streams finished");
  await assertClosed(links);
});

Deno.test("streams: BYOB reads, backpressure on the writable, pipe writable closes the fd", async () => {
  const [r, w] = Async.pipe();
  const writer = w.writable.getWriter();
  assert.equal(writer.desiredSize, 1);
  const big = new Uint8Array(1 << 20); // more than a pipe holds: the write waits for the reader
  const wrote = writer.write(big);
  await sharedReactor().timeout(5_000_000);
  assert.equal(writer.desiredSize, 0, "backpressure while the chunk is pending");
  const reader = r.readable.getReader({ mode: "byob" });
  let total = 0;
  const readAll = (async () => {
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(65536));
      if (done) return;
      total += value.length;
    }
  })();
  await wrote;
  await writer.close();
  assert.ok(w.closed, "closing a pipe's writable closes its fd");
  await readAll;
  assert.equal(total, big.length);
});

Deno.test("Async.from() on a socket fd finds its kind and uses recv/send", async () => {
  const [a, b] = UnixStream.pair();
  const wrapped = await Async.from(a.fd);
  await wrapped.write(text("hi"), { flags: constants.MSG_NOSIGNAL });
  assert.equal(str(await readN(b, 2)), "hi");
  await b.writeAll(text("yo"));
  const buf = new Uint8Array(2);
  assert.equal(await wrapped.read(buf, { flags: constants.MSG_PEEK }), 2);
  assert.equal(str(await readN(wrapped, 2)), "yo");
  wrapped.close(); // owns a's fd now
  b.close();
});
