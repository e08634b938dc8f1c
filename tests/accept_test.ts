// Listener.incoming(): one multishot accept (ACCEPT_MULTI) serves the whole
// iteration. Attacks: floods larger than its queue and than the C loop's
// completion ring, a slow loop body, breaking with connections queued, the
// listener closed or the signal aborted mid-iteration, and through the raw
// op the completions one by one. CI runs it once per backend.
import assert from "node:assert/strict";
import { constants, Reactor, TcpListener, TcpStream, UnixListener, UnixStream } from "../mod.ts";
import { OP, SQE_FLAG } from "../ffi/layout.ts";
import { socketsOn } from "./_sockets.ts";

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

Deno.test("incoming(): a flood past its queue, a slow body: each connection once, none lost", async () => {
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { backlog: 512 });
  const N = 300;
  const seen = new Set<number>(); // the clients' ports, as the server sees them
  const server = (async () => {
    for await (const conn of l) {
      const port = conn.remoteAddr.port;
      assert.ok(!seen.has(port), `connection from ${port} yielded twice`);
      seen.add(port);
      await conn.write(new Uint8Array([seen.size & 255]));
      conn.close();
      if (seen.size % 50 === 0) await tick(20); // the queue fills meanwhile
      if (seen.size === N) break;
    }
  })();
  const clients = await Promise.all(
    Array.from({ length: N }, () => TcpStream.connect(l.localAddr)),
  );
  const got = await Promise.all(clients.map((c) => c.read(new Uint8Array(1))));
  await server;
  assert.equal(seen.size, N);
  assert.deepEqual(new Set(clients.map((c) => c.localAddr.port)), seen);
  assert.ok(got.every((n) => n === 1));
  clients.forEach((c) => c.close());
  l.close();
});

Deno.test("incoming(): breaking closes the connections it accepted ahead; none leaks", async () => {
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const port = l.localAddr.port;
  const clients = await Promise.all(
    Array.from({ length: 20 }, () => TcpStream.connect(l.localAddr)),
  );
  await tick(20); // let the multishot accept take them all
  for await (const conn of l) {
    conn.close();
    break;
  }
  l.close();
  const ends = await Promise.all(
    clients.map((c) =>
      c.read(new Uint8Array(1), { signal: AbortSignal.timeout(2000) }).then(
        (n) => String(n),
        (e) => e.code,
      )
    ),
  );
  // each client sees its server end closed (EOF) or, if it was still in the
  // backlog when the listener closed, reset
  assert.ok(ends.every((e) => e === "null" || e === "ECONNRESET"), ends.join(","));
  clients.forEach((c) => c.close());
  for (let i = 0; i < 50 && socketsOn(port); i++) await tick(10);
  assert.equal(socketsOn(port), 0);
});

Deno.test("incoming(): closing the listener ends it; an abort rejects with the reason", async () => {
  const dir = Deno.makeTempDirSync();
  const l = UnixListener.bind(`${dir}/s`);
  const seen: UnixStream[] = [];
  const loop = (async () => {
    for await (const conn of l) seen.push(conn);
  })();
  const c = await UnixStream.connect(`${dir}/s`);
  while (seen.length < 1) await tick();
  l.close();
  await loop; // ended, no error
  const l2 = UnixListener.bind(`${dir}/t`);
  const ac = new AbortController();
  const aborted = (async () => {
    for await (const _ of l2.incoming({ signal: ac.signal })) { /* none come */ }
  })();
  await tick(5);
  ac.abort(new Error("enough"));
  await assert.rejects(aborted, /enough/);
  // an already aborted signal: at once
  await assert.rejects(
    (async () => {
      for await (const _ of l2.incoming({ signal: AbortSignal.abort(new Error("now")) })) { /**/ }
    })(),
    /now/,
  );
  l2.close();
  [c, ...seen].forEach((s) => s.close());
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("incoming() on a reactor of one entry: the table and the ring stay sound", async () => {
  const r = new Reactor({ entries: 1 });
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { reactor: r });
  let n = 0;
  const server = (async () => {
    for await (const conn of l) {
      conn.close(); // through the same one-entry loop, behind the accept
      if (++n === 80) break;
    }
  })();
  const clients = await Promise.all(
    Array.from({ length: 80 }, () => TcpStream.connect(l.localAddr)),
  );
  await server;
  assert.equal(n, 80);
  clients.forEach((c) => c.close());
  l.close();
  await r.close();
});

Deno.test("ACCEPT_MULTI through the raw API: one completion per connection, `more` until the last", async () => {
  const r = new Reactor();
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { reactor: r });
  const fds: number[] = [];
  let last: number | undefined;
  const ticket = r.rawCallback({ op: OP.ACCEPT_MULTI, fd: l.fd }, (res, more) => {
    if (more) fds.push(res);
    else last = res;
  });
  const clients = await Promise.all([0, 1, 2].map(() => TcpStream.connect(l.localAddr)));
  while (fds.length < 3) await tick();
  assert.ok(fds.every((fd) => fd >= 0) && new Set(fds).size === 3);
  assert.equal(last, undefined); // it goes on
  r.cancel(ticket);
  while (last === undefined) await tick();
  assert.equal(last, -constants.ECANCELED);
  assert.equal(r.pending, 0);
  // it may not link on: -EINVAL, the rest of the chain -ECANCELED
  const res: number[] = [];
  r.submitRaw(
    [{ op: OP.ACCEPT_MULTI, fd: l.fd, flags: SQE_FLAG.LINK }, { op: OP.NOP, fd: -1 }],
    [(v) => res.push(v), (v) => res.push(v)],
  );
  while (res.length < 2) await tick();
  assert.deepEqual(res, [-constants.EINVAL, -constants.ECANCELED]);
  fds.forEach((fd) => r.closeFd(fd));
  clients.forEach((c) => c.close());
  l.close();
  await r.close();
});
