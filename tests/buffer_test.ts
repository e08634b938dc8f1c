// Memory C (or the kernel) may write stays valid whatever JS does with the
// buffer while an op is in flight: transfer (to any length), resize, detach
// by structuredClone or postMessage, drop + GC, Worker termination. Each
// attack runs against a recv (submit API), Async.read, UDP recvFrom and the
// readable stream. The invariants: no byte lands outside a live buffer
// (sentinel buffers allocated after the attack stay untouched), no byte is
// lost (a read whose buffer went away rejects with a TypeError holding the
// bytes, and the next read returns them), every op settles and nothing stays
// pending. CI runs this file once per backend (ARIO_BACKEND).
import assert from "node:assert/strict";
import {
  addressOf,
  op,
  Reactor,
  sharedReactor,
  single,
  TcpListener,
  TcpStream,
  UdpSocket,
} from "../mod.ts";
import { OP } from "../ffi/layout.ts";
import { closeFd, sendAll, tcpPair } from "./_helpers.ts";

const L = 8192;
const SENTINEL = 0xa5;

/** A payload no sentinel or zeroed memory looks like. */
function payload(n: number, seed = 1): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = ((i * 7 + seed * 13) % 251) + 1;
  p[0] = 0x42;
  return p;
}

/** Buffers allocated after an attack, where freed memory is likely to be reused. */
function sentinels(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const size of [L, L / 2, 2 * L, L + 64]) {
    for (let i = 0; i < 48; i++) out.push(new Uint8Array(size).fill(SENTINEL));
  }
  return out;
}

function touched(bufs: Uint8Array[]): number {
  let bad = 0;
  for (const b of bufs) for (let i = 0; i < b.length; i++) if (b[i] !== SENTINEL) bad++;
  return bad;
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

type Attack = { name: string; make: () => Uint8Array; hit: (b: Uint8Array) => void };

const resizable = (n: number, max: number) => new ArrayBuffer(n, { maxByteLength: max });

/** Attacks after which the buffer can no longer hold the bytes. */
const losing: Attack[] = [
  {
    name: "transfer to 2x",
    make: () => new Uint8Array(L),
    hit: (b) => void (b.buffer as ArrayBuffer).transfer(2 * L),
  },
  {
    name: "transfer to 0.5x",
    make: () => new Uint8Array(L),
    hit: (b) => void (b.buffer as ArrayBuffer).transfer(L / 2),
  },
  {
    name: "transfer to the same length",
    make: () => new Uint8Array(L),
    hit: (b) => void (b.buffer as ArrayBuffer).transfer(),
  },
  {
    name: "detach by structuredClone transfer",
    make: () => new Uint8Array(L),
    hit: (b) => void structuredClone(b.buffer, { transfer: [b.buffer as ArrayBuffer] }),
  },
  {
    name: "resize down (fixed-length view)",
    make: () => new Uint8Array(resizable(L, 2 * L), 0, L),
    hit: (b) => (b.buffer as ArrayBuffer).resize(L / 4),
  },
  {
    name: "resize down (length-tracking view)",
    make: () => new Uint8Array(resizable(L, 2 * L)),
    hit: (b) => (b.buffer as ArrayBuffer).resize(L / 4),
  },
];

/** Attacks after which the buffer still holds the bytes: they must land in it. */
const keeping: Attack[] = [
  {
    name: "resize up (length-tracking view)",
    make: () => new Uint8Array(resizable(L, 4 * L)),
    hit: (b) => (b.buffer as ArrayBuffer).resize(3 * L),
  },
  {
    name: "a growable SharedArrayBuffer grown",
    make: () => new Uint8Array(new SharedArrayBuffer(L, { maxByteLength: 4 * L })),
    hit: (b) => (b.buffer as SharedArrayBuffer).grow(2 * L),
  },
];

type Lost = TypeError & { received?: Uint8Array; addr?: Deno.NetAddr };

/** Reads exactly `n` bytes from a raw fd with the submit API. */
async function recvExactly(fd: number, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await single(op.recv(fd, out.subarray(got)));
    assert.ok(k > 0, "peer closed early");
    got += k;
  }
  return out;
}

