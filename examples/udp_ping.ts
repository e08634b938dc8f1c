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
 * one line per reply ("seq=1 rtt=0.081 ms") and a summary:
 * "N sent, N received, L% loss, rtt min/avg/max/p50 = a/b/c/d ms".
 */
import { parseArgs } from "node:util";
import { UdpSocket } from "../mod.ts";

const { values } = parseArgs({
  options: {
    server: { type: "boolean", default: false },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    max: { type: "string" },
    count: { type: "string", default: "5" },
    interval: { type: "string", default: "10" },
    timeout: { type: "string", default: "1000" },
  },
});

if (values.server) {
  using sock = UdpSocket.bind({ hostname: values.host, port: Number(values.port) });
  console.log(`listening on ${values.host}:${sock.localAddr.port}`);
  const buf = new Uint8Array(65536);
  for (let left = values.max === undefined ? Infinity : Number(values.max); left > 0; left--) {
    const { n, addr } = await sock.recvFrom(buf);
    await sock.sendTo(buf.subarray(0, n), addr as Deno.NetAddr);
  }
} else {
  const v6 = values.host.includes(":");
  using sock = UdpSocket.bind({ hostname: v6 ? "::1" : "127.0.0.1", port: 0 });
  await sock.connect({ hostname: values.host, port: Number(values.port) });
  const count = Number(values.count);
  const rtts: number[] = [];
  const msg = new Uint8Array(16), reply = new Uint8Array(16);
  const view = new DataView(msg.buffer);
  for (let seq = 1; seq <= count; seq++) {
    view.setUint32(0, seq);
    const t0 = performance.now();
    await sock.send(msg);
    try {
      const deadline = AbortSignal.timeout(Number(values.timeout));
      // skip late replies to earlier pings
      while (
        (await sock.recv(reply, { signal: deadline })) < 4 ||
        new DataView(reply.buffer).getUint32(0) !== seq
      );
      const rtt = performance.now() - t0;
      rtts.push(rtt);
      console.log(`seq=${seq} rtt=${rtt.toFixed(3)} ms`);
    } catch (e) {
      if ((e as Error).name !== "TimeoutError") throw e;
      console.log(`seq=${seq} timeout`);
    }
    if (seq < count) await new Promise((r) => setTimeout(r, Number(values.interval)));
  }
  const sorted = [...rtts].sort((a, b) => a - b);
  const f = (x: number | undefined) => (x ?? NaN).toFixed(3);
  const avg = rtts.reduce((a, b) => a + b, 0) / (rtts.length || 1);
  console.log(
    `${count} sent, ${rtts.length} received, ${
      Math.round((1 - rtts.length / count) * 100)
    }% loss, ` +
      `rtt min/avg/max/p50 = ${f(sorted[0])}/${f(avg)}/${f(sorted.at(-1))}/${
        f(sorted[sorted.length >> 1])
      } ms`,
  );
}
