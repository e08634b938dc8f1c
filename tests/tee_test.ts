// op.tee on the backend named by ARIO_BACKEND: a pipe's bytes duplicated
// into another pipe and still readable from the first, waiting on either
// side, the end of input, closing either fd and aborting mid-op, the
// kernel's errors, bad arguments, no fd leaks.
import assert from "node:assert/strict";
import { Async, multi, op, single, SPLICE_F, UnixStream } from "../mod.ts";
import type { IoError } from "../errors.ts";
import { assertClosed, linksOf } from "./_sockets.ts";

const opts = { ignore: Deno.build.os !== "linux" };
const enc = new TextEncoder(), dec = new TextDecoder();
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Exactly n bytes (reads may be short: the sim backend makes them so). */
async function readN(a: Async, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  for (let k = 0; k < n;) {
    const got = await a.read(buf.subarray(k));
    if (got === null) throw new Error(`end of stream after ${k} of ${n} bytes`);
    k += got;
  }
  return buf;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: IoError) => {
    assert.equal(e.code, code, String(e));
    return true;
  });
}

/** Bytes 0..n-1 of a fixed pattern. */
const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24);

Deno.test({
  ...opts,
  name: "tee copies a pipe's bytes into another pipe; both then read the same bytes",
  fn: async () => {
    const [r1, w1] = Async.pipe(), [r2, w2] = Async.pipe();
    await w1.writeAll(enc.encode("hello, twice"));
    assert.equal(await single(op.tee(r1.fd, w2.fd, 100, { flags: SPLICE_F.MORE })), 12);
    assert.equal(await single(op.tee(r1.fd, w2.fd, 5)), 5); // the input is still there: again
    assert.equal(dec.decode(await readN(r2, 17)), "hello, twicehello");
    assert.equal(dec.decode(await readN(r1, 12)), "hello, twice");

    // 40 000 bytes in chunks, each teed then consumed: both sides equal byte for byte
    const data = pattern(40_000);
    const teed: Uint8Array[] = [], read: Uint8Array[] = [];
    for (let at = 0; at < data.length;) {
      await w1.writeAll(data.subarray(at, at + 4096));
      const n = await single(op.tee(r1.fd, w2.fd, 65536));
      assert.ok(n > 0 && n <= 4096, `teed ${n}`);
      teed.push(await readN(r2, n));
      read.push(await readN(r1, n));
      at += n;
    }
    const cat = (xs: Uint8Array[]) => new Uint8Array(xs.flatMap((x) => [...x]));
    assert.deepEqual(cat(teed), data);
    assert.deepEqual(cat(read), data);

    // a short tee fails a soft link; a full one lets it go on
    await w1.writeAll(enc.encode("abc"));
    const [short, next] = await multi([op.tee(r1.fd, w2.fd, 10, { link: "soft" }), op.nop()]);
    assert.equal(short, 3);
    assert.equal(next instanceof Error && (next as IoError).code, "ECANCELED");
    const [n, done] = await multi([op.tee(r1.fd, w2.fd, 3, { link: "soft" }), op.nop()]);
    assert.deepEqual([n, done], [3, undefined]);
    assert.equal(dec.decode(await readN(r2, 6)), "abcabc");
    for (const x of [r1, w1, r2, w2]) x.close();
  },
});

Deno.test({
  ...opts,
  name: "tee waits for its input and for room in its output; 0 once the input's writer is gone",
  fn: async () => {
    const [r1, w1] = Async.pipe(), [r2, w2] = Async.pipe({ size: 65536 });
    const waiting = single(op.tee(r1.fd, w2.fd, 4096));
    await sleep(30);
    await w1.writeAll(enc.encode("late"));
    assert.equal(await waiting, 4);
    assert.equal(dec.decode(await readN(r2, 4)), "late");
    assert.equal(dec.decode(await readN(r1, 4)), "late");

    // a full output: the tee waits until it is drained
    let stuffed = 0; // until a write waits (pipe capacity counts pages, and sim clips writes)
    for (;;) {
      const n = await single(op.write(w2.fd, new Uint8Array(4096)), {
        signal: AbortSignal.timeout(50),
      }).catch(() => 0);
      if (n === 0) break;
      stuffed += n;
    }
    await w1.writeAll(enc.encode("xyz"));
    let settled = false;
    const blocked = single(op.tee(r1.fd, w2.fd, 4096)).finally(() => settled = true);
    await sleep(30);
    assert.equal(settled, false, "a tee into a full pipe waits");
    await readN(r2, stuffed);
    assert.equal(await blocked, 3);
    assert.equal(dec.decode(await readN(r2, 3)), "xyz");
    await readN(r1, 3);

    const end = single(op.tee(r1.fd, w2.fd, 4096));
    await sleep(20);
    w1.close();
    assert.equal(await end, 0);
    assert.equal(await single(op.tee(r1.fd, w2.fd, 4096)), 0);
    for (const x of [r1, r2, w2]) x.close();
  },
});

