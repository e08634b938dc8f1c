/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
// A Worker of the bench's pool rows (scripts/bench_pool.ts): a TcpStream echo
// server on the pool's port, its listener shared through reusePort.
import { poolWorker, TcpListener, type TcpStream } from "../mod.ts";

const { data, signal, exit } = await poolWorker<{ port: number }>();
const listener = TcpListener.bind({ hostname: "127.0.0.1", port: data.port }, {
  reusePort: true,
  backlog: 1024,
});
const conns = new Set<TcpStream>();
signal.addEventListener("abort", () => {
  listener.close();
  for (const c of conns) c.close();
});
postMessage("listening");

async function echo(c: TcpStream): Promise<void> {
  c.setNoDelay(true);
  const buf = new Uint8Array(65536);
  try {
    for (let n; (n = await c.read(buf)) !== null;) await c.writeAll(buf.subarray(0, n));
  } catch {
    /* closed by the stop */
  } finally {
    conns.delete(c);
    c.close();
  }
}
for await (const c of listener) {
  conns.add(c);
  echo(c);
}
await exit();
