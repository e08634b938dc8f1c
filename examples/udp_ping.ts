/**
 * UDP ping: a server that echoes datagrams, and a client that sends
 * numbered pings and reports round-trip times.
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/udp_ping.ts --server --port 9000
 *   deno run --allow-ffi --allow-env --allow-read examples/udp_ping.ts --port 9000 --count 10
 *
 * Server flags: --server, --host (default 127.0.0.1), --port (0: any; it
 * prints "listening on HOST:PORT"), --max N (exit after N datagrams).
 * Client flags: --host, --port, --count (default 5), --interval ms
 * (default 10), --timeout ms per reply (default 1000). The client prints
 * one line per reply ("seq=1 rtt=0.081 ms", "seq=2 timeout", "seq=3 refused
 * (nothing listens)") and a summary: "N sent, N received, L% loss, rtt
 * min/avg/max/p50 = a/b/c/d ms" (no rtt part when nothing came back).
 */
import { Cli } from "./_cli.ts";
import { UdpSocket } from "../mod.ts";

const cli = new Cli(
  "udp_ping",
  `
usage: udp_ping --server [--host H] [--port P] [--max N]
       udp_ping --port P [--host H] [--count N] [--interval ms] [--timeout ms]

  --server        echo datagrams (prints "listening on HOST:PORT"; port 0: any)
  --host H        address to bind or ping (default 127.0.0.1)
  --port P        port to bind (server, default 0) or ping (client, required)
  --max N         server: exit after N datagrams
  --count N       pings to send (default 5)
  --interval ms   pause between pings (default 10)
  --timeout ms    wait per reply (default 1000)
`,
  {
    server: { type: "boolean", default: false },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    max: { type: "string" },
    count: { type: "string", default: "5" },
    interval: { type: "string", default: "10" },
    timeout: { type: "string", default: "1000" },
  },
);
const host = cli.string("host")!;
const max = cli.number("max", { min: 1 });
const count = cli.number("count", { min: 1 })!;
const interval = cli.number("interval", { fraction: true })!;
const timeout = cli.number("timeout", { min: 1, fraction: true })!;
const port = cli.flag("server")
  ? cli.number("port", { max: 65535 }) ?? 0
  : cli.required("port", { min: 1, max: 65535 });

async function server(): Promise<void> {
  using sock = UdpSocket.bind({ hostname: host, port });
  console.log(`listening on ${host}:${sock.localAddr.port}`);
  const buf = new Uint8Array(65536);
  for (let left = max ?? Infinity; left > 0; left--) {
    const { n, addr } = await sock.recvFrom(buf);
    await sock.sendTo(buf.subarray(0, n), addr as Deno.NetAddr);
  }
}

async function client(): Promise<void> {
  const v6 = host.includes(":");
  using sock = UdpSocket.bind({ hostname: v6 ? "::1" : "127.0.0.1", port: 0 });
  await sock.connect({ hostname: host, port });
  const rtts: number[] = [];
  const msg = new Uint8Array(16), reply = new Uint8Array(16);
  const view = new DataView(msg.buffer);
  for (let seq = 1; seq <= count; seq++) {
    view.setUint32(0, seq);
    const t0 = performance.now();
    try {
      await sock.send(msg);
      const deadline = AbortSignal.timeout(timeout);
      // skip late replies to earlier pings
      while (
        (await sock.recv(reply, { signal: deadline })) < 4 ||
        new DataView(reply.buffer).getUint32(0) !== seq
      );
      const rtt = performance.now() - t0;
      rtts.push(rtt);
      console.log(`seq=${seq} rtt=${rtt.toFixed(3)} ms`);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if ((e as Error).name === "TimeoutError") console.log(`seq=${seq} timeout`);
      // nothing listens there: the ICMP "port unreachable" comes back as ECONNREFUSED
      else if (code === "ECONNREFUSED") console.log(`seq=${seq} refused (nothing listens)`);
      else throw e;
    }
    if (seq < count) await new Promise((r) => setTimeout(r, interval));
  }
  const sorted = [...rtts].sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(3);
  const avg = rtts.reduce((a, b) => a + b, 0) / (rtts.length || 1);
  const loss = Math.round((1 - rtts.length / count) * 100);
  console.log(
    `${count} sent, ${rtts.length} received, ${loss}% loss` +
      (rtts.length
        ? `, rtt min/avg/max/p50 = ${f(sorted[0])}/${f(avg)}/${f(sorted.at(-1)!)}/${
          f(sorted[sorted.length >> 1])
        } ms`
        : ""),
  );
}

await cli.run(cli.flag("server") ? server : client);
