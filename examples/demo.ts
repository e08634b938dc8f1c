/**
 * Demo: an echo server and three clients on 127.0.0.1, driven by batches of
 * linked ops. Each client sends, receives the echo and closes in one soft
 * chain bounded by a linked timeout; the last client's peer never answers,
 * so its timeout fires, the receive is cancelled and the socket still closes.
 *
 *   deno task demo
 */
import { load } from "../ffi/load.ts";
import { constants, multi, op, sharedReactor, single, TcpListener } from "../mod.ts";

const lib = load();
const enc = new TextEncoder(), dec = new TextDecoder();
const show = (r: unknown) =>
  r instanceof Error ? `${(r as Error & { code: string }).code}` : JSON.stringify(r);

const server = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
console.log(
  `backend: ${sharedReactor().backend}; echo server on 127.0.0.1:${server.localAddr.port}`,
);

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
  client("client 1", "hello, reactor", server.localAddr.port, 1000),
  client("client 2", "links and timeouts", server.localAddr.port, 1000),
]);

// A listener that never accepts nor answers: the linked timeout fires.
const silent = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
await client("client 3 (silent peer)", "anyone there?", silent.localAddr.port, 50);

serving = false;
server.close();
silent.close();
console.log("done");
