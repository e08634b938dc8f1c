/**
 * A TCP echo server on every core: a WorkerPool of N Workers, each running
 * examples/echo_worker.ts (its own reactor, a `reusePort` listener on the
 * same port). A Worker that dies is replaced; SIGINT or SIGTERM stops them
 * all, and each says how many connections it served.
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/echo_workers.ts --port 7000
 *   socat - TCP:127.0.0.1:7000
 *
 * Flags: --host (default 127.0.0.1), --port (default 0: any free port),
 * --workers N (default: the number of cores).
 */
import { Cli } from "./_cli.ts";
import { TcpListener, WorkerPool } from "../mod.ts";

const cli = new Cli(
  "echo_workers",
  `
usage: echo_workers [--host H] [--port P] [--workers N]

  --host H      address to listen on (default 127.0.0.1)
  --port P      port (default 0: any free port; prints "listening on HOST:PORT")
  --workers N   Workers, each with its own reactor (default: the number of cores)
`,
  {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    workers: { type: "string" },
  },
);
const hostname = cli.string("host")!;
const port0 = cli.number("port", { max: 65535 })!;
const count = cli.number("workers", { min: 1, max: 1024 }) ?? navigator.hardwareConcurrency;

// A reusePort listener of our own holds the port (port 0 picks one) until
// every Worker listens on it too; then it leaves and only theirs remain.
let hold!: TcpListener;
await cli.run(() => {
  hold = TcpListener.bind({ hostname, port: port0 }, { reusePort: true });
});
const { port } = hold.localAddr;
let listening = 0;
const ready = Promise.withResolvers<void>();
const pool = new WorkerPool(new URL("./echo_worker.ts", import.meta.url), {
  count,
  data: { hostname, port },
  onMessage: (_i, m) => {
    const note = m as { listening?: number; served?: number; index?: number };
    if (note.listening !== undefined && ++listening === count) ready.resolve();
    if (note.served !== undefined) console.log(`worker ${note.index}: ${note.served} connections`);
  },
  onError: (i, e) => {
    console.error(`echo_workers: worker ${i}: ${e.message}`);
    if (listening < count) Deno.exit(1); // one could not start: the rest would wait forever
  },
});
await ready.promise;
hold.close();
console.log(
  `listening on ${hostname.includes(":") ? `[${hostname}]` : hostname}:${port} (${count} workers)`,
);

const stop = () => pool.close();
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
await pool.closed;
Deno.removeSignalListener("SIGINT", stop);
Deno.removeSignalListener("SIGTERM", stop);
