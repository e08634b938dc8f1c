/**
 * Sockets of any kind: {@linkcode RawSocket} wraps a socket of any
 * (domain, type, protocol) that the platform makes — ICMP datagram
 * ("ping") sockets, `SOCK_RAW` IP sockets, `AF_PACKET` link-layer sockets,
 * and families this library knows nothing about. Addresses are decoded
 * by their own family (IP, Unix, link-layer, or `{ family, bytes }`),
 * never labelled "udp".
 *
 * @example An ICMP echo to 127.0.0.1 over a ping socket
 * ```ts ignore
 * import { constants, RawSocket } from "@ario/ario";
 * await using s = await RawSocket.open({
 *   domain: constants.AF_INET,
 *   type: constants.SOCK_DGRAM,
 *   protocol: constants.IPPROTO_ICMP,
 * });
 * // type 8 (echo request), code 0, checksum 0 (the kernel fills it for ping sockets)
 * await s.sendTo(new Uint8Array([8, 0, 0, 0, 0, 0, 0, 1]), { hostname: "127.0.0.1", port: 0 });
 * const { n, addr } = await s.recvFrom(new Uint8Array(1500));
 * console.log(n, addr); // 8 { transport: "ip", hostname: "127.0.0.1", port: ... }
 * ```
 *
 * @module
 */
import { type AnyAddr, type AnySockAddr, encodeAddr } from "./addr.ts";
import type { IoOptions, SignalOptions } from "./async.ts";
import { load } from "./ffi/load.ts";
import { fail, fmt, sockNameAny } from "./net.ts";
import type { Reactor } from "./reactor.ts";
import { DatagramSocket } from "./socket.ts";
import { checkInt } from "./operation.ts";
import { op, single } from "./submit.ts";
import type { SenderRegion } from "./addr.ts";

/** What kind of socket {@linkcode RawSocket.open} makes. */
export interface RawSocketOptions {
  /** Address family: `constants.AF_INET`, `AF_INET6`, `AF_PACKET`, ... */
  domain: number;
  /** Socket type: `constants.SOCK_RAW`, `SOCK_DGRAM`, ... */
  type: number;
  /**
   * Protocol: `constants.IPPROTO_ICMP`, `IPPROTO_ICMPV6`, or for
   * `AF_PACKET` an `ETH_P_*` value in network byte order; default 0.
   */
  protocol?: number;
  /** Reactor to use; default the shared one. */
  reactor?: Reactor;
  /** Cancels the creation (it rarely waits: socket(2) does not block). */
  signal?: AbortSignal;
}

