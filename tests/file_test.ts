// Regular files through the reactor (file.ts, op.openat/op.fsync, READ and
// WRITE at offsets): io_uring in the kernel, epoll/poll/select on the file
// pool. CI runs this file once per backend (ARIO_BACKEND=...).
import assert from "node:assert/strict";
import {
  Async,
  AsyncFile,
  constants,
  multi,
  op,
  POOL_THREADS,
  Reactor,
  sharedReactor,
  single,
} from "../mod.ts";
import { str, text } from "./_helpers.ts";

const MiB = 1024 * 1024;
const mod = new URL("../mod.ts", import.meta.url).href;

/** The byte a test file holds at `at` (position-dependent, so a misplaced read shows). */
const pattern = (at: number) => (Math.imul(at, 2654435761) >>> 13) & 255;

function fill(buf: Uint8Array, at: number): Uint8Array {
  for (let k = 0; k < buf.length; k++) buf[k] = pattern(at + k);
  return buf;
}

function firstWrong(buf: Uint8Array, at: number): number {
  for (let k = 0; k < buf.length; k++) if (buf[k] !== pattern(at + k)) return k;
  return -1;
}

function shuffled<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

Deno.test("a 64 MiB file written and read back at random offsets, in parallel, every byte checked", async () => {
  const path = await Deno.makeTempFile({ prefix: "ario-file-" });
  try {
    await using f = await AsyncFile.open(path, { read: true, write: true, truncate: true });
    const chunk = 256 * 1024, n = (64 * MiB) / chunk;
    const offs = shuffled([...Array(n).keys()].map((k) => k * chunk));
    const wrote = await Promise.all(offs.map((at) => f.write(fill(new Uint8Array(chunk), at), at)));
    assert.ok(wrote.every((w) => w === chunk));
    assert.equal((await Deno.stat(path)).size, 64 * MiB);
    await f.sync();
    // reads of odd sizes at odd offsets, across chunk boundaries, the last ones short
    const reads = Array.from({ length: 600 }, () => {
      const at = Math.floor(Math.random() * 64 * MiB);
      return { at, buf: new Uint8Array(1 + Math.floor(Math.random() * 300_000)) };
    });
    const got = await Promise.all(reads.map((r) => f.read(r.buf, r.at)));
    reads.forEach((r, k) => {
      const want = Math.min(r.buf.length, 64 * MiB - r.at);
      assert.equal(got[k], want, `read ${k} at ${r.at}`);
      assert.equal(firstWrong(r.buf.subarray(0, want), r.at), -1, `read ${k} at ${r.at}`);
    });
    assert.equal(await f.read(new Uint8Array(10), 64 * MiB), null); // at the end
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("thousands of concurrent file ops: reads, writes and syncs on several files", async () => {
  const paths = await Promise.all([0, 1, 2].map(() => Deno.makeTempFile({ prefix: "ario-file-" })));
  try {
    const files = await Promise.all(
      paths.map((p) => AsyncFile.open(p, { read: true, write: true })),
    );
    const ops: Promise<unknown>[] = [];
    for (let k = 0; k < 3000; k++) {
      const f = files[k % 3];
      ops.push(f.write(fill(new Uint8Array(64), k * 64), k * 64));
      if (k % 500 === 0) ops.push(f.sync({ datasync: true }));
    }
    await Promise.all(ops);
    const bufs = Array.from({ length: 3000 }, () => new Uint8Array(64));
    const got = await Promise.all(bufs.map((b, k) => files[k % 3].read(b, k * 64)));
    got.forEach((n, k) => assert.equal(n, 64, `read ${k}`));
    bufs.forEach((b, k) => assert.equal(firstWrong(b, k * 64), -1, `read ${k}`));
    await Promise.all(files.map((f) => f.close()));
  } finally {
    await Promise.all(paths.map((p) => Deno.remove(p)));
  }
});

Deno.test("op.openat/op.fsync/op.read/op.write: results, errors with codes, links", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ario-file-" });
  const path = `${dir}/f`;
  try {
    const { O_RDWR, O_CREAT, O_EXCL, O_RDONLY, O_DIRECTORY } = constants;
    const fd = await single(op.openat(path, O_RDWR | O_CREAT | O_EXCL, 0o600));
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    await assert.rejects(single(op.openat(path, O_RDWR | O_CREAT | O_EXCL)), (e: Error) => {
      assert.ok(e instanceof Deno.errors.AlreadyExists);
      assert.equal((e as Error & { code: string }).code, "EEXIST");
      assert.match(e.message, /^Cannot open ".*\/f": EEXIST \(openat\)/);
      return true;
    });
    await assert.rejects(single(op.openat(`${dir}/none`, O_RDONLY)), Deno.errors.NotFound);
    await assert.rejects(single(op.openat(path, O_RDONLY | O_DIRECTORY)), /ENOTDIR/);
    await assert.rejects(single(op.openat("", O_RDONLY)), /ENOENT/);
    // relative to a directory fd
    const dfd = await single(op.openat(dir, O_RDONLY | O_DIRECTORY));
    const rel = await single(op.openat("f", O_RDONLY, 0, { dir: dfd }));
    // a soft chain: write, sync, read back
    const out = new Uint8Array(5);
    const [w, s, r] = await multi([
      op.write(fd, text("hello"), { offset: 10, link: "soft" }),
      op.fsync(fd, { link: "soft" }),
      op.read(rel, out, { offset: 10 }),
    ]);
    assert.deepEqual([w, s, r], [5, undefined, 5]);
    assert.equal(str(out), "hello");
    assert.equal(await single(op.read(rel, new Uint8Array(4), { offset: 15 })), 0); // EOF
    // a read at the position advances it
    const a = new Uint8Array(3), b = new Uint8Array(3);
    assert.equal(await single(op.read(rel, a)), 3);
    assert.equal(await single(op.read(rel, b)), 3);
    assert.deepEqual([...a, ...b], [0, 0, 0, 0, 0, 0]);
    // a failing open breaks its chain: the write never runs
    const [o2, w2] = await multi([
      op.openat(`${dir}/none`, O_RDONLY, 0, { link: "soft" }),
      op.write(fd, text("XX"), { offset: 10 }),
    ]);
    assert.equal((o2 as Error & { code: string }).code, "ENOENT");
    assert.equal((w2 as Error & { code: string }).code, "ECANCELED");
    assert.equal(await Deno.readTextFile(path).then((t) => t.slice(10)), "hello");
    // a linked timeout that does not fire
    const [r3, t3] = await multi([
      op.read(rel, new Uint8Array(5), { offset: 10, link: "soft" }),
      op.linkTimeout(10_000),
    ]);
    assert.deepEqual([r3, t3], [5, false]);
    // fsync of a pipe: EINVAL, as the kernel says
    const [pr, pw] = Async.pipe();
    await assert.rejects(single(op.fsync(pw.fd)), /EINVAL/);
    pr.close();
    pw.close();
    for (const x of [fd, rel, dfd]) await single(op.close(x));
    // bad input: named errors, nothing submitted
    assert.throws(() => op.openat("a\0b", O_RDONLY), /NUL/);
    assert.throws(() => op.openat("a", -1), RangeError);
    assert.throws(() => op.openat("a", O_RDONLY, 0o10000), /mode/);
    assert.throws(() => op.openat(1 as unknown as string, O_RDONLY), TypeError);
    assert.throws(() => op.read(fd, new Uint8Array(1), { offset: -1 }), /offset/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AsyncFile.open: options map to flags, bad combinations are TypeErrors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ario-file-" });
  try {
    const p = `${dir}/x`;
    await assert.rejects(AsyncFile.open(p), Deno.errors.NotFound);
    await assert.rejects(AsyncFile.open(p, { create: true }), /need write/);
    await assert.rejects(AsyncFile.open(p, { read: false }), /must be true/);
    await assert.rejects(AsyncFile.open(p, { append: true, truncate: true }), /exclude/);
    await assert.rejects(AsyncFile.open(new URL("https://example.com/x")), /file: URLs/);
    {
      await using f = await AsyncFile.open(new URL(`file://${p}`), { write: true, create: true });
      assert.equal(await f.write(text("abc")), 3); // at the position
      assert.equal(await f.write(text("de")), 2);
    }
    await assert.rejects(AsyncFile.open(p, { write: true, createNew: true }), /EEXIST/);
    {
      await using f = await AsyncFile.open(p, { append: true });
      assert.equal(await f.write(text("fg")), 2);
      await assert.rejects(f.read(new Uint8Array(1), 0), /EBADF/); // not open for reading
    }
    assert.equal(await Deno.readTextFile(p), "abcdefg");
    {
      await using f = await AsyncFile.open(p, { write: true, truncate: true });
      assert.equal((await Deno.stat(p)).size, 0);
      const closing = f.close();
      assert.ok(f.closed);
      await closing;
      await assert.rejects(f.write(text("x"), 0), Deno.errors.BadResource);
      await f.close(); // twice: harmless
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a buffer detached after the op was built, or while it runs: its bytes land nowhere", async () => {
  const path = await Deno.makeTempFile({ prefix: "ario-file-" });
  try {
    await Deno.writeFile(path, fill(new Uint8Array(MiB), 0));
    await using f = await AsyncFile.open(path);
    // built, then detached, then submitted
    const buf = new Uint8Array(4096);
    const o = op.read(f.fd, buf, { offset: 0 });
    (buf.buffer as ArrayBuffer).transfer();
    await assert.rejects(single(o), (e: TypeError & { received?: Uint8Array }) => {
      assert.ok(e instanceof TypeError);
      assert.equal(e.received?.length, 4096);
      assert.equal(firstWrong(e.received!, 0), -1);
      return true;
    });
    // detached while in flight
    const many = Array.from({ length: 40 }, () => new Uint8Array(64 * 1024));
    const reads = many.map((b, k) => f.read(b, k * 1000));
    for (const b of many) (b.buffer as ArrayBuffer).transfer();
    const got = await Promise.allSettled(reads);
    for (const g of got) assert.equal(g.status, "rejected");
    // a write copies its buffer when called: detaching after is harmless
    const w = new Uint8Array(8).fill(7);
    const wp = single(op.write(f.fd, w, { offset: 0 })).catch((e) => e);
    (w.buffer as ArrayBuffer).transfer();
    const r = await wp; // EBADF: opened read-only, but never a crash
    assert.ok(r instanceof Error && /EBADF/.test(r.message));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("abort and close with file ops queued behind busy pool threads", async () => {
  const path = await Deno.makeTempFile({ prefix: "ario-file-" });
  try {
    await Deno.writeFile(path, new Uint8Array(16 * MiB).fill(1));
    const f = await AsyncFile.open(path);
    // keep the pool's threads busy, then queue more
    const big = Array.from({ length: POOL_THREADS }, () => f.read(new Uint8Array(16 * MiB), 0));
    const ac = new AbortController();
    const aborted = f.read(new Uint8Array(10), 0, { signal: ac.signal });
    ac.abort(new Error("stop"));
    const queued = Array.from({ length: 20 }, (_, k) => f.read(new Uint8Array(10), k));
    await assert.rejects(aborted, /stop|ECANCELED/);
    const closing = f.close();
    const settled = await Promise.allSettled([...big, ...queued]);
    await closing;
    for (const s of settled) {
      if (s.status === "fulfilled") assert.ok(s.value === 16 * MiB || s.value === 10);
      else assert.ok(s.reason instanceof Deno.errors.BadResource, String(s.reason));
    }
    await assert.rejects(f.read(new Uint8Array(1), 0), Deno.errors.BadResource);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("Async.from(a regular file) on every backend: reads and writes at the position", async () => {
  const path = await Deno.makeTempFile({ prefix: "ario-file-" });
  try {
    await Deno.writeTextFile(path, "0123456789");
    const fd = await single(op.openat(path, constants.O_RDWR));
    const a = await Async.from(fd);
    const buf = new Uint8Array(4);
    assert.equal(await a.read(buf), 4);
    assert.equal(str(buf), "0123");
    assert.equal(await a.write(text("ab")), 2); // at the position: 4
    assert.equal(await a.read(buf), 4);
    assert.equal(str(buf), "6789");
    assert.equal(await a.read(buf), null);
    a.close();
    assert.equal(await Deno.readTextFile(path), "0123ab6789");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a reactor closed with file ops in flight: they settle, nothing crashes", async () => {
  const path = await Deno.makeTempFile({ prefix: "ario-file-" });
  try {
    await Deno.writeFile(path, new Uint8Array(8 * MiB).fill(3));
    const reactor = new Reactor();
    const f = await AsyncFile.open(path, { reactor });
    const reads = Array.from({ length: 50 }, (_, k) => f.read(new Uint8Array(MiB), k * 1000));
    const settling = Promise.allSettled(reads);
    await new Promise((r) => setTimeout(r, 1));
    await reactor.close();
    const settled = await settling;
    for (const s of settled) {
      if (s.status === "fulfilled") assert.equal(s.value, MiB);
      else assert.ok(s.reason instanceof Error);
    }
    await f.close();
    // the shared reactor still serves files
    await using g = await AsyncFile.open(path, { reactor: sharedReactor() });
    assert.equal(await g.read(new Uint8Array(4), 0), 4);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a Worker terminated with file ops in flight: the process goes on", async () => {
  const path = await Deno.makeTempFile({ prefix: "ario-file-" });
  const script = await Deno.makeTempFile({ prefix: "ario-file-", suffix: ".ts" });
  try {
    await Deno.writeFile(path, new Uint8Array(16 * MiB).fill(5));
    await Deno.writeTextFile(
      script,
      `import * as ario from "${mod}";
const src = URL.createObjectURL(new Blob([\`
  import * as ario from "${mod}";
  const f = await ario.AsyncFile.open(${JSON.stringify(path)});
  for (let k = 0; k < 64; k++) f.read(new Uint8Array(1 << 20), k * 4096).catch(() => {});
  postMessage("busy");
\`], { type: "text/javascript" }));
for (let round = 0; round < 5; round++) {
  const w = new Worker(src, { type: "module" });
  await new Promise((r) => w.onmessage = r);
  w.terminate();
}
await new Promise((r) => setTimeout(r, 200));
await using f = await ario.AsyncFile.open(${JSON.stringify(path)});
const b = new Uint8Array(4);
console.log("after", await f.read(b, 0), b[0]);
`,
    );
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", script],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, out);
    assert.match(out, /after 4 5/);
  } finally {
    await Deno.remove(path);
    await Deno.remove(script);
  }
});
