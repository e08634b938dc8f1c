// Anchor: Deno's UDP (Deno.listenDatagram, needs --unstable-net). K senders each do N ping-pongs
// of 16 bytes with one echo socket. Prints round trips/s.
const K = Number(Deno.args[0] ?? 16), N = Number(Deno.args[1] ?? 5000);
const opts = { hostname: "127.0.0.1", port: 0, transport: "udp" as const };
const echo = Deno.listenDatagram(opts);
(async () => {
  for (;;) {
    const [d, from] = await echo.receive().catch(() => [null, null] as const);
    if (d === null) return;
    await echo.send(d, from!);
  }
})();
const to = echo.addr as Deno.NetAddr;
async function sender() {
  const s = Deno.listenDatagram(opts);
  const m = new Uint8Array(16);
  for (let i = 0; i < N; i++) {
    await s.send(m, to);
    await s.receive();
  }
  s.close();
}
const t0 = performance.now();
await Promise.all(Array.from({ length: K }, sender));
const dt = (performance.now() - t0) / 1e3;
echo.close();
console.log(`deno-native udp senders=${K} rtt/s=${Math.round(K * N / dt)}`);
Deno.exit(0);
