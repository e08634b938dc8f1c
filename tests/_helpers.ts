// Shared by the Deno tests: real sockets and pipes through the C plain calls.
import { load } from "../ffi/load.ts";
import {
  constants,
  decodeAddr,
  encodeAddr,
  errnoError,
  multi,
  op,
  sharedReactor,
  single,
  TcpListener,
} from "../mod.ts";

const lib = () => load();

/** Throws for a negative plain-call result. */
export function check(rc: number, what: string): number {
  if (rc < 0) throw errnoError(rc, what);
  return rc;
}

/** A connected TCP pair [client, server] on loopback. */
export async function tcpPair(): Promise<[number, number]> {
  const l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const c = tcpSocket();
  const [server, connected] = await multi([
    op.accept(l.fd),
    op.connect(c, l.localAddr),
  ]);
  if (server instanceof Error) throw server;
  if (connected instanceof Error) throw connected;
  l.close();
  return [c, server];
}

/** A fresh non-blocking TCP socket. */
export function tcpSocket(): number {
  return check(lib().ario_socket(constants.AF_INET, constants.SOCK_STREAM, 0), "socket");
}

/** A UDP socket bound to 127.0.0.1:0; returns fd and port. */
export function udpSocket(): { fd: number; port: number } {
  const fd = check(lib().ario_socket(constants.AF_INET, constants.SOCK_DGRAM, 0), "socket");
  const sa = encodeAddr({ hostname: "127.0.0.1", port: 0 });
  check(lib().ario_bind(fd, sa, sa.length), "bind");
  const out = new Uint8Array(128);
  const len = new Uint32Array([128]);
  check(lib().ario_getsockname(fd, out, len), "getsockname");
  return { fd, port: (decodeAddr(out, len[0], "udp") as Deno.NetAddr).port };
}

/** A non-blocking pipe [read, write]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check(lib().ario_pipe(fds), "pipe");
  return [fds[0], fds[1]];
}

/** Closes an fd through the shared reactor (pending ops complete ECANCELED). */
export function closeFd(fd: number): void {
  check(lib().ario_close(sharedReactor().unsafeLoop, fd), "close");
}

/** Sends all of `data` with the submit API. */
export async function sendAll(fd: number, data: Uint8Array): Promise<void> {
  let o = 0;
  while (o < data.length) o += await single(op.send(fd, data.subarray(o)));
}

export const text = (s: string) => new TextEncoder().encode(s);
export const str = (b: Uint8Array) => new TextDecoder().decode(b);