for (const a of losing) {
  Deno.test(`recv (submit API): ${a.name} in flight rejects with the bytes, writes nowhere`, async () => {
    const [c, s] = await tcpPair();
    const data = payload(L);
    const buf = a.make();
    let settled = 0;
    const p = single(op.recv(s, buf)).finally(() => settled++);
    a.hit(buf);
    const guard = sentinels();
    await tick();
    await sendAll(c, data);
    const e = await p.then(() => undefined, (e: Lost) => e);
    assert.ok(e instanceof TypeError, `expected a TypeError, got ${e}`);
    assert.match(e.message, /recv/);
    const got = e.received!;
    assert.ok(got.length > 0 && got.length <= L);
    const rest = await recvExactly(s, L - got.length);
    assert.deepEqual([...got, ...rest], [...data]);
    assert.equal(touched(guard), 0, "bytes landed in unrelated buffers");
    assert.equal(settled, 1);
    closeFd(c);
    closeFd(s);
    assert.equal(sharedReactor().pending, 0);
  });

  Deno.test(`Async.read: ${a.name} in flight rejects, and the next read returns the bytes`, async () => {
    await using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
    const accepted = l.accept();
    await using client = await TcpStream.connect(l.localAddr);
    await using server = await accepted;
    const data = payload(L, 2);
    const buf = a.make();
    const p = server.read(buf);
    a.hit(buf);
    const guard = sentinels();
    await tick();
    await client.writeAll(data);
    const e = await p.then(() => undefined, (e: Lost) => e);
    assert.ok(e instanceof TypeError, `expected a TypeError, got ${e}`);
    assert.match(e.message, /read/);
    const got: number[] = [];
    const fresh = new Uint8Array(L);
    while (got.length < L) {
      const n = await server.read(fresh);
      assert.ok(n !== null && n > 0);
      got.push(...fresh.subarray(0, n));
    }
    assert.deepEqual(got, [...data]);
    assert.equal(touched(guard), 0, "bytes landed in unrelated buffers");
  });

  Deno.test(`UdpSocket.recvFrom: ${a.name} in flight rejects with the datagram, the next recvFrom returns it`, async () => {
    using rx = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    using tx = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    const data = payload(L / 2, 3); // more than a buffer shrunk to L / 4 holds
    const buf = a.make();
    const p = rx.recvFrom(buf);
    a.hit(buf);
    const guard = sentinels();
    await tick();
    await tx.sendTo(data, rx.localAddr);
    const e = await p.then(() => undefined, (e: Lost) => e);
    assert.ok(e instanceof TypeError, `expected a TypeError, got ${e}`);
    assert.deepEqual(e.received, data);
    assert.equal(e.addr?.port, tx.localAddr.port);
    const again = new Uint8Array(L);
    const { n, addr } = await rx.recvFrom(again);
    assert.equal(n, data.length);
    assert.deepEqual(again.subarray(0, n), data);
    assert.equal((addr as Deno.NetAddr).port, tx.localAddr.port);
    assert.equal(touched(guard), 0, "bytes landed in unrelated buffers");
  });
}

for (const a of keeping) {
  Deno.test(`recv (submit API) and Async.read: ${a.name} in flight, the bytes land in it`, async () => {
    const [c, s] = await tcpPair();
    const data = payload(L, 4);
    const buf = a.make();
    const p = single(op.recv(s, buf, { waitAll: true }));
    a.hit(buf);
    const guard = sentinels();
    await tick();
    await sendAll(c, data);
    assert.equal(await p, L);
    assert.deepEqual(buf.subarray(0, L), data);
    assert.equal(touched(guard), 0);
    closeFd(c);
    closeFd(s);

    await using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
    const accepted = l.accept();
    await using client = await TcpStream.connect(l.localAddr);
    await using server = await accepted;
    const b2 = a.make();
    const r = server.read(b2);
    a.hit(b2);
    await tick();
    await client.writeAll(data);
    const n = (await r)!;
    assert.ok(n > 0);
    assert.deepEqual(b2.subarray(0, n), data.subarray(0, n));
  });
}

