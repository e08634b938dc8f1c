// The SOCKET op and RawSocket: sockets of any kind (ICMP raw and datagram,
// AF_PACKET, netlink as an "unknown" family), addresses decoded by their own
// family, and what goes wrong (bad arguments, refusals, close and abort mid-op,
// a buffer detached mid-receive). Raw and packet sockets need root (the tests
// run as root); those tests are ignored otherwise.
import assert from "node:assert/strict";
import {
  type AnyAddr,
  constants,
  decodeAnyAddr,
  encodeAddr,
  multi,
  op,
  RawSocket,
  single,
  UdpSocket,
} from "../mod.ts";
import { load } from "../ffi/load.ts";

const linux = Deno.build.os === "linux";
const root = linux && Deno.uid() === 0;
const opts = { sanitizeOps: false, sanitizeResources: false };

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function echoRequest(v6: boolean, id: number, seq: number): Uint8Array {
  const p = new Uint8Array(16);
  const v = new DataView(p.buffer);
  p[0] = v6 ? 128 : 8;
  v.setUint16(4, id);
  v.setUint16(6, seq);
  p.set([0xa, 0xb, 0xc, 0xd], 8);
  if (!v6) v.setUint16(2, checksum(p));
  return p;
}

/** Flags of an fd (F_GETFL), through libc. */
function nonBlocking(fd: number): boolean {
  const libc = Deno.dlopen("libc.so.6", { fcntl: { parameters: ["i32", "i32"], result: "i32" } });
  try {
    return (libc.symbols.fcntl(fd, constants.F_GETFL) & constants.O_NONBLOCK) !== 0;
  } finally {
    libc.close();
  }
}

Deno.test({
  ...opts,
  name: "op.socket: fds of several kinds, non-blocking; refusals carry the errno",
  ignore: !linux,
  fn: async () => {
    const kinds = [
      [constants.AF_INET, constants.SOCK_STREAM, 0],
      [constants.AF_INET6, constants.SOCK_DGRAM, 0],
      [constants.AF_UNIX, constants.SOCK_SEQPACKET, 0],
      [constants.AF_INET, constants.SOCK_DGRAM | constants.SOCK_CLOEXEC, 0],
    ];
    const fds = await multi(kinds.map(([d, t, p]) => op.socket(d, t, p)));
    for (const fd of fds) {
      assert.ok(typeof fd === "number" && fd >= 0, String(fd));
      assert.ok(nonBlocking(fd));
      await single(op.close(fd));
    }
    const refused: [number, number, number, string][] = [
      [9999, constants.SOCK_DGRAM, 0, "EAFNOSUPPORT"],
      [constants.AF_INET, 99, 0, "EINVAL"],
      [constants.AF_INET, -1, 0, "EINVAL"],
      [constants.AF_INET, constants.SOCK_STREAM, constants.IPPROTO_UDP, "EPROTONOSUPPORT"],
    ];
    for (const [d, t, p, code] of refused) {
      await assert.rejects(single(op.socket(d, t, p)), (e: Error & { code: string }) => {
        assert.equal(e.code, code);
        assert.match(e.message, new RegExp(`Cannot make socket \\(domain ${d}, type ${t}`));
        return true;
      });
    }
  },
});

Deno.test("op.socket: non-integer or out-of-range arguments are TypeError/RangeError naming the field", () => {
  assert.throws(() => op.socket(2.5, 2), /domain must be an integer/);
  assert.throws(() => op.socket(2, "x" as unknown as number), TypeError);
  assert.throws(() => op.socket(2, 2, 2 ** 40), /protocol must be a 32-bit integer/);
  assert.throws(() => op.socket(2, 2, NaN), /protocol must be an integer/);
});

Deno.test({
  ...opts,
  name: "op.socket in a chain: a refusal cancels the soft-linked op, a success lets it run",
  ignore: !linux,
  fn: async () => {
    const [fd, after, bad, cancelled] = await multi([
      op.socket(constants.AF_INET, constants.SOCK_DGRAM, 0, { link: "soft" }),
      op.nop(),
      op.socket(9999, constants.SOCK_DGRAM, 0, { link: "soft" }),
      op.nop(),
    ]);
    assert.equal(typeof fd, "number");
    assert.equal(after, undefined);
    assert.equal((bad as { code: string }).code, "EAFNOSUPPORT");
    assert.equal((cancelled as { code: string }).code, "ECANCELED");
    await single(op.close(fd as number));
  },
});

Deno.test({
  ...opts,
  name: "op.socket: many at once all arrive, distinct, none lost",
  ignore: !linux,
  fn: async () => {
    const n = 300;
    const fds = await multi(
      Array.from({ length: n }, () => op.socket(constants.AF_UNIX, constants.SOCK_DGRAM)),
    );
    assert.equal(new Set(fds).size, n);
    await multi(fds.map((fd) => op.close(fd as number)));
  },
});

