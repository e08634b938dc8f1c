// Anchor: Deno's built-in TCP, bulk. One connection sends TOTAL bytes in CHUNK-byte writes; the
// server reads them with a CHUNK-byte buffer. Prints bytes/s.
const total = Number(Deno.args[0] ?? 2 ** 30), chunk = Number(Deno.args[1] ?? 65536);
const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const served = (async () => {
  const c = await l.accept();
  const b = new Uint8Array(chunk);
  let got = 0;
  while (got < total) {
    const n = await c.read(b);
    if (n === null) break;
    got += n;
  }
  c.close();
  return got;
})();
const c = await Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port });
const m = new Uint8Array(chunk);
const t0 = performance.now();
for (let sent = 0; sent < total;) {
  const n = await c.write(sent + chunk <= total ? m : m.subarray(0, total - sent));
  sent += n;
}
const got = await served;
const dt = (performance.now() - t0) / 1e3;
c.close();
l.close();
console.log(`deno-native bulk bytes=${got} bytes/s=${Math.round(got / dt)}`);
