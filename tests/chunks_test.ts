// StreamSocket.chunks(): RECV_MULTI into provided buffers. Every byte once,
// in order, through shared groups running dry, a paused receive, early
// exits (the rest stays readable) and many connections at once.
import assert from "node:assert/strict";
import { constants, Reactor, TcpListener, TcpStream, UnixListener, UnixStream } from "../mod.ts";
import { code } from "./_sockets.ts";

function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed * 13 + (i >> 9)) & 0xff;
  return b;
}

async function pairOn(reactor?: Reactor) {
  const listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { reactor });
  const client = await TcpStream.connect(listener.localAddr, { reactor });
  const server = await listener.accept();
  listener.close();
  return { client, server };
}

async function collect(it: AsyncIterable<Uint8Array>, max = Infinity, pause = 0) {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of it) {
    parts.push(c);
    n += c.length;
    if (pause) await new Promise((r) => setTimeout(r, pause));
    if (n >= max) break;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return { out, parts };
}

Deno.test("chunks: 4 MiB arrive whole and in order, no chunk longer than its buffer", async () => {
  const { client, server } = await pairOn();
  const data = pattern(4 << 20);
  const sent = client.writeAll(data).then(() => client.closeWrite());
  const { out, parts } = await collect(server.chunks({ size: 8192 }));
  await sent;
  assert.equal(out.length, data.length);
  assert.ok(out.every((v, i) => v === data[i]), "bytes differ");
  assert.ok(parts.every((p) => p.length >= 1 && p.length <= 8192));
  client.close();
  server.close();
});

Deno.test("chunks: a slow loop body pauses the receive; nothing is lost", async () => {
  const { client, server } = await pairOn();
  const data = pattern(3 << 20, 1);
  const sent = client.writeAll(data).then(() => client.closeWrite());
  let n = 0, ok = true;
  for await (const c of server.chunks()) {
    for (let i = 0; i < c.length; i++) ok &&= c[i] === data[n + i];
    n += c.length;
    if ((n & 0xfffff) < c.length) await new Promise((r) => setTimeout(r, 30)); // the queue fills
  }
  await sent;
  assert.equal(n, data.length);
  assert.ok(ok, "bytes differ");
  client.close();
  server.close();
});

Deno.test("chunks: 40 connections share one group that runs dry; each gets its own bytes", async () => {
  const listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const N = 40, SIZE = 200_000;
  const clients = await Promise.all(
    Array.from({ length: N }, () => TcpStream.connect(listener.localAddr)),
  );
  const servers = [];
  for (let k = 0; k < N; k++) servers.push(await listener.accept());
  // which server is which client: by port
  const byPort = new Map(servers.map((s) => [s.remoteAddr.port, s]));
  const results = await Promise.all(clients.map(async (c, k) => {
    const s = byPort.get(c.localAddr.port)!;
    const data = pattern(SIZE, k);
    const sent = c.writeAll(data).then(() => c.closeWrite());
    const { out } = await collect(s.chunks({ size: 1024 })); // 64 buffers for 40 senders
    await sent;
    return out.length === SIZE && out.every((v, i) => v === data[i]);
  }));
  assert.deepEqual(results, Array(N).fill(true));
  for (const s of [...clients, ...servers]) s.close();
  listener.close();
});

Deno.test("chunks: what an early exit left queued is what the next read returns", async () => {
  const { client, server } = await pairOn();
  const data = pattern(600_000, 2);
  await client.writeAll(data);
  await client.closeWrite();
  const first = await collect(server.chunks({ size: 4096 }), 1); // one chunk, then break
  const rest: Uint8Array[] = [first.out];
  let n = first.out.length;
  const buf = new Uint8Array(65536);
  for (let r; (r = await server.read(buf)) !== null;) rest.push(buf.slice(0, r)), n += r;
  assert.equal(n, data.length);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of rest) out.set(p, at), at += p.length;
  assert.ok(out.every((v, i) => v === data[i]), "bytes differ or repeat");
  // and a second iteration after a first one that broke early
  client.close();
  server.close();
});

Deno.test("chunks: a second iteration goes on where the first stopped", async () => {
  const { client, server } = await pairOn();
  const data = pattern(300_000, 3);
  await client.writeAll(data);
  await client.closeWrite();
  const a = await collect(server.chunks(), 20_000);
  const b = await collect(server.chunks());
  const out = new Uint8Array(a.out.length + b.out.length);
  out.set(a.out);
  out.set(b.out, a.out.length);
  assert.equal(out.length, data.length);
  assert.ok(out.every((v, i) => v === data[i]));
  client.close();
  server.close();
});

Deno.test("chunks: close ends the iteration, abort throws its reason, a reset throws ECONNRESET", async () => {
  let { client, server } = await pairOn();
  const it = server.chunks();
  const next = it.next();
  setTimeout(() => server.close(), 20);
  assert.deepEqual(await next, { value: undefined, done: true });
  client.close();

  ({ client, server } = await pairOn());
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error("enough")), 20);
  await assert.rejects(collect(server.chunks({ signal: ac.signal })), /enough/);
  await client.write(new Uint8Array(3));
  client.setOption(
    constants.SOL_SOCKET,
    constants.SO_LINGER,
    new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]),
  );
  client.close(); // a reset
  await assert.rejects(collect(server.chunks()), code("ECONNRESET"));
  server.close();
});

Deno.test("chunks: bad sizes are RangeErrors; a reactor has 8 buffer sizes", async () => {
  await using r = new Reactor({ entries: 64 });
  const { client, server } = await pairOn(r);
  for (const size of [0, -1, 1.5, 2 ** 21, NaN]) {
    await assert.rejects(server.chunks({ size }).next(), RangeError, String(size));
  }
  for (let k = 0; k < 8; k++) { // each size registers its group on first use
    await client.write(new Uint8Array(k + 1));
    const it = server.chunks({ size: 100 + k });
    assert.ok((await it.next()).value?.length); // (sim may cut a chunk short)
    await it.return();
  }
  await assert.rejects(
    server.chunks({ size: 999 }).next(),
    (e) => e instanceof RangeError && /8 buffer sizes/.test(e.message),
  );
  client.close();
  server.close();
});

Deno.test("chunks: a Unix stream, and a closed socket refuses", async () => {
  const dir = Deno.makeTempDirSync();
  const listener = UnixListener.bind(`${dir}/s`);
  const client = await UnixStream.connect(`${dir}/s`);
  const server = await listener.accept();
  await client.write(new TextEncoder().encode("unix"));
  await client.closeWrite();
  const { out } = await collect(server.chunks());
  assert.equal(new TextDecoder().decode(out), "unix");
  server.close();
  await assert.rejects(server.chunks().next(), code("EBADF"));
  client.close();
  listener.close();
  Deno.removeSync(dir, { recursive: true });
});
