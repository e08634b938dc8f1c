// udp.ts over real loopback sockets (127.0.0.1 and ::1): datagrams, options,
// multicast. CI runs it once per backend.
import assert from "node:assert/strict";
import { UdpSocket } from "../mod.ts";
import { str, text } from "./_helpers.ts";
import type { Coded } from "./_sockets.ts";

for (const hostname of ["127.0.0.1", "::1"]) {
  Deno.test(`UDP over ${hostname}: sendTo/recvFrom, peekFrom, connected send/recv`, async () => {
    using a = UdpSocket.bind({ hostname, port: 0 });
    using b = UdpSocket.bind({ hostname, port: 0 });
    assert.equal(await a.sendTo(text("hello"), b.localAddr), 5);
    const buf = new Uint8Array(64);
    const peeked = await b.peekFrom(buf);
    assert.equal(peeked.n, 5);
    const got = await b.recvFrom(buf);
    assert.deepEqual(got, { n: 5, addr: { transport: "udp", hostname, port: a.localAddr.port } });
    assert.equal(str(buf.subarray(0, 5)), "hello");
    await a.connect(b.localAddr);
    await b.connect(a.localAddr);
    assert.deepEqual(a.remoteAddr, b.localAddr);
    await a.send(text("one"));
    assert.equal(await b.peek(buf), 3);
    assert.equal(await b.recv(buf), 3);
    await b.send(new Uint8Array(0));
    assert.equal(await a.recv(buf), 0, "an empty datagram");
  });
}

Deno.test("UDP options: broadcast, ttl, multicast join/leave on IPv4 and IPv6", async (t) => {
  using u = UdpSocket.bind({ port: 0 });
  u.setBroadcast(true);
  assert.equal(u.broadcast, true);
  u.setBroadcast(false);
  assert.equal(u.broadcast, false);
  u.setTtl(9);
  assert.equal(u.ttl, 9);
  u.setMulticastTtlV4(3);
  u.setMulticastLoopV4(true);
  await t.step("IPv4 multicast over loopback", async () => {
    // bound to the group itself (not 0.0.0.0): only loopback traffic reaches it
    using rx = UdpSocket.bind({ hostname: "239.255.42.1", port: 0 }, { reuseAddr: true });
    try {
      rx.joinMulticastV4("239.255.42.1", "127.0.0.1");
    } catch (e) {
      if ((e as Coded).code === "ENODEV") return; // no multicast on loopback in this sandbox
      throw e;
    }
    assert.throws(
      () => rx.joinMulticastV4("239.255.42.1", "127.0.0.1"),
      (e: Coded) => e.code === "EADDRINUSE",
    );
    using tx = UdpSocket.bind({ port: 0 });
    tx.setMulticastInterfaceV4("127.0.0.1");
    tx.setMulticastLoopV4(true);
    tx.setMulticastTtlV4(1);
    await tx.sendTo(text("mc"), { hostname: "239.255.42.1", port: rx.localAddr.port });
    const got = await rx.recvFrom(new Uint8Array(8), { signal: AbortSignal.timeout(2000) });
    assert.deepEqual(got, { n: 2, addr: tx.localAddr });
    rx.leaveMulticastV4("239.255.42.1", "127.0.0.1");
    assert.throws(
      () => rx.leaveMulticastV4("239.255.42.1", "127.0.0.1"),
      (e: Coded) => e.code === "EADDRNOTAVAIL",
    );
  });
  await t.step("IPv6 multicast join/leave", () => {
    using u6 = UdpSocket.bind({ hostname: "::1", port: 0 });
    u6.setMulticastLoopV6(true);
    try {
      u6.joinMulticastV6("ff02::4242", 1);
    } catch (e) {
      if ((e as Coded).code === "ENODEV" || (e as Coded).code === "EADDRNOTAVAIL") return;
      throw e;
    }
    u6.leaveMulticastV6("ff02::4242", 1);
  });
  assert.throws(() => u.joinMulticastV4("ff02::1"), TypeError);
  assert.throws(() => u.joinMulticastV6("239.1.1.1"), TypeError);
});
