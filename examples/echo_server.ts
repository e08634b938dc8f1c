/**
 * A TCP echo server on ario's `TcpListener`: every connection echoes what
 * it receives until the peer closes. Prints "listening on HOST:PORT" first.
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/echo_server.ts --port 7000
 *   socat - TCP:127.0.0.1:7000        # or: nc 127.0.0.1 7000
 *
 * Flags: --host (default 127.0.0.1), --port (default 0: any free port),
 * --streams (echo through conn.readable.pipeTo(conn.writable) instead of
 * the read/write loop), --max N (exit after N connections closed).
 */
import { Cli } from "./_cli.ts";
import { TcpListener, type TcpStream } from "../mod.ts";

const cli = new Cli(
  "echo_server",
  `
usage: echo_server [--host H] [--port P] [--streams] [--max N]

  --host H    address to listen on (default 127.0.0.1)
  --port P    port (default 0: any free port; prints "listening on HOST:PORT")
  --streams   echo through conn.readable.pipeTo(conn.writable)
  --max N     exit after N connections closed
`,
  {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    streams: { type: "boolean", default: false },
    max: { type: "string" },
  },
);
const values = { host: cli.string("host")!, streams: cli.flag("streams") };
const port0 = cli.number("port", { max: 65535 })!;
const max = cli.number("max", { min: 1 });

let listener!: TcpListener;
await cli.run(() => {
  listener = TcpListener.bind({ hostname: values.host, port: port0 });
});
const { hostname, port } = listener.localAddr;
console.log(`listening on ${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`);

async function echo(conn: TcpStream): Promise<void> {
  conn.setNoDelay(true);
  if (values.streams) return await conn.readable.pipeTo(conn.writable);
  const buf = new Uint8Array(64 * 1024);
  try {
    for (let n; (n = await conn.read(buf)) !== null;) await conn.writeAll(buf.subarray(0, n));
  } finally {
    conn.close();
  }
}

let left = max ?? Infinity;
for await (const conn of listener) {
  echo(conn).catch((e) => console.error(`connection: ${e.message}`)).finally(() => {
    if (--left === 0) listener.close();
  });
}
