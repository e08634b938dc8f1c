/**
 * Demo: an echo server and three clients on 127.0.0.1, driven by batches of
 * linked ops. Each client sends, receives the echo and closes in one soft
 * chain bounded by a linked timeout; the last client's peer never answers,
 * so its timeout fires, the receive is cancelled and the socket still closes.
 *
 *   deno task demo
 */
import { load } from "../ffi/load.ts";
import { constants, decodeAddr, encodeAddr, multi, op, reactor, single } from "../mod.ts";

const lib = load();
const enc = new TextEncoder(), dec = new TextDecoder();
const show = (r: unknown) =>
  r instanceof Error ? `${(r as Error & { code: string }).code}` : JSON.stringify(r);

function listen(): { fd: number; port: number } {
  const fd = lib.ario_socket(constants.AF_INET, constants.SOCK_STREAM, 0);
  const sa = encodeAddr({ hostname: "127.0.0.1", port: 0 });
  if (lib.ario_bind(fd, sa, sa.length) < 0 || lib.ario_listen(fd, 16) < 0) {
    throw new Error("cannot listen");
  }
  const out = new Uint8Array(128), len = new Uint32Array([128]);
  lib.ario_getsockname(fd, out, len);
  return { fd, port: (decodeAddr(out, len[0], "tcp") as Deno.NetAddr).port };
}

const server = listen();
console.log(`backend: ${reactor().backend}; echo server on 127.0.0.1:${server.port}`);

// The server: accept, then echo each connection until EOF.
let serving = true;
(async () => {
  while (serving) {
    const fd = await single(op.accept(server.fd)).catch(() => -1);
    if (fd < 0) break;
    (async () => {
      const buf = new Uint8Array(1024);
      for (;;) {
        const n = await single(op.recv(fd, buf)).catch(() => 0);
        if (n === 0) break;
        await single(op.send(fd, buf.subarray(0, n)));
      }
      await single(op.close(fd));
    })();
  }
})();

async function client(name: string, message: string, port: number, deadlineMs: number) {
  const fd = lib.ario_socket(constants.AF_INET, constants.SOCK_STREAM, 0);
  const reply = new Uint8Array(message.length);
  const t0 = performance.now();
  // connect -> send -> recv (bounded by a linked timeout) => close, in one batch
  const [connected, sent, received, timedOut, closed] = await multi([
    op.connect(fd, { hostname: "127.0.0.1", port }, { link: "soft" }),
    op.send(fd, enc.encode(message), { link: "soft" }),
    op.recv(fd, reply, { waitAll: true, link: "hard" }), // close runs even if recv fails
    op.linkTimeout(deadlineMs, { link: "hard" }), // the link carries the chain on to close
    op.close(fd),
  ]);
  const ms = (performance.now() - t0).toFixed(2);
  console.log(
    `${name}: connect=${show(connected)} send=${show(sent)} recv=${show(received)} ` +
      `timeout fired=${show(timedOut)} close=${show(closed)} in ${ms} ms` +
      (typeof received === "number" ? ` -> "${dec.decode(reply)}"` : ""),
  );
}

await Promise.all([
  client("client 1", "hello, reactor", server.port, 1000),
  client("client 2", "links and timeouts", server.port, 1000),
]);

// A listener that never accepts nor answers: the linked timeout fires.
const silent = listen();
await client("client 3 (silent peer)", "anyone there?", silent.port, 50);

serving = false;
lib.ario_close(reactor().unsafeLoop, server.fd);
lib.ario_close(reactor().unsafeLoop, silent.fd);
console.log("done");
