// tcp.ts over real loopback sockets (127.0.0.1 and ::1): connect, accept,
// timeouts, aborts, options, listeners. CI runs it once per backend.
import assert from "node:assert/strict";
import { constants, sharedReactor, TcpListener, TcpStream } from "../mod.ts";
import { str, text } from "./_helpers.ts";
import { type Coded, linux, readN, socketsTo, tcpStreams } from "./_sockets.ts";

for (const hostname of ["127.0.0.1", "::1"]) {
  Deno.test(`TCP over ${hostname}: connect, accept, read, write, addresses`, async () => {
    const [c, s, l] = await tcpStreams(hostname);
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
  const [c, s, l] = await tcpStreams();
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
  const [c, s, l] = await tcpStreams();
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
