// async.ts over real loopback sockets (127.0.0.1 and ::1), pipes, a real pty
// and an eventfd. CI runs this file once per backend (ARIO_BACKEND=...).
import assert from "node:assert/strict";
import {
  Async,
  constants,
  POLL,
  sharedReactor,
  TcpListener,
  TcpStream,
  UdpSocket,
  UnixDatagram,
  UnixListener,
  UnixStream,
} from "../mod.ts";
import { str, text } from "./_helpers.ts";

type Coded = Error & { code: string; op: string };
const code = (c: string) => (e: unknown) => (e as Coded).code === c;
const linux = Deno.build.os === "linux";

/** libc for what the ario ABI leaves to the user: open, ptys, eventfd. */
const libc = linux
  ? Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
    posix_openpt: { parameters: ["i32"], result: "i32" },
    grantpt: { parameters: ["i32"], result: "i32" },
    unlockpt: { parameters: ["i32"], result: "i32" },
    ptsname_r: { parameters: ["i32", "buffer", "usize"], result: "i32" },
    eventfd: { parameters: ["u32", "i32"], result: "i32" },
    read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  }).symbols
  : undefined;
const O_RDWR = 2, O_NOCTTY = 0o400, O_RDONLY = 0;

function openFd(path: string, flags: number): number {
  const fd = libc!.open(text(path + "\0"), flags, 0);
  if (fd < 0) throw new Error(`open ${path} failed`);
  return fd;
}

function openPty(): { master: number; slave: number } {
  const master = libc!.posix_openpt(O_RDWR | O_NOCTTY);
  assert.ok(master >= 0 && libc!.grantpt(master) === 0 && libc!.unlockpt(master) === 0);
  const name = new Uint8Array(128);
  assert.equal(libc!.ptsname_r(master, name, 128n), 0);
  const path = str(name.subarray(0, name.indexOf(0)));
  return { master, slave: openFd(path, O_RDWR | O_NOCTTY) };
}

// Leak checks look at this process's fd table (/proc/self/fd). Other test
// files may run in the same process (--parallel), so they look only at the
// sockets a test made: by inode, or by the port they connect to.

function ourLinks(): Set<string> {
  const out = new Set<string>();
  if (!linux) return out;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      out.add(Deno.readLinkSync(`/proc/self/fd/${e.name}`));
    } catch { /* closed meanwhile */ }
  }
  return out;
}

/** The "socket:[inode]" links of these objects' fds. */
function linksOf(...objs: { fd: number }[]): string[] {
  return linux ? objs.map((o) => Deno.readLinkSync(`/proc/self/fd/${o.fd}`)) : [];
}

/** How many of our fds are TCP sockets whose peer port is `port`. */
function socketsTo(port: number): number {
  if (!linux) return 0;
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of Deno.readTextFileSync(f).split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[2].endsWith(`:${hex}`)) inodes.add(`socket:[${cols[9]}]`);
    }
  }
  return [...ourLinks()].filter((l) => inodes.has(l)).length;
}

