// Mutex (FIFO, guard released by `using`) and RingBuffer (bounded, backpressure).
import assert from "node:assert/strict";
import { Mutex, RingBuffer, RingBufferClosedError, Timer, VirtualClock } from "../mod.ts";

Deno.test("Mutex: the guard is released by using; value through the guard", async () => {
  const m = new Mutex({ n: 0 });
  {
    using g = await m.lock();
    assert.equal(m.locked, true);
    g.value.n++;
    assert.equal(m.tryLock(), undefined);
  }
  assert.equal(m.locked, false);
  const g = m.tryLock()!;
  g.value = { n: 10 };
  g.release();
  g.release(); // idempotent
  assert.equal(g.held, false);
  assert.throws(() => g.value, /released/);
  assert.equal(m.unsafeValue.n, 10);
});

Deno.test("Mutex: FIFO fairness — waiters get the lock in lock() order, no barging", async () => {
  const m = new Mutex<string[]>([]);
  const first = await m.lock();
  const order: number[] = [];
  const tasks = [0, 1, 2, 3, 4].map((i) =>
    m.lock().then(async (g) => {
      using _ = g;
      order.push(i);
      g.value.push(`t${i}`);
      await new Promise((r) => setTimeout(r, 1)); // hold across a macrotask
    })
  );
  assert.equal(m.waiting, 5);
  first.release();
  assert.equal(m.locked, true); // handed straight to waiter 0
  assert.equal(m.tryLock(), undefined); // a newcomer cannot barge in
  const late = m.lock().then((g) => (order.push(99), g.release()));
  await Promise.all([...tasks, late]);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 99]);
  assert.deepEqual(m.unsafeValue, ["t0", "t1", "t2", "t3", "t4"]);
  assert.equal(m.locked, false);
});

Deno.test("Mutex: with() serialises read-modify-write across awaits", async () => {
  const m = new Mutex(0);
  await Promise.all(Array.from({ length: 50 }, () =>
    m.with(async (v) => {
      await Promise.resolve();
      const g = v; // value read before the await must still be current
      m.unsafeValue = g + 1;
    })));
  assert.equal(m.unsafeValue, 50);
});

Deno.test("Mutex: an aborted lock leaves the queue", async () => {
  const m = new Mutex(1);
  const g = await m.lock();
  const ac = new AbortController();
  const p = m.lock({ signal: ac.signal });
  const q = m.lock();
  ac.abort("cancelled");
  await assert.rejects(p, (e) => e === "cancelled");
  g.release();
  const g2 = await q;
  assert.equal(g2.value, 1);
  g2.release();
  assert.equal(m.locked, false);
});

Deno.test("RingBuffer: send waits when full, recv when empty, FIFO both ways", async () => {
  const rb = new RingBuffer<number>(2);
  assert.equal(rb.capacity, 2);
  await rb.send(1);
  await rb.send(2);
  let thirdSent = false;
  const third = rb.send(3).then(() => thirdSent = true);
  const fourth = rb.send(4);
  await new Promise((r) => setTimeout(r, 1));
  assert.equal(thirdSent, false); // backpressure
  assert.equal(rb.size, 2);
  assert.equal(await rb.recv(), 1); // frees a slot: sender 3 fills it
  await third;
  assert.equal(rb.trySend(5), false); // full again (and 4 waits before us)
  assert.deepEqual([await rb.recv(), await rb.recv(), await rb.recv()], [2, 3, 4]);
  await fourth;
  assert.equal(rb.tryRecv(), undefined);
  const r1 = rb.recv(), r2 = rb.recv();
  assert.equal(rb.trySend(10), true); // handed to r1
  await rb.send(11);
  assert.deepEqual(await Promise.all([r1, r2]), [10, 11]);
  assert.throws(() => new RingBuffer(0), RangeError);
});

Deno.test("RingBuffer: a fast producer is paced by a slow consumer (virtual time)", async () => {
  const clock = new VirtualClock();
  const rb = new RingBuffer<number>(3);
  const sentAt: number[] = [];
  const producer = (async () => {
    for (let i = 0; i < 10; i++) {
      await rb.send(i);
      sentAt.push(clock.now());
    }
    rb.close();
  })();
  const got: number[] = [];
  const consumer = (async () => {
    for await (const v of rb) {
      got.push(v);
      await Timer.after(10, { clock });
    }
  })();
  await clock.run(200);
  await Promise.all([producer, consumer]);
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // 4 go in at once (one taken, 3 buffered); then one per consumer tick
  assert.deepEqual(sentAt.slice(0, 4), [0, 0, 0, 0]);
  assert.deepEqual(sentAt.slice(4), [10, 20, 30, 40, 50, 60]);
});

Deno.test("RingBuffer: close rejects senders; receivers drain then reject; abort", async () => {
  const rb = new RingBuffer<string>(1);
  await rb.send("a");
  const blocked = rb.send("b");
  const ac = new AbortController();
  const aborted = rb.send("c", { signal: ac.signal });
  ac.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);
  rb.close();
  await assert.rejects(blocked, RingBufferClosedError);
  await assert.rejects(rb.send("d"), RingBufferClosedError);
  assert.equal(await rb.recv(), "a");
  await assert.rejects(rb.recv(), RingBufferClosedError);
  const rb2 = new RingBuffer<number>(1);
  const ac2 = new AbortController();
  const r = rb2.recv({ signal: ac2.signal });
  ac2.abort("x");
  await assert.rejects(r, (e) => e === "x");
  rb2.trySend(1);
  assert.equal(await rb2.recv(), 1);
});
