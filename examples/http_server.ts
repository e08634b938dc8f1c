/**
 * A minimal HTTP/1.1 server with keep-alive on ario's TcpListener: parses
 * the request line, headers and a Content-Length body; answers GET with a
 * greeting and POST by echoing the body. HTTP/1.0 and "Connection: close"
 * close after the response. Prints "listening on http://HOST:PORT/".
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/http_server.ts --port 8080
 *   curl -v http://127.0.0.1:8080/ http://127.0.0.1:8080/again   # one connection
 *
 * Flags: --host (default 127.0.0.1), --port (default 0: any free port),
 * --max-body bytes (default 1048576; a larger Content-Length gets 413),
 * --max-head bytes (default 16384; a longer request head gets 431). The
 * server never allocates more than these for a request.
 */
import { Cli } from "./_cli.ts";
import { TcpListener, type TcpStream } from "../mod.ts";

const cli = new Cli(
  "http_server",
  `
usage: http_server [--host H] [--port P] [--max-body BYTES] [--max-head BYTES]

  --host H           address to listen on (default 127.0.0.1)
  --port P           port (default 0: any free port; prints "listening on http://HOST:PORT/")
  --max-body BYTES   largest request body accepted (default 1048576; larger: 413)
  --max-head BYTES   largest request line + headers (default 16384; larger: 431)
`,
  {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    "max-body": { type: "string", default: String(1 << 20) },
    "max-head": { type: "string", default: "16384" },
  },
);
const host = cli.string("host")!;
const port = cli.number("port", { max: 65535 })!;
const MAX_BODY = cli.number("max-body", { max: 2 ** 31 - 1 })!;
const MAX_HEAD = cli.number("max-head", { min: 64, max: 1 << 24 })!;

const enc = new TextEncoder(), dec = new TextDecoder();

function indexOfHeadEnd(b: Uint8Array, n: number): number {
  for (let i = 3; i < n; i++) {
    if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i + 1;
  }
  return -1;
}

async function respond(
  conn: TcpStream,
  status: string,
  body: Uint8Array,
  close: boolean,
  type = "text/plain",
  length = body.length,
) {
  const head = `HTTP/1.1 ${status}\r\ncontent-type: ${type}\r\ncontent-length: ${length}\r\n` +
    `connection: ${close ? "close" : "keep-alive"}\r\n\r\n`;
  const out = new Uint8Array(head.length + body.length);
  out.set(enc.encode(head));
  out.set(body, head.length);
  await conn.writeAll(out);
}

async function serve(conn: TcpStream): Promise<void> {
  conn.setNoDelay(true);
  let buf = new Uint8Array(MAX_HEAD);
  let have = 0;
  for (;;) {
    // read until the end of the head
    let end: number;
    while ((end = indexOfHeadEnd(buf, have)) < 0) {
      if (have >= MAX_HEAD) {
        return await respond(conn, "431 Request Header Fields Too Large", new Uint8Array(), true);
      }
      const n = await conn.read(buf.subarray(have));
      if (n === null) return;
      have += n;
    }
    const [requestLine, ...lines] = dec.decode(buf.subarray(0, end - 4)).split("\r\n");
    const [method, target, version] = requestLine.split(" ");
    const headers = new Map(lines.map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()] as [string, string];
    }));
    const connHeader = headers.get("connection")?.toLowerCase();
    const close = version === "HTTP/1.0" ? connHeader !== "keep-alive" : connHeader === "close";
    // the body, if any
    const lengthText = headers.get("content-length") ?? "0";
    const length = /^[0-9]{1,16}$/.test(lengthText) ? Number(lengthText) : NaN;
    if (!Number.isInteger(length)) {
      return await respond(conn, "400 Bad Request", enc.encode("bad Content-Length\n"), true);
    }
    if (headers.has("transfer-encoding")) {
      return await respond(
        conn,
        "501 Not Implemented",
        enc.encode("only Content-Length bodies\n"),
        true,
      );
    }
    if (length > MAX_BODY) {
      return await respond(
        conn,
        "413 Content Too Large",
        enc.encode(`a body of at most ${MAX_BODY} bytes\n`),
        true,
      );
    }
    if (end + length > buf.length) {
      const bigger = new Uint8Array(end + length);
      bigger.set(buf.subarray(0, have));
      buf = bigger;
    }
    while (have < end + length) {
      const n = await conn.read(buf.subarray(have));
      if (n === null) return;
      have += n;
    }
    const body = buf.slice(end, end + length);
    if (method === "GET" || method === "HEAD") {
      const text = enc.encode(`hello from ario: ${target}\n`);
      if (method === "HEAD") {
        await respond(conn, "200 OK", new Uint8Array(), close, "text/plain", text.length);
      } else await respond(conn, "200 OK", text, close);
    } else if (method === "POST" || method === "PUT") {
      await respond(
        conn,
        "200 OK",
        body,
        close,
        headers.get("content-type") ?? "application/octet-stream",
      );
    } else {
      await respond(conn, "405 Method Not Allowed", enc.encode("GET, HEAD, POST, PUT\n"), close);
    }
    if (close) return;
    // keep what came after this request (pipelining)
    buf.copyWithin(0, end + length, have);
    have -= end + length;
  }
}

await cli.run(async () => {
  const listener = TcpListener.bind({ hostname: host, port });
  console.log(`listening on http://${host}:${listener.localAddr.port}/`);
  for await (const conn of listener) {
    serve(conn).catch((e) => console.error(`connection: ${e.message}`)).finally(() => conn.close());
  }
});
