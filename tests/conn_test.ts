// ario sockets in Deno's ecosystem: they are Deno.Conn / Deno.Listener (checked by the type
// checker and by code written for Deno's types), keep their addresses after close, resolve
// host names as Deno.connect does, and plug into node:http and Web streams.
import assert from "node:assert/strict";
import { createServer, get } from "node:http";
import { Duplex } from "node:stream";
import {
  resolveHost,
  resolveHostSync,
  TcpListener,
  TcpStream,
  UdpSocket,
  type UnixListener,
  UnixStream,
} from "../mod.ts";

// Assignability is the type checker's to say: `deno test` type-checks these lines.
function asDeno(t: TcpStream, u: UnixStream, tl: TcpListener, ul: UnixListener) {
  const conn: Deno.Conn = t;
  const tcp: Deno.TcpConn = t;
  const unix: Deno.UnixConn = u;
  const listener: Deno.Listener = tl;
  const tcpListener: Deno.TcpListener = tl;
  const unixListener: Deno.UnixListener = ul;
  return [conn, tcp, unix, listener, tcpListener, unixListener];
}

/** Code written for Deno's own types, knowing nothing of ario. */
async function serveOnce(listener: Deno.Listener): Promise<string> {
  const conn = await listener.accept();
  const text = await new Response(conn.readable).text();
  return `${text} from ${(conn.remoteAddr as Deno.NetAddr).hostname}`;
}

async function sendAndClose(conn: Deno.Conn, text: string): Promise<void> {
  const w = conn.writable.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close(); // closes the write side: the peer's readable ends
}

Deno.test("ario sockets are Deno.Conn and Deno.Listener: code written for Deno's types runs on them", async () => {
  using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const served = serveOnce(l);
  const c = await TcpStream.connect(l.localAddr);
  await sendAndClose(c, "hello");
  assert.equal(await served, "hello from 127.0.0.1");
  c.close();
  assert.equal(typeof asDeno, "function");
});

Deno.test("localAddr and remoteAddr keep answering after closeWrite() and close(), as Deno's do", async () => {
  using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const c = await TcpStream.connect(l.localAddr);
  const s = await l.accept();
  await c.closeWrite();
  assert.equal(await s.read(new Uint8Array(1)), null); // the peer saw end of stream
  s.close();
  assert.equal(c.remoteAddr.port, l.localAddr.port);
  c.close();
  assert.equal(c.remoteAddr.port, l.localAddr.port);
  assert.equal(c.localAddr.hostname, "127.0.0.1");
  assert.equal(s.remoteAddr.port, c.localAddr.port);
  const [a, b] = UnixStream.pair();
  a.close();
  b.close();
  assert.equal(a.localAddr.transport, "unix");
  assert.equal(b.remoteAddr.transport, "unix");
});

Deno.test("host names resolve through the system resolver, off the JS thread", async () => {
  // names from the hosts file: no packet leaves the machine
  assert.deepEqual(await resolveHost("LOCALHOST", { family: 4 }), ["127.0.0.1"]);
  assert.deepEqual(resolveHostSync("LOCALHOST", { family: 4 }), ["127.0.0.1"]);
  assert.deepEqual(await resolveHost("::1"), ["::1"]); // numeric: no lookup at all
  using l = TcpListener.bind({ hostname: "LocalHost", port: 0 }); // a bind resolves in place
  assert.equal(l.localAddr.hostname, "127.0.0.1");
  const c = await TcpStream.connect({ hostname: "LOCALHOST", port: l.localAddr.port }, {
    timeout: 2000,
  });
  const s = await l.accept();
  assert.equal(c.remoteAddr.port, l.localAddr.port);
  c.close();
  s.close();
  using u = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
  using v = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
  await v.sendTo(new Uint8Array([7]), { hostname: "LOCALHOST", port: u.localAddr.port });
  const got = new Uint8Array(1);
  assert.equal((await u.recvFrom(got)).n, 1);
  assert.equal(got[0], 7);
});