/** Waits (up to 1 s) until none of `links` is open in this process. */
async function assertClosed(links: string[]): Promise<void> {
  const open = () => {
    const now = ourLinks();
    return links.filter((l) => now.has(l));
  };
  for (let i = 0; i < 100 && open().length; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(open(), [], "every socket of the test is closed");
}

async function tcpPair(hostname = "127.0.0.1"): Promise<[TcpStream, TcpStream, TcpListener]> {
  const l = TcpListener.bind({ hostname, port: 0 });
  const accepted = l.accept();
  const c = await TcpStream.connect({ hostname, port: l.localAddr.port });
  return [c, await accepted, l];
}

async function readN(s: Async, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await s.read(out.subarray(got));
    if (k === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

for (const hostname of ["127.0.0.1", "::1"]) {
  Deno.test(`TCP over ${hostname}: connect, accept, read, write, addresses`, async () => {
    const [c, s, l] = await tcpPair(hostname);
    assert.equal(l.localAddr.hostname, hostname);
    assert.deepEqual(c.remoteAddr, { transport: "tcp", hostname, port: l.localAddr.port });
    assert.deepEqual(s.remoteAddr, c.localAddr);
    assert.equal(await c.write(text("ping")), 4);
    assert.equal(str(await readN(s, 4)), "ping");
    await s.writeAll(text("pong"));
    assert.equal(str(await readN(c, 4)), "pong");
    c.close();
    s.close();
    l.close();
  });
}

Deno.test("connect() to a closed port rejects ConnectionRefused naming the address", async () => {
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const port = l.localAddr.port;
  l.close();
  await assert.rejects(TcpStream.connect({ hostname: "127.0.0.1", port }), (e: Coded) => {
    assert.ok(e instanceof Deno.errors.ConnectionRefused);
    assert.equal(e.code, "ECONNREFUSED");
    assert.match(e.message, new RegExp(`^Cannot connect to 127.0.0.1:${port}: ECONNREFUSED`));
    return true;
  });
  assert.equal(socketsTo(port), 0, "the failed socket is closed");
});

/** A listener whose accept queue is full: further connects hang. */
async function fullListener(): Promise<{ l: TcpListener; held: TcpStream[] }> {
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { backlog: 0 });
  const held: TcpStream[] = [];
  for (let i = 0; i < 4; i++) {
    try {
      held.push(await TcpStream.connect(l.localAddr, { timeout: 100 }));
    } catch {
      break;
    }
  }
  return { l, held };
}

Deno.test("connect() with a timeout rejects TimedOut and leaks no fd", async () => {
  const { l, held } = await fullListener();
  const before = socketsTo(l.localAddr.port);
  const t0 = performance.now();
  await assert.rejects(TcpStream.connect(l.localAddr, { timeout: 50 }), (e: Coded) => {
    assert.ok(e instanceof Deno.errors.TimedOut);
    assert.equal(e.code, "ETIMEDOUT");
    assert.match(e.message, /^Cannot connect to 127\.0\.0\.1:\d+: timed out after 50 ms/);
    return true;
  });
  assert.ok(performance.now() - t0 >= 45);
  assert.equal(socketsTo(l.localAddr.port), before, "the failed socket is closed");
  held.forEach((h) => h.close());
  l.close();
});

Deno.test("connect() is cancelled by an AbortSignal", async () => {
  const { l, held } = await fullListener();
  const before = socketsTo(l.localAddr.port);
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error("give up")), 20);
  await assert.rejects(TcpStream.connect(l.localAddr, { signal: ac.signal }), /give up/);
  await assert.rejects(
    TcpStream.connect(l.localAddr, { signal: AbortSignal.abort(new Error("early")) }),
    /early/,
  );
  assert.equal(socketsTo(l.localAddr.port), before, "the failed socket is closed");
  held.forEach((h) => h.close());
  l.close();
});

Deno.test("incoming() yields connections and ends when the listener closes", async () => {
  const l = TcpListener.bind({ port: 0 });
  const seen: TcpStream[] = [];
  const loop = (async () => {
    for await (const conn of l) seen.push(conn);
  })();
  const clients = await Promise.all([0, 1, 2].map(() => TcpStream.connect(l.localAddr)));
  while (seen.length < 3) await sharedReactor().timeout(1_000_000);
  l.close();
  await loop;
  assert.equal(seen.length, 3);
  [...clients, ...seen].forEach((s) => s.close());
});

Deno.test("shutdown('write') gives the peer end of stream; peek does not consume", async () => {
  const [c, s, l] = await tcpPair();
  await c.writeAll(text("last"));
  await c.shutdown("write");
  const buf = new Uint8Array(4);
  while ((await s.peek(buf)) !== 4) await sharedReactor().timeout(1_000_000);
  assert.equal(str(await readN(s, 4)), "last");
  assert.equal(await s.read(buf), null);
  await assert.rejects(c.shutdown("sideways" as "read"), TypeError);
  [c, s, l].forEach((x) => x.close());
});

Deno.test("TCP options: nodelay, keepalive with timing, ttl, generic get/set", async () => {
  const [c, s, l] = await tcpPair();
  c.setNoDelay(true);
  assert.equal(c.noDelay, true);
  c.setNoDelay(false);
  assert.equal(c.noDelay, false);
  c.setKeepAlive({ idle: 30, interval: 5, count: 4 });
  assert.deepEqual(c.keepAlive, { enabled: true, idle: 30, interval: 5, count: 4 });
  c.setKeepAlive(false);
  assert.equal(c.keepAlive.enabled, false);
  c.setTtl(17);
  assert.equal(c.ttl, 17);
  c.setOption(constants.SOL_SOCKET, constants.SO_RCVBUF, 65536);
  assert.ok(c.getOption(constants.SOL_SOCKET, constants.SO_RCVBUF) >= 65536);
  assert.equal(c.getOption(constants.SOL_SOCKET, constants.SO_TYPE), constants.SOCK_STREAM);
  if (linux) {
    const cc = str(c.getOptionBytes(constants.IPPROTO_TCP, constants.TCP_CONGESTION, 16)).replace(
      /\0.*$/,
      "",
    );
    assert.ok(cc.length > 0);
  }
  assert.throws(
    () => c.setOption(constants.SOL_SOCKET, 987654, 1),
    (e: Coded) => e.code === "ENOPROTOOPT",
  );
  [c, s, l].forEach((x) => x.close());
});

