/**
 * A small netcat: connect to (or listen for one connection on) a TCP
 * address, copy stdin to the socket and the socket to stdout. When stdin
 * ends, the write side is shut down; the program exits once the peer has
 * closed too (from a terminal: as soon as the peer closes).
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/netcat.ts 127.0.0.1 7000
 *   deno run --allow-ffi --allow-env --allow-read examples/netcat.ts -l 127.0.0.1 7000
 *
 * Flags: -l listen (port 0: any free port; "listening on HOST:PORT" goes to
 * stderr), -w ms connect timeout (default 5000), -U connect/listen on a
 * Unix socket path instead (then the only argument is the path).
 */
import { Cli } from "./_cli.ts";
import { type StreamSocket, TcpListener, TcpStream, UnixListener, UnixStream } from "../mod.ts";

const cli = new Cli(
  "netcat",
  `
usage: netcat [-w ms] HOST PORT        connect to HOST:PORT
       netcat -l [HOST] PORT           listen for one connection (port 0: any)
       netcat -U [-l] PATH             a Unix socket instead

  -l      listen ("listening on HOST:PORT" goes to stderr)
  -w ms   connect timeout (default 5000)
  -U      Unix socket path instead of TCP
stdin goes to the socket (its end shuts down the write side), the socket to stdout.
`,
  {
    l: { type: "boolean", default: false },
    w: { type: "string", default: "5000" },
    U: { type: "boolean", default: false },
  },
  Deno.args,
  true,
);
const values = { l: cli.flag("l"), U: cli.flag("U") };
const timeout = cli.number("w", { min: 1, fraction: true })!;
const positionals = cli.positionals;
if (Deno.args.length === 0) cli.usage();
if (values.U ? positionals.length !== 1 : positionals.length < 1 || positionals.length > 2) {
  cli.fail(positionals.length ? "wrong number of arguments" : "expected HOST PORT (or -l PORT)");
}
if (!values.U) {
  const port = positionals.at(-1)!;
  if (!/^[0-9]+$/.test(port) || Number(port) > 65535 || (!values.l && Number(port) < 1)) {
    cli.fail(`bad port "${port}"`);
  }
}

async function open(): Promise<StreamSocket> {
  if (values.U) {
    const path = positionals[0];
    if (!values.l) return await UnixStream.connect(path, { timeout });
    await using l = UnixListener.bind(path);
    console.error(`listening on ${path}`);
    return await l.accept();
  }
  const [hostname = "127.0.0.1", port = "0"] = positionals.length === 1
    ? ["127.0.0.1", positionals[0]]
    : positionals;
  if (!values.l) return await TcpStream.connect({ hostname, port: Number(port) }, { timeout });
  await using l = TcpListener.bind({ hostname, port: Number(port) });
  console.error(`listening on ${hostname}:${l.localAddr.port}`);
  return await l.accept();
}

try {
  const conn = await open();
  // stdin to the socket; its end shuts down the write side
  const up = Deno.stdin.readable.pipeTo(conn.writable).catch((e) =>
    console.error(`send: ${e.message}`)
  );
  // the socket to stdout, until the peer closes
  await conn.readable.pipeTo(Deno.stdout.writable, { preventClose: true });
  // from a terminal, the peer closing ends the session; from a pipe or a
  // file, what is left of stdin still goes out first
  if (!Deno.stdin.isTerminal()) await up;
  Deno.exit(0);
} catch (e) {
  console.error(`netcat: ${(e as Error).message}`);
  Deno.exit(1);
}