Deno.test("a lookup takes an AbortSignal and checks its input", async () => {
  await assert.rejects(
    resolveHost("LOCALHOST", { signal: AbortSignal.abort(new Error("no")) }),
    /no/,
  );
  await assert.rejects(resolveHost(""), TypeError);
  await assert.rejects(resolveHost("a\0b"), TypeError);
  await assert.rejects(resolveHost("LOCALHOST", { family: 5 as 4 }), RangeError);
  await assert.rejects(resolveHost("LOCALHOST", { timeout: -1 }), RangeError);
  await assert.rejects(
    TcpStream.connect({ hostname: "LOCALHOST", port: 1 }, { signal: AbortSignal.abort() }),
  );
});

/** A node:net-style Duplex over an ario stream, for node:http and friends. */
function duplexOf(conn: TcpStream): Duplex {
  // node's and the DOM's stream typings differ; the objects are the same
  const d = Duplex.fromWeb({ readable: conn.readable, writable: conn.writable } as never);
  d.on("close", () => conn.close());
  return d;
}

Deno.test("node:http serves over ario sockets (Duplex.fromWeb + emit('connection'))", async () => {
  const server = createServer((req, res) => res.end(`you asked for ${req.url}`));
  using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of l) server.emit("connection", duplexOf(conn));
  })();
  const body = await new Promise<string>((resolve, reject) => {
    get({ host: "127.0.0.1", port: l.localAddr.port, path: "/ario", agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => text += chunk);
      res.on("end", () => resolve(text));
    }).on("error", reject);
  });
  assert.equal(body, "you asked for /ario");
  l.close();
  await accepting.catch(() => {});
  server.close();
});

Deno.test("an ario socket pipes through TextDecoderStream and CompressionStream", async () => {
  using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const text = "ario ".repeat(10_000);
  const sending = (async () => {
    const c = await TcpStream.connect(l.localAddr);
    await ReadableStream.from([text]).pipeThrough(new TextEncoderStream())
      .pipeThrough(new CompressionStream("gzip")).pipeTo(c.writable);
    c.close();
  })();
  const s = await l.accept();
  let got = "";
  const decoded = s.readable.pipeThrough(new DecompressionStream("gzip"))
    .pipeThrough(new TextDecoderStream());
  for await (const chunk of decoded) got += chunk;
  await sending;
  s.close();
  assert.equal(got, text);
});

Deno.test("TLS over an ario socket: node:tls on a Duplex of it, against Deno's TLS server", async () => {
  const dir = Deno.makeTempDirSync();
  const made = new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
    ],
    stderr: "null",
  }).outputSync();
  assert.ok(
    made.success,
    "openssl makes a throwaway certificate (scripts/setup-system.sh installs it)",
  );
  const key = Deno.readTextFileSync(`${dir}/key.pem`),
    cert = Deno.readTextFileSync(`${dir}/cert.pem`);
  Deno.removeSync(dir, { recursive: true });
  const server = Deno.listenTls({ hostname: "127.0.0.1", port: 0, key, cert });
  const serving = (async () => {
    const c = await server.accept();
    const buf = new Uint8Array(64);
    const n = await c.read(buf);
    await c.write(new TextEncoder().encode(`tls:${new TextDecoder().decode(buf.subarray(0, n!))}`));
    c.close();
  })();
  const { connect } = await import("node:tls");
  const conn = await TcpStream.connect({ hostname: "127.0.0.1", port: server.addr.port });
  const secure = connect({ socket: duplexOf(conn) as never, ca: cert, servername: "localhost" });
  const reply = await new Promise<string>((resolve, reject) => {
    secure.on("secureConnect", () => secure.write("ping"));
    secure.on("data", (d: Uint8Array) => resolve(new TextDecoder().decode(d)));
    secure.on("error", reject);
  });
  assert.equal(reply, "tls:ping");
  assert.equal(secure.authorized, true);
  secure.destroy();
  await serving;
  server.close();
});