Deno.test("a write sends what the buffer held when write() was called, whatever happens to it next", async () => {
  await using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const accepted = l.accept();
  await using client = await TcpStream.connect(l.localAddr);
  await using server = await accepted;
  const data = payload(L, 5);
  const sends: Promise<number>[] = [];
  for (let k = 0; k < 4; k++) {
    const b = data.slice(k * (L / 4), (k + 1) * (L / 4));
    sends.push(client.write(b));
    if (k % 2) b.buffer.transfer(1);
    else b.fill(0xee); // overwritten after the call: the old bytes still go
  }
  const raw = data.slice();
  const s2 = single(op.send(client.fd, raw));
  raw.buffer.transfer(2 * L);
  sentinels();
  const total = (await Promise.all(sends)).reduce((x, y) => x + y, 0) + await s2;
  assert.equal(total, 2 * L);
  const got: number[] = [];
  const b = new Uint8Array(L);
  while (got.length < 2 * L) {
    const n = await server.read(b);
    assert.ok(n !== null);
    got.push(...b.subarray(0, n));
  }
  assert.deepEqual(got, [...data, ...data]);
});

Deno.test("a view of a buffer that was used once, then detached, gets no stale address", async () => {
  const b = new Uint8Array(64);
  assert.ok(addressOf(b) > 0); // caches the base
  b.buffer.transfer(128);
  assert.throws(() => addressOf(b), /detached/);
  // the raw API: encode refuses it instead of submitting the freed address
  const [c, s] = await tcpPair();
  await assert.rejects(sharedReactor().raw({ op: OP.RECV, fd: s, addr: b, len: 64 }), TypeError);
  // the builders and Async refuse it up front
  assert.throws(() => op.recv(s, b), /detached/);
  await using conn = new TcpStream(s);
  await assert.rejects(conn.read(b), /detached/);
  await assert.rejects(conn.write(b), /detached/);
  closeFd(c);
});

Deno.test("readable stream: data sent equals data received while the reader detaches its buffers", async () => {
  await using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const accepted = l.accept();
  const client = await TcpStream.connect(l.localAddr);
  await using server = await accepted;
  const total = 256 * 1024;
  const data = payload(total, 6);
  const writing = (async () => {
    for (let o = 0; o < total; o += 3000) {
      const chunk = data.slice(o, Math.min(total, o + 3000));
      const w = client.writeAll(chunk);
      chunk.buffer.transfer(); // gone the moment writeAll has its bytes
      await w;
    }
    client.close();
  })();
  const reader = server.readable.getReader({ mode: "byob" });
  const got: number[] = [];
  let buf = new Uint8Array(4096);
  for (;;) {
    const { value, done } = await reader.read(buf);
    if (done) break;
    got.push(...value);
    buf = new Uint8Array(value.buffer); // the stream handed the memory back
  }
  await writing;
  assert.equal(got.length, total);
  assert.deepEqual(new Uint8Array(got), data);
});

Deno.test("every attack at random on a stream: the bytes received equal the bytes sent", async () => {
  await using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const accepted = l.accept();
  const client = await TcpStream.connect(l.localAddr);
  await using server = await accepted;
  const total = 512 * 1024;
  const data = payload(total, 7);
  let seed = 12345;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
  const writing = (async () => {
    for (let o = 0; o < total;) {
      const n = Math.min(total - o, 1 + rand(20000));
      const chunk = data.slice(o, o + n);
      const w = client.write(chunk);
      if (rand(2)) chunk.buffer.transfer(rand(3) * n);
      o += await w;
    }
    client.close();
  })();
  const got = new Uint8Array(total);
  let at = 0, lost = 0, settled = 0;
  const all = [...losing, ...keeping];
  for (;;) {
    const a = all[rand(all.length + 2)]; // sometimes no attack
    const buf = a ? a.make() : new Uint8Array(L);
    const p = server.read(buf).finally(() => settled++);
    a?.hit(buf);
    try {
      const n = await p;
      if (n === null) break;
      assert.ok(at + n <= total);
      got.set(buf.subarray(0, n), at);
      at += n;
    } catch (e) {
      assert.ok(e instanceof TypeError, String(e));
      lost++;
    }
  }
  await writing;
  assert.equal(at, total);
  assert.deepEqual(got, data);
  assert.ok(lost > 0, "no attack ever hit a read in flight");
  assert.ok(settled > 0);
});

