/**
 * A smoke test through the public API, for Deno running on an emulated
 * platform (scripts/test-foreign.sh): which library and backend loaded, a
 * timer, and a TCP echo over 127.0.0.1. Exits non-zero on any mismatch.
 */
import { sharedReactor, TcpListener, TcpStream, Timer } from "../mod.ts";

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`smoke: ${what}`);
}

const r = sharedReactor();
console.log(
  `deno ${Deno.version.deno} on ${Deno.build.os}-${Deno.build.arch}, backend ${r.backend}`,
);

const t0 = Timer.now();
await Timer.after(20);
const slept = Timer.now() - t0;
console.log(`Timer.after(20) fired after ${slept.toFixed(2)} ms`);
check(slept >= 20, `the timer fired early (${slept} ms)`);

await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
const served = (async () => {
  await using conn = await listener.accept();
  const buf = new Uint8Array(4096);
  for (let n; (n = await conn.read(buf)) !== null;) await conn.writeAll(buf.subarray(0, n));
})();
const message = new Uint8Array(100_000).map((_, i) => i * 7);
{
  await using client = await TcpStream.connect(listener.localAddr);
  const written = client.writeAll(message);
  const back = new Uint8Array(message.length);
  for (let got = 0; got < back.length;) {
    const n = await client.read(back.subarray(got));
    check(n !== null, `the echo ended after ${got} bytes`);
    got += n!;
  }
  await written;
  check(back.every((b, i) => b === message[i]), "the echoed bytes differ");
  await client.shutdown("write");
}
await served;
console.log(`echoed ${message.length} bytes over 127.0.0.1:${listener.localAddr.port}`);

// With ARIO_CACHE set and no build/lib/ for this platform, the library opened
// is the embedded one, written to the cache on first use.
const cache = Deno.env.get("ARIO_CACHE");
if (cache) {
  const libs = [...Deno.readDirSync(cache)].flatMap((d) =>
    [...Deno.readDirSync(`${cache}/${d.name}`)].map((f) => `${d.name}/${f.name}`)
  );
  console.log(`embedded library extracted to the cache: ${libs.join(", ")}`);
  check(libs.length === 1, "expected one library in ARIO_CACHE");
}
