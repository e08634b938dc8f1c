// workers.ts: a pool of Workers, each with its own reactor and a reusePort
// listener on one port (tests/_pool_worker.ts): connections spread over
// them, a Worker that dies is replaced while the others serve, and close()
// lets every Worker exit on its own. Real loopback sockets, every backend.
import assert from "node:assert/strict";
import { TcpListener, TcpStream, WorkerPool } from "../mod.ts";

const WORKER = new URL("./_pool_worker.ts", import.meta.url);

type Note = {
  listening?: number;
  echoed?: number;
  bye?: number;
  accepted?: number;
  survived?: number;
};

/** A pool of `count` on a fresh port, with what its Workers said. */
async function startPool(count: number) {
  // a reusePort listener holds the port until every Worker listens on it too
  const hold = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { reusePort: true });
  const port = hold.localAddr.port;
  const notes: Note[] = [];
  const errors: string[] = [];
  let wake = () => {};
  const pool = new WorkerPool(WORKER, {
    count,
    data: { port },
    graceMs: 10_000,
    onMessage: (_i, m) => {
      notes.push(m as Note);
      wake();
    },
    onError: (i, e) => errors.push(`${i}: ${e.message}`),
  });
  const until = async (ok: () => boolean, what: string) => {
    const end = Date.now() + 15_000;
    while (!ok()) {
      assert.ok(Date.now() < end, `timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  };
  await until(() => notes.filter((n) => n.listening !== undefined).length === count, "listening");
  hold.close(); // from now on only the Workers' listeners share the port
  return { pool, port, notes, errors, until };
}

async function echoOnce(port: number, text: string): Promise<string> {
  await using c = await TcpStream.connect({ hostname: "127.0.0.1", port }, { timeout: 5_000 });
  await c.writeAll(new TextEncoder().encode(text));
  const buf = new Uint8Array(text.length);
  for (let got = 0; got < buf.length;) {
    const n = await c.read(buf.subarray(got), { signal: AbortSignal.timeout(5_000) });
    assert.notEqual(n, null, "the server closed early");
    got += n!;
  }
  return new TextDecoder().decode(buf);
}

Deno.test("WorkerPool: connections spread over the Workers' reusePort listeners; close() lets each exit", async () => {
  const { pool, port, notes, errors } = await startPool(2);
  const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => echoOnce(port, `m${i}`)));
  assert.deepEqual(replies, Array.from({ length: 40 }, (_, i) => `m${i}`));
  await pool.close();
  const byes = notes.filter((n) => n.bye !== undefined);
  assert.deepEqual(byes.map((b) => b.bye).sort(), [0, 1], "both Workers exited on their own");
  assert.equal(byes.reduce((s, b) => s + b.accepted!, 0), 40, "every connection was accepted once");
  for (const b of byes) assert.ok(b.accepted! > 0, `worker ${b.bye} served none of 40`);
  assert.deepEqual(errors, []);
  // the port is free again: no Worker's listener outlived the pool
  TcpListener.bind({ hostname: "127.0.0.1", port }).close();
});

Deno.test("WorkerPool: a Worker that dies is replaced while the other serves", async () => {
  const { pool, port, notes, errors, until } = await startPool(2);
  pool.post("crash", 0);
  await until(() => errors.length === 1, "the crash");
  assert.match(errors[0], /^0: .*worker 0 crashes on request/);
  // worker 1 serves while 0 is down
  for (let i = 0; i < 10; i++) assert.equal(await echoOnce(port, `x${i}`), `x${i}`);
  await until(() => notes.filter((n) => n.listening === 0).length === 2, "the restart");
  assert.equal(pool.restarts, 1);
  for (let i = 0; i < 20; i++) assert.equal(await echoOnce(port, `y${i}`), `y${i}`);
  await pool.close();
  assert.deepEqual(notes.filter((n) => n.bye !== undefined).map((n) => n.bye).sort(), [0, 1]);
  TcpListener.bind({ hostname: "127.0.0.1", port }).close();
});

Deno.test("WorkerPool: an error a Worker handles itself costs it nothing: no restart, its sockets stay", async () => {
  const { pool, port, notes, errors, until } = await startPool(2);
  pool.post("handled error");
  await until(() => notes.filter((n) => n.survived !== undefined).length === 2, "both survive");
  for (let i = 0; i < 20; i++) assert.equal(await echoOnce(port, `z${i}`), `z${i}`);
  await pool.close();
  assert.equal(pool.restarts, 0);
  assert.deepEqual(errors, []);
  const byes = notes.filter((n) => n.bye !== undefined);
  assert.deepEqual(byes.map((b) => b.bye).sort(), [0, 1]);
  assert.equal(byes.reduce((s, b) => s + b.accepted!, 0), 20);
});

Deno.test("WorkerPool: bad counts are RangeErrors; poolWorker outside a Worker rejects", async () => {
  assert.throws(() => new WorkerPool(WORKER, { count: 0 }), RangeError);
  assert.throws(() => new WorkerPool(WORKER, { count: 1.5 }), /count must be 1\.\.1024/);
  const { poolWorker } = await import("../mod.ts");
  await assert.rejects(poolWorker(), /not inside a Worker/);
});

Deno.test("WorkerPool: once close() resolves nothing of the pool keeps the process alive", async () => {
  const mod = new URL("../mod.ts", import.meta.url).href;
  const code = `import { WorkerPool } from "${mod}";
    const pool = new WorkerPool(new URL("${WORKER.href}"), { count: 2, data: { port: 0 }, graceMs: 30000 });
    await new Promise((r) => setTimeout(r, 300));
    await pool.close();
    console.log("closed");`;
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(25_000),
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(new TextDecoder().decode(out.stdout), /closed/);
  assert.ok(performance.now() - t0 < 15_000, "the grace timer held the process");
});
