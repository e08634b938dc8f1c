// Unbounded channels (async_io's async_channel): FIFO, errors, close, iteration, abort.
import assert from "node:assert/strict";
import { channel, RecvError, SendError, TryRecvError } from "../mod.ts";

Deno.test("values arrive in order; receive waits for a send", async () => {
  const [tx, rx] = channel<number>();
  const first = rx.receive();
  for (let i = 0; i < 5; i++) await tx.send(i);
  assert.equal(await first, 0);
  assert.equal(rx.size, 4);
  assert.deepEqual([await rx.receive(), await rx.receive(), rx.tryReceive(), rx.tryReceive()], [
    1,
    2,
    3,
    4,
  ]);
});

Deno.test("concurrent receivers are served FIFO", async () => {
  const [tx, rx] = channel<string>();
  const got: string[] = [];
  const ps = ["r1", "r2", "r3"].map((name) => rx.receive().then((v) => got.push(`${name}:${v}`)));
  tx.trySend("a");
  tx.trySend("b");
  tx.trySend("c");
  await Promise.all(ps);
  assert.deepEqual(got, ["r1:a", "r2:b", "r3:c"]);
});

Deno.test("tryReceive: TryRecvError empty, then closed", () => {
  const [tx, rx] = channel<number>();
  assert.throws(
    () => rx.tryReceive(),
    (e) => e instanceof TryRecvError && e.kind === "empty" && e.isEmpty,
  );
  tx.trySend(7);
  tx.close();
  assert.equal(rx.tryReceive(), 7); // queued values survive the senders' close
  assert.throws(
    () => rx.tryReceive(),
    (e) => e instanceof TryRecvError && e.kind === "closed" && e.isClosed,
  );
  assert.equal(rx.closed, true);
});

Deno.test("closing the last sender rejects waiting and later receives with RecvError", async () => {
  const [tx, rx] = channel<number>();
  const tx2 = tx.clone();
  const waiting = rx.receive();
  tx.close();
  assert.equal(rx.closed, false); // tx2 still open
  tx2.trySend(1);
  assert.equal(await waiting, 1);
  const waiting2 = rx.receive();
  tx2.close();
  await assert.rejects(waiting2, RecvError);
  await assert.rejects(rx.receive(), RecvError);
  await assert.rejects(tx.send(2), (e) => e instanceof SendError && e.value === 2);
  assert.throws(() => tx.clone());
});

Deno.test("closing the receiver: SendError carries the value back", async () => {
  const [tx, rx] = channel<{ id: number }>();
  tx.trySend({ id: 1 });
  rx.close();
  assert.equal(tx.closed, true);
  const v = { id: 2 };
  await assert.rejects(
    tx.send(v),
    (e) => e instanceof SendError && e.value === v && e.name === "SendError",
  );
  assert.throws(() => tx.trySend(v), SendError);
  await assert.rejects(rx.receive(), RecvError); // queued values were dropped
});

Deno.test("async iteration ends when every sender closed; using closes a sender", async () => {
  const [tx, rx] = channel<number>();
  const producer = (async () => {
    using t = tx;
    for (let i = 0; i < 100; i++) {
      await t.send(i);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 0));
    }
  })();
  const got: number[] = [];
  for await (const v of rx) got.push(v);
  await producer;
  assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i));
});

Deno.test("an AbortSignal cancels a receive without losing later values", async () => {
  const [tx, rx] = channel<number>();
  const ac = new AbortController();
  const p = rx.receive({ signal: ac.signal });
  ac.abort(new Error("gave up"));
  await assert.rejects(p, /gave up/);
  await assert.rejects(rx.receive({ signal: ac.signal }), /gave up/);
  tx.trySend(5);
  assert.equal(await rx.receive(), 5);
  const it = rx.values({ signal: AbortSignal.timeout(5) });
  await assert.rejects(it.next(), (e) => (e as Error).name === "TimeoutError");
});

Deno.test("100 000 values through a channel", async () => {
  const [tx, rx] = channel<number>();
  const N = 100_000;
  const consumer = (async () => {
    let sum = 0;
    for await (const v of rx) sum += v;
    return sum;
  })();
  for (let i = 0; i < N; i++) tx.trySend(i);
  tx.close();
  assert.equal(await consumer, (N * (N - 1)) / 2);
});
