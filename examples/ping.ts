/**
 * ping: ICMP echo over IPv4 or IPv6, with per-reply lines and a summary in
 * the shape of iputils' ping.
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/ping.ts 127.0.0.1
 *   deno run --allow-ffi --allow-env --allow-read examples/ping.ts ::1 --count 3 --interval 200
 *
 * It uses an ICMP datagram socket (SOCK_DGRAM, IPPROTO_ICMP/ICMPV6: no
 * privilege needed where Linux's net.ipv4.ping_group_range admits the
 * user; the kernel then owns the identifier and the checksum) and falls
 * back to a raw socket (SOCK_RAW, which needs CAP_NET_RAW: the IPv4
 * checksum is computed here, the IP header stripped from what arrives,
 * and replies to other pings, echo requests and other ICMP messages are
 * skipped). --mode dgram|raw picks one.
 *
 * Flags: --count N (default 4), --interval ms between requests (default
 * 1000), --timeout ms to wait for each reply (default 1000), --size N
 * payload bytes (default 56, at least 8), --mode auto|dgram|raw. Output:
 * "PING host (host) 56(84) bytes of data." (IPv6: "56 data bytes"), one
 * "64 bytes from host: icmp_seq=1 ttl=64 time=0.045 ms" line per reply
 * (ttl where the socket shows it: raw IPv4), "no answer yet for
 * icmp_seq=N" after a timeout, then "--- host ping statistics ---",
 * "N packets transmitted, N received, L% packet loss, time Tms" and
 * "rtt min/avg/max/mdev = a/b/c/d ms". Exit status 0 if any reply came,
 * 1 if none, 2 for a bad command line.
 */
import { Cli } from "./_cli.ts";
import { type AnyAddr, constants, type IoError, RawSocket } from "../mod.ts";

const cli = new Cli(
  "ping",
  `
usage: ping HOST [--count N] [--interval ms] [--timeout ms] [--size N] [--mode auto|dgram|raw]

  HOST            numeric IPv4 or IPv6 address (or localhost)
  --count N       echo requests to send (default 4)
  --interval ms   time between requests (default 1000)
  --timeout ms    wait for each reply (default 1000)
  --size N        payload bytes (default 56, at least 8)
  --mode M        auto (datagram socket, else raw), dgram or raw (default auto)
`,
  {
    count: { type: "string", default: "4" },
    interval: { type: "string", default: "1000" },
    timeout: { type: "string", default: "1000" },
    size: { type: "string", default: "56" },
    mode: { type: "string", default: "auto" },
  },
  Deno.args,
  true,
);
if (cli.positionals.length !== 1) cli.fail("expected one HOST");
const host = cli.positionals[0] === "localhost" ? "127.0.0.1" : cli.positionals[0];
const count = cli.number("count", { min: 1 })!;
const interval = cli.number("interval", { fraction: true })!;
const timeout = cli.number("timeout", { min: 1, fraction: true })!;
const size = cli.number("size", { min: 8, max: 65000 })!;
const mode = cli.string("mode")!;
if (!["auto", "dgram", "raw"].includes(mode)) {
  cli.fail(`--mode must be auto, dgram or raw, got "${mode}"`);
}
const v6 = host.includes(":");
if (!v6 && !/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) {
  cli.fail(`HOST must be a numeric address, got "${host}"`);
}

const ECHO_REQUEST = v6 ? 128 : 8;
const ECHO_REPLY = v6 ? 129 : 0;

/** The Internet checksum (RFC 1071) of `b`. */
function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A datagram socket where allowed (or asked for), else a raw one. */
async function open(): Promise<{ sock: RawSocket; raw: boolean }> {
  const domain = v6 ? constants.AF_INET6 : constants.AF_INET;
  const protocol = v6 ? constants.IPPROTO_ICMPV6 : constants.IPPROTO_ICMP;
  if (mode !== "raw") {
    try {
      return {
        sock: await RawSocket.open({ domain, type: constants.SOCK_DGRAM, protocol }),
        raw: false,
      };
    } catch (e) {
      const code = (e as IoError).code;
      // EACCES: outside ping_group_range; EPROTONOSUPPORT/EAFNOSUPPORT: no ping sockets here
      if (mode === "dgram" && code === "EACCES") {
        throw new Error(
          `${(e as Error).message}: ICMP datagram sockets are not open to this group ` +
            "(net.ipv4.ping_group_range); try --mode raw",
        );
      }
      if (
        mode === "dgram" || !["EACCES", "EPERM", "EPROTONOSUPPORT", "EAFNOSUPPORT"].includes(code)
      ) {
        throw e;
      }
    }
  }
  return { sock: await RawSocket.open({ domain, type: constants.SOCK_RAW, protocol }), raw: true };
}

