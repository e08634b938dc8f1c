/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
// A Worker of tests/workers_test.ts: an echo server on the pool's port
// (reusePort), counting connections; "crash" makes it die, the pool's stop
// makes it close and exit.
import { poolWorker, TcpListener, type TcpStream } from "../mod.ts";

const { index, data, signal, exit } = await poolWorker<{ port: number }>();
const listener = TcpListener.bind({ hostname: "127.0.0.1", port: data.port }, { reusePort: true });
const conns = new Set<TcpStream>();
let accepted = 0;
signal.addEventListener("abort", () => {
  listener.close();
  for (const c of conns) c.close();
});
// registered after the reactor's own listener: a handled error must not cost the sockets
let handle = false;
self.addEventListener("error", (e) => {
  if (handle) e.preventDefault();
});
self.addEventListener("message", (e: MessageEvent) => {
  if (e.data === "crash") throw new Error(`worker ${index} crashes on request`);
  if (e.data === "handled error") {
    handle = true;
    queueMicrotask(() => postMessage({ survived: index }));
    throw new Error(`worker ${index} throws, and handles it`);
  }
});
postMessage({ listening: index });

async function echo(c: TcpStream): Promise<void> {
  const buf = new Uint8Array(4096);
  try {
    for (let n; (n = await c.read(buf)) !== null;) {
      await c.writeAll(buf.subarray(0, n));
      postMessage({ echoed: index });
    }
  } catch {
    /* closed by the stop */
  } finally {
    conns.delete(c);
    c.close();
  }
}

for await (const c of listener) {
  accepted++;
  conns.add(c);
  echo(c);
}
postMessage({ bye: index, accepted });
await exit();
