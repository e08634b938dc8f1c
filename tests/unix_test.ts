// unix.ts: Unix streams and datagrams on paths, abstract names and pairs.
// CI runs it once per backend.
import assert from "node:assert/strict";
import { UnixDatagram, UnixListener, UnixStream } from "../mod.ts";
import { str, text } from "./_helpers.ts";
import { type Coded, linux, readN } from "./_sockets.ts";

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