// ---------------------------------------------------- separate processes

const mod = new URL("../mod.ts", import.meta.url).href;
const helpers = new URL("./_helpers.ts", import.meta.url).href;

async function child(code: string, flags: string[] = []): Promise<{ code: number; out: string }> {
  const f = Deno.makeTempFileSync({ prefix: "ario-buffer-", suffix: ".ts" });
  Deno.writeTextFileSync(
    f,
    `import * as ario from "${mod}";\nimport * as h from "${helpers}";\n${code}`,
  );
  try {
    const p = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", ...flags, f],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
    const r = await p.output();
    clearTimeout(timer);
    const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    return { code: r.code, out };
  } finally {
    Deno.removeSync(f);
  }
}

const SENTINEL_CODE = `
const L = ${L};
const guard = () => {
  const out = [];
  for (const size of [L, L / 2, 2 * L, L + 64]) for (let i = 0; i < 64; i++) out.push(new Uint8Array(size).fill(0xa5));
  return out;
};
const touched = (bufs) => bufs.reduce((k, b) => k + b.filter((x) => x !== 0xa5).length, 0);
const data = new Uint8Array(L).fill(0x42);
`;

Deno.test("drop + forced GC while a recv and a read are in flight: the ops complete, nothing else is written", async () => {
  const r = await child(
    `${SENTINEL_CODE}
const [c, s] = await h.tcpPair();
const [c2, s2] = await h.tcpPair();
const conn = new ario.TcpStream(s2);
let p1 = ario.single(ario.op.recv(s, new Uint8Array(L)));
let p2 = conn.read(new Uint8Array(L));
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 2)); }
const g = guard();
await h.sendAll(c, data);
await h.sendAll(c2, data);
const [n1, n2] = await Promise.all([p1, p2]);
for (let i = 0; i < 3; i++) globalThis.gc();
console.log("n", n1 > 0 && n2 > 0, "touched", touched(g), "pending", ario.sharedReactor().pending);
h.closeFd(c); h.closeFd(s); h.closeFd(c2); conn.close();
`,
    ["--v8-flags=--expose-gc"],
  );
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /n true touched 0 pending 0/, r.out);
});

Deno.test("a buffer posted to a Worker while a recv is in flight gets none of the bytes", async () => {
  const r = await child(
    `${SENTINEL_CODE}
const src = URL.createObjectURL(new Blob([\`
  onmessage = async (e) => {
    const b = new Uint8Array(e.data);
    await new Promise((r) => setTimeout(r, 100));
    postMessage(b.filter((x) => x !== 0).length);
  };
\`], { type: "text/javascript" }));
const w = new Worker(src, { type: "module" });
const [c, s] = await h.tcpPair();
const buf = new Uint8Array(L);
const p = ario.single(ario.op.recv(s, buf)).then(() => "resolved", (e) => e.received?.length ?? String(e));
w.postMessage(buf.buffer, [buf.buffer]);
const g = guard();
await new Promise((r) => setTimeout(r, 10));
await h.sendAll(c, data);
const kept = await p;
const inWorker = await new Promise((r) => w.onmessage = (e) => r(e.data));
w.terminate();
console.log("kept", kept, "worker", inWorker, "touched", touched(g));
h.closeFd(c); h.closeFd(s);
`,
  );
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /kept \d+ worker 0 touched 0/, r.out);
  assert.doesNotMatch(r.out, /kept 0 /, r.out);
});