for (const v6 of [false, true]) {
  const host = v6 ? "::1" : "127.0.0.1";
  Deno.test({
    ...opts,
    name: `RawSocket: an ICMP${
      v6 ? "v6" : ""
    } echo to ${host} on a raw socket; the reply is "ip", not "udp"`,
    ignore: !root,
    fn: async () => {
      await using s = await RawSocket.open({
        domain: v6 ? constants.AF_INET6 : constants.AF_INET,
        type: constants.SOCK_RAW,
        protocol: v6 ? constants.IPPROTO_ICMPV6 : constants.IPPROTO_ICMP,
      });
      const id = (Deno.pid + (v6 ? 1 : 0)) & 0xffff;
      assert.equal(await s.sendTo(echoRequest(v6, id, 7), { hostname: host, port: 0 }), 16);
      const buf = new Uint8Array(1500);
      const signal = AbortSignal.timeout(2000);
      for (;;) {
        const { n, addr } = await s.recvFrom(buf, { signal });
        assert.deepEqual(addr, { transport: "ip", hostname: host, port: 0 });
        const icmp = v6 ? buf.subarray(0, n) : buf.subarray((buf[0] & 15) * 4, n);
        const v = new DataView(icmp.buffer, icmp.byteOffset);
        if (icmp[0] !== (v6 ? 129 : 0) || v.getUint16(4) !== id) continue; // our request, others
        assert.equal(v.getUint16(6), 7);
        assert.deepEqual([...icmp.subarray(8, 12)], [0xa, 0xb, 0xc, 0xd]);
        if (!v6) assert.equal(checksum(icmp), 0);
        break;
      }
      // op.recvFrom decodes by family when asked; its default label stays "udp"
      await s.sendTo(echoRequest(v6, id, 8), { hostname: host, port: 0 });
      const got = await single(op.recvFrom(s.fd, buf, { transport: "any" }));
      assert.equal(got.addr.transport, "ip");
      s.bind({ hostname: host, port: 0 });
      assert.equal((s.localAddr as { hostname: string }).hostname, host);
    },
  });
}

Deno.test({
  ...opts,
  name: "RawSocket: AF_PACKET on lo sees a UDP datagram; its sender is a link address",
  ignore: !root,
  fn: async () => {
    const lo = Number(Deno.readTextFileSync("/sys/class/net/lo/ifindex"));
    const ETH_P_IP = constants.ETH_P_IP;
    await using p = await RawSocket.open({
      domain: constants.AF_PACKET,
      type: constants.SOCK_DGRAM,
      protocol: ((ETH_P_IP & 0xff) << 8) | (ETH_P_IP >> 8), // network byte order
    });
    p.bind({ ifIndex: lo, protocol: ETH_P_IP });
    const local = p.localAddr;
    assert.equal(local.transport, "packet");
    assert.equal((local as { ifIndex: number }).ifIndex, lo);
    using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
    const marker = crypto.getRandomValues(new Uint8Array(12));
    // other test files flood lo meanwhile: a big buffer, and the marker sent
    // again until it is seen (the socket may drop packets when full)
    p.setOption(constants.SOL_SOCKET, constants.SO_RCVBUF, 4 << 20);
    await a.sendTo(marker, b.localAddr);
    const resend = setInterval(() => a.sendTo(marker, b.localAddr).catch(() => {}), 100);
    const buf = new Uint8Array(2048);
    const signal = AbortSignal.timeout(5000);
    try {
      for (;;) {
        const { n, addr } = await p.recvFrom(buf, { signal });
        assert.equal(addr.transport, "packet");
        const l = addr as Extract<AnyAddr, { transport: "packet" }>;
        assert.equal(l.ifIndex, lo);
        assert.equal(l.protocol, ETH_P_IP);
        assert.equal(l.address.length, 6);
        assert.equal(l.mac, "00:00:00:00:00:00");
        // an IPv4 packet (SOCK_DGRAM: no link header) carrying our UDP payload
        const ihl = (buf[0] & 15) * 4;
        if (buf[9] !== 17 || n !== ihl + 8 + marker.length) continue;
        if (!marker.every((x, i) => buf[ihl + 8 + i] === x)) continue;
        assert.ok([constants.PACKET_HOST, constants.PACKET_OUTGOING].includes(l.pkttype));
        break;
      }
    } finally {
      clearInterval(resend);
    }
  },
});

