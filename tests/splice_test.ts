// op.splice and Async.pipe({ size }) on the backend named by ARIO_BACKEND:
// data through pipes and sockets, waiting on either side, closing either fd
// and aborting mid-op, the kernel's errors, bad arguments, no fd leaks.
import assert from "node:assert/strict";
import { Async, multi, op, single, SPLICE_F, UnixStream } from "../mod.ts";
import type { IoError } from "../errors.ts";
import { assertClosed, linksOf } from "./_sockets.ts";

const linux = Deno.build.os === "linux";
const opts = { ignore: !linux };
const enc = new TextEncoder(), dec = new TextDecoder();
const fdCount = () => [...Deno.readDirSync("/proc/self/fd")].length;

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

Deno.test({
  ...opts,
  name: "splice moves a pipe's bytes into another pipe, and a socket's through a pipe",
  fn: async () => {
    const [r1, w1] = Async.pipe(), [r2, w2] = Async.pipe();
    await w1.writeAll(enc.encode("hello"));
    assert.equal(await single(op.splice(r1.fd, w2.fd, 100, { flags: SPLICE_F.MOVE })), 5);
    assert.equal(dec.decode(await readN(r2, 5)), "hello");

    const [a, b] = UnixStream.pair(), [c, d] = UnixStream.pair();
    await a.writeAll(enc.encode("through the kernel"));
    const [n1, n2] = await multi([
      op.splice(b.fd, w1.fd, 18, { link: "soft" }),
      op.splice(r1.fd, c.fd, 18, { flags: SPLICE_F.MORE }),
    ]);
    assert.deepEqual([n1, n2], [18, 18]);
    assert.equal(dec.decode(await readN(d, 18)), "through the kernel");
    for (const x of [r1, w1, r2, w2, a, b, c, d]) x.close();
  },
});

Deno.test({
  ...opts,
  name: "splice waits for its input, and for room in its output",
  fn: async () => {
    const [r, w] = Async.pipe({ size: 65536 });
    const [a, b] = UnixStream.pair();
    const waiting = single(op.splice(b.fd, w.fd, 4096));
    await new Promise((res) => setTimeout(res, 30));
    await a.writeAll(enc.encode("late"));
    const n = await waiting; // what arrived: all 4, or a part (the sim backend splits writes)
    assert.ok(n >= 1 && n <= 4, String(n));
    await readN(r, n);
    await readN(b, 4 - n);

    // a full pipe: the splice into it waits until it is drained
    const stuffed = 65536; // its capacity
    for (let n = 0; n < stuffed;) n += await single(op.write(w.fd, new Uint8Array(stuffed - n)));
    await a.writeAll(enc.encode("x"));
    const blocked = single(op.splice(b.fd, w.fd, 4096));
    let done = false;
    blocked.then(() => done = true, () => done = true);
    await new Promise((res) => setTimeout(res, 30));
    assert.equal(done, false);
    await readN(r, stuffed);
    assert.equal(await blocked, 1);

    b.shutdown("read").catch(() => {});
    await a.closeWrite();
    assert.equal(await single(op.splice(b.fd, w.fd, 4096)), 0); // the end of input
    for (const x of [r, w, a, b]) x.close();
  },
});

Deno.test({
  ...opts,
  name: "closing either fd or aborting cancels a waiting splice; nothing leaks",
  fn: async () => {
    const links: string[] = []; // what this test opened (other test files share the fd table)
    for (const which of ["in", "out", "abort"] as const) {
      const [r, w] = Async.pipe({ size: 1 << 20 });
      const [a, b] = UnixStream.pair();
      links.push(...linksOf(r, w, a, b));
      const ac = new AbortController();
      const p = single(op.splice(b.fd, w.fd, 4096), { signal: ac.signal });
      await new Promise((res) => setTimeout(res, 20));
      if (which === "in") b.close();
      else if (which === "out") w.close();
      else ac.abort(new Error("stop"));
      if (which === "abort") await assert.rejects(p, /stop/);
      else await rejectsWith(p, "ECANCELED");
      for (const x of [r, w, a, b]) if (!x.closed) x.close();
    }
    await assertClosed(links);
  },
});

Deno.test({
  ...opts,
  name:
    "splice reports the kernel's errors: EBADF, EINVAL (neither a pipe), ESPIPE (an offset on a pipe)",
  fn: async () => {
    const [r, w] = Async.pipe();
    const [a, b] = UnixStream.pair();
    await rejectsWith(single(op.splice(-1, w.fd, 8)), "EBADF");
    await rejectsWith(single(op.splice(r.fd, 99_999, 8)), "EBADF");
    await rejectsWith(single(op.splice(w.fd, a.fd, 8)), "EBADF"); // the write end is not readable
    await a.writeAll(enc.encode("x"));
    await rejectsWith(single(op.splice(b.fd, a.fd, 8)), "EINVAL");
    await rejectsWith(single(op.splice(b.fd, w.fd, 8, { offOut: 0 })), "ESPIPE");
    assert.equal(await single(op.splice(b.fd, w.fd, 0)), 0); // nothing asked for
    for (const x of [r, w, a, b]) x.close();
  },
});

Deno.test("splice and Async.pipe refuse bad arguments with the field named", () => {
  const bad: [() => unknown, RegExp][] = [
    [() => op.splice(0, 1, -1), /len must be an integer/],
    [() => op.splice(0, 1, 2 ** 32), /len must be an integer/],
    [() => op.splice(0, 1, 1.5), /len must be an integer/],
    [() => op.splice(1.5, 1, 8), /fd must be an integer/],
    [() => op.splice(0, 2 ** 31, 8), /fd must be a 32-bit integer/],
    [() => op.splice(0, 1, 8, { flags: 0x10 }), /flags must combine SPLICE_F/],
    [() => op.splice(0, 1, 8, { offIn: -1 }), /offset must be an integer/],
    [() => op.splice(0, 1, 8, { offOut: 2 ** 53 }), /offset must be an integer/],
    [() => Async.pipe({ size: 0 }), /size must be an integer/],
    [() => Async.pipe({ size: 2 ** 31 }), /size must be an integer/],
  ];
  for (const [f, re] of bad) assert.throws(f, re);
});

Deno.test({
  ...opts,
  name: "Async.pipe({ size }) sets the capacity; one the kernel refuses throws and leaks nothing",
  fn: async () => {
    const [r, w] = Async.pipe({ size: 1 << 20 });
    for (let n = 0; n < 1 << 20;) { // 1 MiB fits without a reader (writes may be short: sim)
      n += await single(op.write(w.fd, new Uint8Array((1 << 20) - n)), {
        signal: AbortSignal.timeout(2000),
      });
    }
    r.close();
    w.close();
    const before = fdCount();
    assert.throws(
      () => Async.pipe({ size: 2 ** 31 - 1 }),
      /Cannot create pipe of 2147483647 bytes/,
    );
    assert.equal(fdCount(), before);
  },
});