Deno.test("a Worker terminated with a recv, a read and a recvFrom in flight: their bytes land nowhere", async () => {
  const backend = sharedReactor().backend;
  const r = await child(
    `${SENTINEL_CODE}
const [c, s] = await h.tcpPair();
const [c2, s2] = await h.tcpPair();
const u = h.udpSocket();
const src = URL.createObjectURL(new Blob([\`
  import * as ario from "${mod}";
  onmessage = (e) => {
    const [s, s2, u] = e.data;
    ario.single(ario.op.recv(s, new Uint8Array(${L}))).catch(() => {});
    new ario.TcpStream(s2).read(new Uint8Array(${L})).catch(() => {});
    ario.single(ario.op.recvFrom(u, new Uint8Array(${L}))).catch(() => {});
    setTimeout(() => postMessage("submitted"), 20);
  };
\`], { type: "text/javascript" }));
const w = new Worker(src, { type: "module" });
w.postMessage([s, s2, u.fd]);
await new Promise((r) => w.onmessage = r);
w.terminate();
await new Promise((r) => setTimeout(r, 20));
const g = guard();
await h.sendAll(c, data);
await h.sendAll(c2, data);
const tx = h.udpSocket();
await ario.single(ario.op.sendTo(tx.fd, data.subarray(0, 1000), { hostname: "127.0.0.1", port: u.port }));
await new Promise((r) => setTimeout(r, 200));
console.log("touched", touched(g));
`,
  );
  assert.equal(r.code, 0, `${backend}: ${r.out}`);
  assert.match(r.out, /touched 0/, r.out);
});

Deno.test("I/O memory is recycled, bounded when idle, and freed when a reactor closes", async () => {
  const { ioStats, IO_IDLE_MAX } = await import("../iomem.ts");
  const [c, s] = await tcpPair();
  const before = ioStats().live;
  // many reads and writes of one size reuse the same regions
  for (let i = 0; i < 200; i++) {
    const w = single(op.send(c, new Uint8Array(4096)));
    await single(op.recv(s, new Uint8Array(4096), { waitAll: true }));
    await w;
  }
  assert.ok(ioStats().live - before <= 2 * 4096, `live grew by ${ioStats().live - before}`);
  // a burst of large reads in flight: the idle pool keeps at most IO_IDLE_MAX after it
  const big = Array.from({ length: 40 }, () => single(op.recv(s, new Uint8Array(1 << 20))));
  await sendAll(c, new Uint8Array(40));
  closeFd(c);
  await Promise.allSettled(big);
  assert.ok(ioStats().idle <= IO_IDLE_MAX);
  closeFd(s);
  const r = new Reactor();
  await single(op.nop(), { reactor: r });
  await r.close();
  assert.equal(ioStats().idle, 0);
});

Deno.test("an idle stream read holds 4 KiB of C memory whatever its buffer; bulk reads grow it", async () => {
  const { ioStats } = await import("../iomem.ts");
  await using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const accepted = l.accept();
  await using client = await TcpStream.connect(l.localAddr);
  await using server = await accepted;
  const inUse = () => ioStats().live - ioStats().idle;
  const before = inUse();
  const first = new Uint8Array(1 << 20);
  const idle = server.read(first); // a 1 MiB buffer, nothing to read yet
  await tick();
  const held = inUse() - before;
  assert.ok(held <= 4096, `an idle read holds ${held} bytes of C memory`);
  const data = payload(1 << 20, 8);
  const writing = client.writeAll(data);
  const got = new Uint8Array(1 << 20);
  let at = (await idle)!;
  got.set(first.subarray(0, at));
  let largest = at;
  const buf = new Uint8Array(1 << 20);
  while (at < data.length) {
    const n = (await server.read(buf))!;
    got.set(buf.subarray(0, n), at);
    at += n;
    if (n > largest) largest = n;
  }
  await writing;
  assert.deepEqual(got, data);
  assert.ok(largest > 4096, `reads never grew past ${largest} bytes`);
});