Deno.test({
  ...opts,
  name: 'RawSocket: a family without a form (netlink) is "unknown" with its number and bytes',
  ignore: !linux,
  fn: async () => {
    await using s = await RawSocket.open({
      domain: constants.AF_NETLINK,
      type: constants.SOCK_RAW,
    });
    const nl = new Uint8Array(12); // sockaddr_nl: family, pad, pid 0 (the kernel picks), groups 0
    new DataView(nl.buffer).setUint16(0, constants.AF_NETLINK, true);
    s.bind({ family: constants.AF_NETLINK, bytes: nl });
    const local = s.localAddr;
    assert.equal(local.transport, "unknown");
    const u = local as Extract<AnyAddr, { transport: "unknown" }>;
    assert.equal(u.family, constants.AF_NETLINK);
    assert.equal(u.bytes.length, 12);
    assert.notEqual(new DataView(u.bytes.buffer).getUint32(4, true), 0); // the port id it got
  },
});

Deno.test("addresses: link and raw forms round-trip; bad ones are named", () => {
  const sa = encodeAddr({
    ifIndex: 7,
    protocol: 0x86dd,
    hatype: 1,
    pkttype: 3,
    mac: "02-aa-00-00-00-ff",
  });
  const d = decodeAnyAddr(sa, sa.length);
  assert.deepEqual(d, {
    transport: "packet",
    ifIndex: 7,
    protocol: 0x86dd,
    hatype: 1,
    pkttype: 3,
    address: new Uint8Array([2, 0xaa, 0, 0, 0, 0xff]),
    mac: "02:aa:00:00:00:ff",
  });
  const ip = encodeAddr({ hostname: "::1", port: 5 });
  assert.deepEqual(decodeAnyAddr(ip, ip.length), { transport: "ip", hostname: "::1", port: 5 });
  assert.deepEqual(decodeAnyAddr(ip, 0), {
    transport: "unknown",
    family: 0,
    bytes: new Uint8Array(0),
  });
  const un = encodeAddr({ path: "/tmp/x" });
  assert.deepEqual(decodeAnyAddr(un, un.length), { transport: "unix", path: "/tmp/x" });
  const short = decodeAnyAddr(ip, 4); // an IPv6 family with too few bytes: its number, its bytes
  assert.equal(short.transport, "unknown");
  assert.equal((short as { family: number }).family, constants.AF_INET6);
  assert.throws(() => encodeAddr({ ifIndex: 1, mac: new Uint8Array(9) }), /at most 8/);
  assert.throws(() => encodeAddr({ ifIndex: 1, mac: "zz:00" }), TypeError);
  assert.throws(() => encodeAddr({ ifIndex: -1 }), /ifIndex/);
  assert.throws(() => encodeAddr({ ifIndex: 1, protocol: 0x10000 }), /protocol/);
  assert.throws(() => encodeAddr({ family: 16, bytes: new Uint8Array(200) }), /at most 128/);
  assert.equal(
    load().ario_sockaddr_link_decode(ip, ip.length, new Uint8Array(20)),
    -constants.EAFNOSUPPORT,
  );
});

Deno.test({
  ...opts,
  name: "RawSocket: close and abort mid-receive; a buffer detached mid-receive keeps the datagram",
  ignore: !linux,
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    try {
      const a = await RawSocket.open({ domain: constants.AF_UNIX, type: constants.SOCK_DGRAM });
      a.bind({ path: `${dir}/a` });
      const pending = a.recvFrom(new Uint8Array(8));
      a.close();
      await assert.rejects(pending, (e: Error & { code: string }) => e.code === "ECANCELED");
      await assert.rejects(a.recvFrom(new Uint8Array(8)), /closed/);

      await using b = await RawSocket.open({
        domain: constants.AF_UNIX,
        type: constants.SOCK_DGRAM,
      });
      b.bind({ path: `${dir}/b` });
      await assert.rejects(
        b.recvFrom(new Uint8Array(8), { signal: AbortSignal.timeout(20) }),
        (e: Error) => e.name === "TimeoutError",
      );
      await using c = await RawSocket.open({
        domain: constants.AF_UNIX,
        type: constants.SOCK_DGRAM,
      });
      c.bind({ path: `${dir}/c` });
      const big = new ArrayBuffer(16);
      const got = b.recvFrom(new Uint8Array(big));
      structuredClone(big, { transfer: [big] }); // detached while C may write
      await c.sendTo(new Uint8Array([1, 2, 3]), { path: `${dir}/b` });
      await assert.rejects(got, (e: TypeError & { received?: Uint8Array; addr?: AnyAddr }) => {
        assert.deepEqual([...e.received!], [1, 2, 3]);
        assert.deepEqual(e.addr, { transport: "unix", path: `${dir}/c` });
        return true;
      });
      const again = new Uint8Array(8);
      const kept = await b.recvFrom(again); // the next receive returns it
      assert.equal(kept.n, 3);
      assert.deepEqual(kept.addr, { transport: "unix", path: `${dir}/c` });
      await assert.rejects(RawSocket.open({ domain: 9999, type: 2 }), /EAFNOSUPPORT/);
      await assert.rejects(RawSocket.open(null as never), TypeError);
      await assert.rejects(
        RawSocket.open({ domain: constants.AF_INET, type: 1.5 }),
        /type must be an integer/,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