/**
 * A socket of any kind, made by the reactor's SOCKET op: datagrams in and
 * out with the peer's address decoded by its family, bind, connect, and
 * every socket option ({@linkcode Async.setOption}). A raw IPv4 socket
 * receives whole IP packets (header included); a raw IPv6 or ICMP socket
 * receives the payload only. `recv` resolves 0 for an empty datagram (and
 * at the end of a stream socket).
 *
 * @example A datagram through an AF_UNIX socket made as "any kind"
 * ```ts
 * import { constants, RawSocket } from "@ario/ario";
 * const dir = Deno.makeTempDirSync();
 * await using a = await RawSocket.open({ domain: constants.AF_UNIX, type: constants.SOCK_DGRAM });
 * await using b = await RawSocket.open({ domain: constants.AF_UNIX, type: constants.SOCK_DGRAM });
 * a.bind({ path: `${dir}/a` });
 * await b.sendTo(new Uint8Array([1, 2, 3]), { path: `${dir}/a` });
 * const { n } = await a.recvFrom(new Uint8Array(8));
 * console.log(n, a.localAddr); // 3 { transport: "unix", path: ".../a" }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class RawSocket extends DatagramSocket<AnyAddr> {
  /** Wraps a socket fd of any kind (taking ownership). */
  constructor(fd: number, reactor?: Reactor) {
    super(fd, "raw", reactor);
  }

  /**
   * Makes a socket of `domain`, `type` and `protocol` through the
   * reactor (non-blocking, close-on-exec). Rejects with the platform's
   * errno: EAFNOSUPPORT, EPROTONOSUPPORT, EINVAL, EPERM (a raw socket
   * without the privilege; an ICMP datagram socket outside
   * `net.ipv4.ping_group_range` on Linux: EACCES).
   *
   * @example A raw ICMPv6 socket (needs CAP_NET_RAW), or why not
   * ```ts
   * import { constants, RawSocket } from "@ario/ario";
   * try {
   *   await using s = await RawSocket.open({
   *     domain: constants.AF_INET6,
   *     type: constants.SOCK_RAW,
   *     protocol: constants.IPPROTO_ICMPV6,
   *   });
   *   console.log(s.fd >= 0); // true
   * } catch (e) {
   *   console.log((e as { code?: string }).code); // "EPERM" without the privilege
   * }
   * ```
   */
  static async open(options: RawSocketOptions): Promise<RawSocket> {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Cannot open socket: expected { domain, type, protocol? }");
    }
    const { domain, type, protocol = 0 } = options;
    checkInt(domain, "open socket", "domain");
    checkInt(type, "open socket", "type");
    checkInt(protocol, "open socket", "protocol");
    const fd = await single(op.socket(domain, type, protocol), {
      reactor: options.reactor,
      signal: options.signal,
    });
    return new RawSocket(fd, options.reactor);
  }

  /**
   * Binds to a local address: IP (`{ hostname, port }`), Unix
   * (`{ path }`), link-layer (`{ ifIndex, protocol }`) or sockaddr bytes.
   *
   * @example Bind an ICMP socket to the loopback address
   * ```ts ignore
   * import { constants, RawSocket } from "@ario/ario";
   * await using s = await RawSocket.open({
   *   domain: constants.AF_INET, type: constants.SOCK_RAW, protocol: constants.IPPROTO_ICMP,
   * });
   * s.bind({ hostname: "127.0.0.1", port: 0 });
   * ```
   */
  bind(addr: AnySockAddr): void {
    const what = `bind to ${fmt(addr)}`;
    this.checkOpen(what, "bind");
    const sa = encodeAddr(addr);
    const rc = load().ario_bind(this.fd, sa, sa.length);
    if (rc < 0) fail(rc, "bind", `Cannot ${what}`);
  }

  /**
   * Sets the default peer (`send`/`recv` then use it).
   *
   * @example Connect, then send without an address
   * ```ts
   * import { constants, RawSocket } from "@ario/ario";
   * const dir = Deno.makeTempDirSync();
   * await using a = await RawSocket.open({ domain: constants.AF_UNIX, type: constants.SOCK_DGRAM });
   * await using b = await RawSocket.open({ domain: constants.AF_UNIX, type: constants.SOCK_DGRAM });
   * a.bind({ path: `${dir}/a` });
   * await b.connect({ path: `${dir}/a` });
   * console.log(await b.send(new Uint8Array([7])), await a.recv(new Uint8Array(4))); // 1 1
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  connect(to: AnySockAddr, options?: SignalOptions): Promise<void> {
    return this.connectAddr(to, options);
  }

  /**
   * Sends one datagram (or packet, or frame) to `to`; resolves with the
   * bytes sent.
   *
   * @example
   * ```ts
   * import { constants, RawSocket } from "@ario/ario";
   * const dir = Deno.makeTempDirSync();
   * await using a = await RawSocket.open({ domain: constants.AF_UNIX, type: constants.SOCK_DGRAM });
   * await using b = await RawSocket.open({ domain: constants.AF_UNIX, type: constants.SOCK_DGRAM });
   * a.bind({ path: `${dir}/a` });
   * console.log(await b.sendTo(new Uint8Array(5), { path: `${dir}/a` })); // 5
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  sendTo(buf: Uint8Array, to: AnySockAddr, options?: IoOptions): Promise<number> {
    return this.sendToAddr(buf, to, options);
  }

  /** The local address, decoded by its family. */
  get localAddr(): AnyAddr {
    this.checkOpen("get local address", "getsockname");
    return sockNameAny(this.fd, false);
  }

  /** The connected peer's address, decoded by its family. */
  get remoteAddr(): AnyAddr {
    this.checkOpen("get peer address", "getpeername");
    return sockNameAny(this.fd, true);
  }

  /** @internal The sender, decoded by its own family. */
  protected override senderOf(from: SenderRegion): AnyAddr {
    return from.decodeAny();
  }

  /** @internal The peer when a kept datagram has no sender of its own. */
  protected override unknownSender(): AnyAddr {
    try {
      return sockNameAny(this.fd, true);
    } catch {
      return { transport: "unknown", family: 0, bytes: new Uint8Array(0) };
    }
  }
}