Deno.test("listeners: reuseAddr on by default, reusePort shares a port, AddrInUse otherwise", () => {
  const a = TcpListener.bind({ port: 0 }, { reusePort: true });
  const port = a.localAddr.port;
  const b = TcpListener.bind({ port }, { reusePort: true });
  assert.equal(b.localAddr.port, port);
  assert.throws(() => TcpListener.bind({ port }), (e: Coded) => {
    assert.ok(e instanceof Deno.errors.AddrInUse);
    assert.match(e.message, new RegExp(`^Cannot listen on 127.0.0.1:${port}: EADDRINUSE`));
    return true;
  });
  a.close();
  b.close();
});

for (const hostname of ["127.0.0.1", "::1"]) {
  Deno.test(`UDP over ${hostname}: sendTo/recvFrom, peekFrom, connected send/recv`, async () => {
    using a = UdpSocket.bind({ hostname, port: 0 });
    using b = UdpSocket.bind({ hostname, port: 0 });
    assert.equal(await a.sendTo(text("hello"), b.localAddr), 5);
    const buf = new Uint8Array(64);
    const peeked = await b.peekFrom(buf);
    assert.equal(peeked.n, 5);
    const got = await b.recvFrom(buf);
    assert.deepEqual(got, { n: 5, addr: { transport: "udp", hostname, port: a.localAddr.port } });
    assert.equal(str(buf.subarray(0, 5)), "hello");
    await a.connect(b.localAddr);
    await b.connect(a.localAddr);
    assert.deepEqual(a.remoteAddr, b.localAddr);
    await a.send(text("one"));
    assert.equal(await b.peek(buf), 3);
    assert.equal(await b.recv(buf), 3);
    await b.send(new Uint8Array(0));
    assert.equal(await a.recv(buf), 0, "an empty datagram");
  });
}

Deno.test("UDP options: broadcast, ttl, multicast join/leave on IPv4 and IPv6", async (t) => {
  using u = UdpSocket.bind({ port: 0 });
  u.setBroadcast(true);
  assert.equal(u.broadcast, true);
  u.setBroadcast(false);
  assert.equal(u.broadcast, false);
  u.setTtl(9);
  assert.equal(u.ttl, 9);
  u.setMulticastTtlV4(3);
  u.setMulticastLoopV4(true);
  await t.step("IPv4 multicast over loopback", async () => {
    // bound to the group itself (not 0.0.0.0): only loopback traffic reaches it
    using rx = UdpSocket.bind({ hostname: "239.255.42.1", port: 0 }, { reuseAddr: true });
    try {
      rx.joinMulticastV4("239.255.42.1", "127.0.0.1");
    } catch (e) {
      if ((e as Coded).code === "ENODEV") return; // no multicast on loopback in this sandbox
      throw e;
    }
    assert.throws(
      () => rx.joinMulticastV4("239.255.42.1", "127.0.0.1"),
      (e: Coded) => e.code === "EADDRINUSE",
    );
    using tx = UdpSocket.bind({ port: 0 });
    tx.setMulticastInterfaceV4("127.0.0.1");
    tx.setMulticastLoopV4(true);
    tx.setMulticastTtlV4(1);
    await tx.sendTo(text("mc"), { hostname: "239.255.42.1", port: rx.localAddr.port });
    const got = await rx.recvFrom(new Uint8Array(8), { signal: AbortSignal.timeout(2000) });
    assert.deepEqual(got, { n: 2, addr: tx.localAddr });
    rx.leaveMulticastV4("239.255.42.1", "127.0.0.1");
    assert.throws(
      () => rx.leaveMulticastV4("239.255.42.1", "127.0.0.1"),
      (e: Coded) => e.code === "EADDRNOTAVAIL",
    );
  });
  await t.step("IPv6 multicast join/leave", () => {
    using u6 = UdpSocket.bind({ hostname: "::1", port: 0 });
    u6.setMulticastLoopV6(true);
    try {
      u6.joinMulticastV6("ff02::4242", 1);
    } catch (e) {
      if ((e as Coded).code === "ENODEV" || (e as Coded).code === "EADDRNOTAVAIL") return;
      throw e;
    }
    u6.leaveMulticastV6("ff02::4242", 1);
  });
  assert.throws(() => u.joinMulticastV4("ff02::1"), TypeError);
  assert.throws(() => u.joinMulticastV6("239.1.1.1"), TypeError);
});