interface Reply {
  bytes: number;
  from: string;
  ttl?: number;
}

async function main(): Promise<void> {
  const { sock, raw } = await open();
  await using _ = sock;
  // the identifier: ours on a raw socket; a datagram socket's kernel puts its own
  // (the local port) there and hands this socket only its replies
  const id = raw ? (Deno.pid ^ (Math.random() * 0x10000)) & 0xffff : 0;
  const token = crypto.getRandomValues(new Uint8Array(8)); // tells our replies from others'
  const request = new Uint8Array(8 + size);
  const view = new DataView(request.buffer);
  request[0] = ECHO_REQUEST;
  view.setUint16(4, id);
  request.set(token, 8);
  for (let i = 16; i < request.length; i++) request[i] = i & 0xff;
  const to = { hostname: host, port: 0 };
  const buf = new Uint8Array(65536);

  /** The next reply to `seq` within the deadline, or null; anything else is skipped. */
  async function awaitReply(seq: number, signal: AbortSignal): Promise<Reply | null> {
    for (;;) {
      let n: number, addr: AnyAddr;
      try {
        ({ n, addr } = await sock.recvFrom(buf, { signal }));
      } catch (e) {
        if ((e as Error).name === "TimeoutError") return null;
        throw e;
      }
      let icmp = buf.subarray(0, n), ttl: number | undefined;
      if (raw && !v6) { // a raw IPv4 socket receives the IP header too
        const ihl = (buf[0] & 0x0f) * 4;
        if (n < ihl + 8 || buf[0] >> 4 !== 4) continue;
        ttl = buf[8];
        icmp = buf.subarray(ihl, n);
        if (checksum(icmp) !== 0) continue; // damaged
      }
      if (icmp.length < 16 || icmp[0] !== ECHO_REPLY || icmp[1] !== 0) continue;
      const v = new DataView(icmp.buffer, icmp.byteOffset, icmp.length);
      if (raw && v.getUint16(4) !== id) continue; // another ping's
      if (v.getUint16(6) !== (seq & 0xffff) || token.some((b, i) => icmp[8 + i] !== b)) continue;
      const from = addr.transport === "ip" ? addr.hostname : host;
      return { bytes: icmp.length, from, ttl };
    }
  }

  console.log(
    v6
      ? `PING ${host} (${host}) ${size} data bytes`
      : `PING ${host} (${host}) ${size}(${size + 28}) bytes of data.`,
  );
  const rtts: number[] = [];
  const start = performance.now();
  for (let seq = 1; seq <= count; seq++) {
    view.setUint16(6, seq & 0xffff);
    view.setUint16(2, 0);
    if (!v6) view.setUint16(2, checksum(request)); // ICMPv6's is the kernel's (RFC 3542)
    const t0 = performance.now();
    await sock.sendTo(request, to);
    const reply = await awaitReply(seq, AbortSignal.timeout(timeout));
    if (reply) {
      const rtt = performance.now() - t0;
      rtts.push(rtt);
      const ttl = reply.ttl === undefined ? "" : ` ttl=${reply.ttl}`;
      console.log(
        `${reply.bytes} bytes from ${reply.from}: icmp_seq=${seq}${ttl} time=${rtt.toFixed(3)} ms`,
      );
    } else {
      console.log(`no answer yet for icmp_seq=${seq}`);
    }
    const wait = interval - (performance.now() - t0);
    if (seq < count && wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const elapsed = Math.round(performance.now() - start);
  const loss = Math.round((1 - rtts.length / count) * 100);
  console.log(`\n--- ${host} ping statistics ---`);
  console.log(
    `${count} packets transmitted, ${rtts.length} received, ${loss}% packet loss, time ${elapsed}ms`,
  );
  if (rtts.length) {
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    const mdev = Math.sqrt(
      Math.max(0, rtts.reduce((a, b) => a + b * b, 0) / rtts.length - avg * avg),
    );
    const f = (x: number) => x.toFixed(3);
    console.log(
      `rtt min/avg/max/mdev = ${f(Math.min(...rtts))}/${f(avg)}/${f(Math.max(...rtts))}/${
        f(mdev)
      } ms`,
    );
  }
  if (!rtts.length) Deno.exit(1);
}

await cli.run(main);
