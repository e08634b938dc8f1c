/**
 * A TCP proxy: every connection accepted on the listening address is
 * forwarded to an upstream HOST:PORT, both directions at once. By default
 * bytes go socket -> pipe -> socket inside the kernel (SPLICE, Linux), never
 * through JS; `--copy` reads into a buffer and writes it out instead, for
 * comparison. Prints "listening on HOST:PORT" first.
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/proxy.ts --port 8080 --to 127.0.0.1:8000
 *   curl http://127.0.0.1:8080/
 *
 * One side ending its stream (a half-close) is passed on: the proxy shuts
 * down writing towards the other side and keeps the other direction open
 * until it ends too. An error on either side (a reset, a refused upstream)
 * closes both. Flags: --host (default 127.0.0.1), --port (default 0: any
 * free port), --to HOST:PORT (required), --copy, --max N (exit after N
 * connections ended), --timeout ms (upstream connect, default 5000).
 */
import { Cli } from "./_cli.ts";
import { Async, op, single, TcpListener, TcpStream } from "../mod.ts";

const cli = new Cli(
  "proxy",
  `
usage: proxy --to HOST:PORT [--host H] [--port P] [--copy] [--max N] [--timeout ms]

  --to HOST:PORT  upstream to forward each connection to (required)
  --host H        address to listen on (default 127.0.0.1)
  --port P        port (default 0: any free port; prints "listening on HOST:PORT")
  --copy          move bytes with read/write through a buffer instead of splice
  --max N         exit after N connections ended
  --timeout ms    upstream connect timeout (default 5000)
`,
  {
    to: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    copy: { type: "boolean", default: false },
    max: { type: "string" },
    timeout: { type: "string", default: "5000" },
  },
);
const port0 = cli.number("port", { max: 65535 })!;
const max = cli.number("max", { min: 1 });
const timeout = cli.number("timeout", { min: 1, fraction: true })!;
const copy = cli.flag("copy") || Deno.build.os !== "linux"; // splice is Linux's
const to = cli.string("to") ?? cli.fail("--to HOST:PORT is required");
const m = to.match(/^\[?([^\]]+?)\]?:([0-9]+)$/) ?? cli.fail(`bad --to "${to}"`);
if (Number(m[2]) < 1 || Number(m[2]) > 65535) cli.fail(`bad --to port "${m[2]}"`);
const upstream = { hostname: m[1], port: Number(m[2]) };

/** Bytes per read or splice, and the capacity of each splice pipe (the unprivileged maximum). */
const CHUNK = 1024 * 1024;

let listener!: TcpListener;
await cli.run(() => {
  listener = TcpListener.bind({ hostname: cli.string("host")!, port: port0 });
});
const { hostname, port } = listener.localAddr;
console.log(`listening on ${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`);

/** Splices until the end of `from` (0); never on a closed object's (maybe reused) fd number. */
async function spliceAll(from: Async, to: Async): Promise<void> {
  for (;;) {
    if (from.closed || to.closed) throw new Error("closed");
    if (await single(op.splice(from.fd, to.fd, CHUNK)) === 0) return;
  }
}

/**
 * from -> to through a pipe, in the kernel; then passes the end of stream
 * on. Filling and draining the pipe run at once, each waiting only for its
 * own side: the socket that fills it, the socket that drains it. The end
 * of input closes the write end, so the drain sees the pipe's end once it
 * is empty; a failed drain closes the read end, so the fill fails (EPIPE).
 */
async function splicePump(from: TcpStream, to: TcpStream): Promise<void> {
  const [r, w] = Async.pipe({ size: CHUNK });
  await Promise.all([
    spliceAll(from, w).finally(() => w.close()),
    spliceAll(r, to).finally(() => r.close()),
  ]);
  await to.shutdown("write");
}

/** from -> to through a buffer in JS; then passes the end of stream on. */
async function copyPump(from: TcpStream, to: TcpStream): Promise<void> {
  const buf = new Uint8Array(CHUNK);
  for (let n; (n = await from.read(buf)) !== null;) await to.writeAll(buf.subarray(0, n));
  await to.shutdown("write");
}

async function serve(client: TcpStream): Promise<void> {
  let server: TcpStream;
  try {
    server = await TcpStream.connect(upstream, { timeout });
  } catch (e) {
    client.close();
    throw e;
  }
  client.setNoDelay(true);
  server.setNoDelay(true);
  let failure: unknown;
  const fail = (e: unknown) => { // the first error ends both directions
    failure ??= e;
    if (!client.closed) client.close();
    if (!server.closed) server.close();
  };
  const pump = copy ? copyPump : splicePump;
  await Promise.all([pump(client, server).catch(fail), pump(server, client).catch(fail)]);
  if (!client.closed) client.close();
  if (!server.closed) server.close();
  if (failure !== undefined && !(failure instanceof Error && failure.message === "closed")) {
    throw failure;
  }
}

let left = max ?? Infinity;
for await (const conn of listener) {
  serve(conn).catch((e) => console.error(`connection: ${e.message}`)).finally(() => {
    if (--left === 0) listener.close();
  });
}