Deno.test("Unix streams: listen/connect on a path and an abstract name; pair", async () => {
  const dir = Deno.makeTempDirSync();
  const names = [`${dir}/s.sock`, ...(linux ? [`\0ario-test-${Deno.pid}-${Date.now()}`] : [])];
  for (const path of names) {
    using l = UnixListener.bind(path);
    assert.equal(l.localAddr.path, path);
    const accepted = l.accept();
    using c = await UnixStream.connect(path);
    using s = await accepted;
    assert.equal(c.remoteAddr.path, path);
    await c.writeAll(text("unix"));
    assert.equal(str(await readN(s, 4)), "unix");
  }
  const [a, b] = UnixStream.pair();
  await b.writeAll(text("pair"));
  assert.equal(str(await readN(a, 4)), "pair");
  a.close();
  assert.equal(await b.read(new Uint8Array(4)), null);
  b.close();
  await assert.rejects(
    UnixStream.connect(`${dir}/missing.sock`),
    (e: Coded) => e instanceof Deno.errors.NotFound,
  );
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("Unix datagrams: bind, unbound sender, sendTo/recvFrom, pair", async () => {
  const dir = Deno.makeTempDirSync();
  using rx = UnixDatagram.bind(`${dir}/d.sock`);
  using tx = UnixDatagram.bind(`${dir}/t.sock`);
  await tx.sendTo(text("dgram"), `${dir}/d.sock`);
  const buf = new Uint8Array(16);
  assert.deepEqual(await rx.recvFrom(buf), {
    n: 5,
    addr: { transport: "unixpacket", path: `${dir}/t.sock` },
  });
  using anon = UnixDatagram.unbound();
  await anon.sendTo(text("x"), { path: `${dir}/d.sock` });
  assert.deepEqual(await rx.recvFrom(buf), { n: 1, addr: { transport: "unixpacket", path: "" } });
  const [a, b] = UnixDatagram.pair();
  await a.send(text("abc"));
  assert.equal(await b.recv(buf), 3);
  a.close();
  b.close();
  Deno.removeSync(dir, { recursive: true });
});

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
  name: "Async.from() refuses what cannot be polled (a regular file on epoll) and bad fds",
  ignore: !linux,
  fn: async () => {
    const file = Deno.makeTempFileSync();
    Deno.writeTextFileSync(file, "data");
    const fd = openFd(file, O_RDONLY);
    if (sharedReactor().backend === "epoll") {
      await assert.rejects(Async.from(fd), (e: Coded) => {
        assert.ok(e instanceof Deno.errors.PermissionDenied);
        assert.equal(e.code, "EPERM");
        assert.match(e.message, new RegExp(`^Cannot wrap fd ${fd}: it cannot be polled`));
        return true;
      });
      Deno.readTextFileSync(file); // still fine
      new Async(fd).close();
    } else {
      const a = await Async.from(fd); // poll(2)/io_uring report regular files always ready
      const buf = new Uint8Array(8);
      assert.equal(await a.read(buf), 4);
      a.close();
    }
    Deno.removeSync(file);
    await assert.rejects(Async.from(999_999), (e: Coded) => e instanceof Deno.errors.BadResource);
    assert.throws(() => new Async(-1), TypeError);
  },
});

Deno.test("readiness: waitReadable, waitWritable, priority (TCP urgent data), ready() masks", async () => {
  const [c, s, l] = await tcpPair();
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
  const [c, s, l] = await tcpPair();
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
  const [c, s, l] = await tcpPair();
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
  const [c2, s2, l2] = await tcpPair();
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
  const [c, s, l] = await tcpPair();
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

Deno.test("an unref'd listener waiting in accept() does not keep the process alive", async () => {
  const mod = new URL("../mod.ts", import.meta.url).href;
  const script = `import { TcpListener } from "${mod}";
    const l = TcpListener.bind({ port: 0 });
    l.unref();
    l.accept().catch(() => {});
    console.log("waiting");`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(15_000),
  }).output();
  assert.equal(
    new TextDecoder().decode(out.stdout),
    "waiting\n",
    new TextDecoder().decode(out.stderr),
  );
  assert.equal(out.code, 0);
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