Deno.test({
  ...opts,
  name: "closing either fd or aborting cancels a waiting tee; nothing leaks",
  fn: async () => {
    const links: string[] = []; // what this test opened (other test files share the fd table)
    for (const which of ["in", "out", "abort"] as const) {
      const [r1, w1] = Async.pipe(), [r2, w2] = Async.pipe();
      links.push(...linksOf(r1, w1, r2, w2));
      const ac = new AbortController();
      const p = single(op.tee(r1.fd, w2.fd, 4096), { signal: ac.signal });
      await sleep(20);
      if (which === "in") r1.close();
      else if (which === "out") w2.close();
      else ac.abort(new Error("stop"));
      if (which === "abort") await assert.rejects(p, /stop/);
      else await rejectsWith(p, "ECANCELED");
      for (const x of [r1, w1, r2, w2]) if (!x.closed) x.close();
    }
    await assertClosed(links);
  },
});

Deno.test({
  ...opts,
  name: "tee reports the kernel's errors: EBADF, EINVAL (not two pipes)",
  fn: async () => {
    const [r, w] = Async.pipe(), [r2, w2] = Async.pipe();
    const [a, b] = UnixStream.pair();
    await w.writeAll(enc.encode("x"));
    await rejectsWith(single(op.tee(-1, w2.fd, 8)), "EBADF");
    await rejectsWith(single(op.tee(r.fd, 99_999, 8)), "EBADF");
    await rejectsWith(single(op.tee(w.fd, w2.fd, 8)), "EBADF"); // the write end is not readable
    await rejectsWith(single(op.tee(r.fd, r2.fd, 8)), "EBADF"); // nor a read end writable
    await rejectsWith(single(op.tee(r.fd, a.fd, 8)), "EINVAL"); // a socket
    await rejectsWith(single(op.tee(b.fd, w2.fd, 8)), "EINVAL");
    await rejectsWith(single(op.tee(r.fd, w.fd, 8)), "EINVAL"); // one pipe into itself
    assert.equal(await single(op.tee(r.fd, w2.fd, 0)), 0); // nothing asked for
    assert.equal(dec.decode(await readN(r, 1)), "x"); // untouched by all of it
    for (const x of [r, w, r2, w2, a, b]) x.close();
  },
});

Deno.test("tee refuses bad arguments with the field named", () => {
  const bad: [() => unknown, RegExp][] = [
    [() => op.tee(0, 1, -1), /Cannot tee: len must be an integer/],
    [() => op.tee(0, 1, 2 ** 32), /Cannot tee: len must be an integer/],
    [() => op.tee(0, 1, 1.5), /Cannot tee: len must be an integer/],
    [() => op.tee(0, 1, Number.NaN), /Cannot tee: len must be an integer/],
    [() => op.tee(1.5, 1, 8), /fd must be an integer/],
    [() => op.tee(0, 1.5, 8), /fd must be an integer/],
    [() => op.tee(0, 2 ** 31, 8), /fd must be a 32-bit integer/],
    [() => op.tee(2 ** 31, 1, 8), /fd must be a 32-bit integer/],
    [() => op.tee(0, 1, 8, { flags: 0x10 }), /Cannot tee: flags must combine SPLICE_F/],
    [() => op.tee(0, 1, 8, { flags: -1 }), /Cannot tee: flags must combine SPLICE_F/],
    [() => op.tee(0, 1, 8, { flags: 0.5 }), /Cannot tee: flags must combine SPLICE_F/],
  ];
  for (const [f, re] of bad) assert.throws(f, re);
  for (const [f] of bad) {
    assert.throws(f, (e: Error) => e instanceof RangeError || e instanceof TypeError);
  }
});
