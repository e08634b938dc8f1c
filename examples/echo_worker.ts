/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * One Worker of echo_workers.ts: its own reactor, and a TcpListener on the
 * pool's port with `reusePort`, so the kernel spreads connections over the
 * Workers. When the pool stops it, it closes its listener and connections,
 * says how many it served, and exits.
 */
import { poolWorker, TcpListener, type TcpStream } from "../mod.ts";

const { index, data, signal, exit } = await poolWorker<{ hostname: string; port: number }>();
const listener = TcpListener.bind(data, { reusePort: true, backlog: 1024 });
const open = new Set<TcpStream>();
let served = 0;
signal.addEventListener("abort", () => {
  listener.close();
  for (const conn of open) conn.close();
});
postMessage({ listening: index });

async function echo(conn: TcpStream): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(64 * 1024);
  try {
    for (let n; (n = await conn.read(buf)) !== null;) await conn.writeAll(buf.subarray(0, n));
  } catch (e) {
    if (!signal.aborted) console.error(`worker ${index}: ${(e as Error).message}`);
  } finally {
    open.delete(conn);
    conn.close();
  }
}

for await (const conn of listener) {
  served++;
  open.add(conn);
  echo(conn);
}
postMessage({ served, index });
await exit();
