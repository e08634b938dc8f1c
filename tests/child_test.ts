// ChildExit: a child's exit (Linux pidfd) awaited through the reactor next to
// socket ops, bounded, cancelled, in a batch, and after the child already
// exited; Deno's own child.status keeps working (ario never reaps).
import assert from "node:assert/strict";
import { ChildExit, multi, op, POLL, UdpSocket } from "../mod.ts";

const linux = Deno.build.os === "linux";
const opts = { sanitizeOps: false, sanitizeResources: false, ignore: !linux };
const sleep = (s: string) => new Deno.Command("sleep", { args: [s] });

Deno.test({
  ...opts,
  name: "ChildExit: sleep 0.2 is awaited alongside a socket receive; child.status still works",
  fn: async () => {
    using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    const t0 = performance.now();
    using exit = ChildExit.spawn(sleep("0.2"));
    const order: string[] = [];
    const recv = b.recv(new Uint8Array(8)).then((n) => order.push(`datagram ${n}`));
    const exited = exit.wait().then(() => order.push("exit"));
    setTimeout(() => a.sendTo(new Uint8Array(3), b.localAddr), 50);
    await Promise.all([recv, exited]);
    const took = performance.now() - t0;
    assert.deepEqual(order, ["datagram 3", "exit"]);
    assert.ok(took >= 190, `resolved after ${took} ms, before the child ended`);
    const status = await exit.child.status;
    assert.equal(status.success, true);
    assert.equal(status.code, 0);
  },
});

Deno.test({
  ...opts,
  name: "ChildExit: a child that exited (and was reaped) before the wait resolves at once",
  fn: async () => {
    using exit = ChildExit.spawn(new Deno.Command("true"));
    await exit.child.status; // Deno has reaped it: the pidfd still says it exited
    const t0 = performance.now();
    await exit.wait();
    assert.ok(performance.now() - t0 < 500);
    await exit.wait(); // and says it again
  },
});

Deno.test({
  ...opts,
  name: "ChildExit: abort and close reject a pending wait; a killed child's wait resolves",
  fn: async () => {
    using exit = ChildExit.spawn(sleep("30"));
    await assert.rejects(
      exit.wait({ signal: AbortSignal.timeout(30) }),
      (e: Error) => e.name === "TimeoutError",
    );
    const pending = exit.wait();
    exit.close();
    await assert.rejects(pending, (e: Error & { code?: string }) => e.code === "ECANCELED");
    await assert.rejects(exit.wait(), /closed/);
    exit.child.kill("SIGKILL");
    assert.equal((await exit.child.status).signal, "SIGKILL");

    using again = ChildExit.spawn(sleep("30"));
    setTimeout(() => again.child.kill("SIGTERM"), 20);
    await again.wait({ signal: AbortSignal.timeout(5000) });
    assert.equal((await again.child.status).signal, "SIGTERM");
  },
});

Deno.test({
  ...opts,
  name: "ChildExit: a POLL in a batch, bounded by a linked timeout, both ways",
  fn: async () => {
    using slow = ChildExit.spawn(sleep("30"));
    const [ev, fired] = await multi([slow.op({ link: "soft" }), op.linkTimeout(20)]);
    assert.equal((ev as { code?: string }).code, "ECANCELED");
    assert.equal(fired, true);
    slow.child.kill("SIGKILL");
    await slow.child.status;

    using quick = ChildExit.spawn(sleep("0.01"));
    const [ev2, fired2] = await multi([quick.op({ link: "soft" }), op.linkTimeout(5000)]);
    // IN once it exited, with HUP once Deno reaped it too (the kernel's pidfd_poll)
    assert.ok(ev2 === POLL.IN || ev2 === (POLL.IN | POLL.HUP), String(ev2));
    assert.equal(fired2, false);
    await quick.child.status;
  },
});

Deno.test({
  ...opts,
  name:
    "ChildExit.spawn: bad input is a TypeError; a command that cannot start throws as Deno does",
  fn: () => {
    assert.throws(() => ChildExit.spawn("sleep" as never), TypeError);
    assert.throws(
      () => ChildExit.spawn(new Deno.Command("/no/such/program")),
      Deno.errors.NotFound,
    );
  },
});

Deno.test({
  ...opts,
  name: "ChildExit: many children at once, each wait resolves after its own child",
  fn: async () => {
    const exits = Array.from({ length: 20 }, (_, i) => ChildExit.spawn(sleep(`0.0${i % 5}`)));
    try {
      await Promise.all(exits.map((e) => e.wait({ signal: AbortSignal.timeout(10_000) })));
      for (const e of exits) assert.equal((await e.child.status).code, 0);
    } finally {
      for (const e of exits) e.close();
    }
  },
});
