// spawn / JoinHandle / runtime (async_io's async_spawn, JoinFuture, runtime).
import assert from "node:assert/strict";
import { channel, JoinHandle, runtime, spawn, TaskError, Timer } from "../mod.ts";

Deno.test("spawn: await the result; errors reject the handle", async () => {
  const h = spawn(async () => {
    await Timer.after(1);
    return 42;
  });
  assert.ok(h instanceof JoinHandle);
  assert.equal(h.finished, false);
  assert.equal(await h, 42);
  assert.equal(h.finished, true);
  const bad = spawn(() => {
    throw new Error("boom");
  });
  await assert.rejects(bad.result, /boom/);
});

Deno.test("spawn runs the task on a microtask, not synchronously", async () => {
  let ran = false;
  const h = spawn(() => ran = true);
  assert.equal(ran, false);
  await h;
  assert.equal(ran, true);
});

Deno.test("abort: the task's signal fires and its waits reject with the reason", async () => {
  const h = spawn((signal) => Timer.after(60_000).wait({ signal }));
  await Timer.after(1);
  h.abort(new Error("cancelled by parent"));
  assert.equal(h.signal.aborted, true);
  await assert.rejects(h.result, /cancelled by parent/);
});

Deno.test("runtime waits for main and every non-detached task, not detached ones", async () => {
  const events: string[] = [];
  let detachedDone = false;
  const out = await runtime(() => {
    spawn(async () => {
      await Timer.after(20);
      events.push("child");
      spawn(async () => { // grandchild, spawned after main ended
        await Timer.after(5);
        events.push("grandchild");
      });
    });
    spawn(async () => {
      await Timer.after(200);
      detachedDone = true;
    }).detach();
    events.push("main");
    return "result";
  });
  assert.equal(out, "result");
  assert.deepEqual(events, ["main", "child", "grandchild"]);
  assert.equal(detachedDone, false);
  await Timer.after(250);
  assert.equal(detachedDone, true);
});

Deno.test("runtime: main's error rejects; unawaited task failures reject with TaskError", async () => {
  await assert.rejects(
    runtime(() => {
      throw new Error("main failed");
    }),
    /main failed/,
  );
  await assert.rejects(
    runtime(() => {
      spawn(() => Promise.reject(new Error("t1")));
      spawn(() => 1);
    }),
    (e) =>
      e instanceof TaskError && e.errors.length === 1 && (e.errors[0] as Error).message === "t1",
  );
  // an awaited failure is the awaiter's to handle
  const v = await runtime(async () => {
    const h = spawn(() => Promise.reject(new Error("handled")));
    return await h.catch((e) => (e as Error).message);
  });
  assert.equal(v, "handled");
});

Deno.test("using a JoinHandle detaches it", async () => {
  let done = false;
  await runtime(() => {
    using _h = spawn(async () => {
      await Timer.after(30);
      done = true;
    });
  });
  assert.equal(done, false);
  await Timer.after(40);
  assert.equal(done, true);
});

Deno.test("runtime: a channel pipeline of tasks", async () => {
  const sum = await runtime(async () => {
    const [tx, rx] = channel<number>();
    const [outTx, outRx] = channel<number>();
    spawn(async () => {
      for await (const v of rx) await outTx.send(v * 2);
      outTx.close();
    });
    const producers = [0, 1, 2].map((k) => {
      const t = tx.clone();
      return spawn(async () => {
        for (let i = 0; i < 10; i++) await t.send(k * 10 + i);
        t.close();
      });
    });
    tx.close();
    await Promise.all(producers);
    let s = 0;
    for await (const v of outRx) s += v;
    return s;
  });
  assert.equal(sum, 2 * (29 * 30) / 2);
});

Deno.test("timers inside tasks never stall (re-arm while C's waiter sleeps)", async () => {
  // The shape that hung about one run in three before timer.ts re-rang C's
  // waiting thread after a re-arm (a wake-up lost in the epoll backend).
  let stuck = false;
  for (let i = 0; i < 200 && !stuck; i++) {
    const round = (async () => {
      const h = spawn((signal) => Timer.after(60_000).wait({ signal }));
      await Timer.after(1);
      h.abort(new Error("x"));
      await h.catch(() => {});
      await runtime(() => {
        spawn(async () => {
          await Timer.after(2);
          spawn(() => Timer.after(1));
        });
        spawn(() => Timer.after(5)).detach();
      });
      await Promise.all(Array.from({ length: 50 }, () => Timer.after(Math.random() * 3)));
    })();
    let guard: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((r) => guard = setTimeout(() => (stuck = true, r()), 1000));
    await Promise.race([round, timeout]);
    clearTimeout(guard);
  }
  assert.equal(stuck, false, "a round of <= 10 ms of timers did not finish in 1 s");
});
