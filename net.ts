/**
 * The synchronous socket plumbing the socket classes stand on, the part
 * Rust's `std::net` carries for async-io: socket creation, bind and
 * listen, options, multicast requests, family detection, address
 * defaults and names. The connect of a fresh socket goes through the
 * reactor (a CONNECT op, with a linked timeout when asked).
 *
 * @module
 */
import {
  type Addr,
  type AnyAddr,
  type AnySockAddr,
  decodeAddr,
  decodeAnyAddr,
  encodeAddr,
  familyOf,
  type IpAddr,
  ipBytes,
  isUnix,
  type LinkAddrInit,
  type SockAddr,
  SOCKADDR_MAX,
  sockaddrFamily,
} from "./addr.ts";
import { constants, errnoError, timedOutError } from "./errors.ts";
import { load } from "./ffi/load.ts";
import { isNumericHost, resolveHost, resolveHostSync } from "./dns.ts";
import { type Reactor, sharedReactor } from "./reactor.ts";
import { connectOp, multi, op } from "./submit.ts";
import type { FromOptions, SignalOptions } from "./async.ts";

/** Address of a TCP endpoint: a numeric IP (or "localhost") and a port. */
export interface TcpAddr {
  /**
   * Numeric IPv4/IPv6 address or a host name (resolved by the system's
   * resolver, see {@linkcode resolveHost}); "localhost" means 127.0.0.1;
   * default 127.0.0.1.
   */
  hostname?: string;
  /** Port 0..65535. */
  port: number;
}

/** Options of `TcpStream.connect` and `UnixStream.connect`. */
export interface ConnectOptions extends SignalOptions {
  /** Gives up after this many milliseconds (a linked timeout in the C loop): `Deno.errors.TimedOut`. */
  timeout?: number;
  /** Reactor to use; default the shared one. */
  reactor?: Reactor;
}

/** Options of the `bind` functions. */
export interface BindOptions {
  /** Set SO_REUSEADDR before binding (default true for TCP listeners, false otherwise). */
  reuseAddr?: boolean;
  /** Set SO_REUSEPORT before binding (default false). */
  reusePort?: boolean;
  /** For IPv6 addresses: accept IPv6 only (IPV6_V6ONLY); default the system's. */
  v6Only?: boolean;
  /** Reactor to use; default the shared one. */
  reactor?: Reactor;
}

/** Options of the `listen`-style `bind` functions. */
export interface ListenOptions extends BindOptions {
  /** Queue of pending connections (default 511). */
  backlog?: number;
}

const lib = () => load();

/** An address with the defaults filled in ("localhost" and no host: 127.0.0.1). */
export function ipOf(a: TcpAddr | IpAddr): IpAddr {
  const hostname = a.hostname === undefined || a.hostname === "localhost"
    ? "127.0.0.1"
    : a.hostname;
  return { hostname, port: a.port, scopeId: (a as IpAddr).scopeId };
}

/** The address to bind: a name resolves on the spot, as `Deno.listen` does (first address). */
export function bindIpOf(a: TcpAddr | IpAddr): IpAddr {
  const ip = ipOf(a);
  if (typeof ip.hostname === "string" && !isNumericHost(ip.hostname)) {
    ip.hostname = resolveHostSync(ip.hostname)[0];
  }
  return ip;
}

/** The addresses to try for `a`: a name resolves off the JS thread, in the resolver's order. */
export async function ipsOf(a: TcpAddr | IpAddr, o: ConnectOptions = {}): Promise<IpAddr[]> {
  const ip = ipOf(a);
  if (typeof ip.hostname !== "string" || isNumericHost(ip.hostname)) return [ip];
  const hosts = await resolveHost(ip.hostname, { signal: o.signal, timeout: o.timeout });
  return hosts.map((hostname) => ({ ...ip, hostname }));
}

/** A Unix path as an address. */
export function unixOf(a: string | { path: string }): { path: string } {
  return typeof a === "string" ? { path: a } : a;
}

/** "127.0.0.1:80", "[::1]:80", "/tmp/s", "@abstract", "ifindex 2", "family 40". */
export function fmt(a: AnySockAddr | Addr | AnyAddr): string {
  if (typeof (a as LinkAddrInit).ifIndex === "number") {
    return `ifindex ${(a as LinkAddrInit).ifIndex}`;
  }
  if ("bytes" in a) return `family ${a.family}`;
  if (isUnix(a as SockAddr)) {
    const p = (a as { path: string }).path;
    return p.startsWith("\0") ? "@" + p.slice(1) : p || "(unnamed)";
  }
  const ip = a as IpAddr;
  return ip.hostname.includes(":") ? `[${ip.hostname}]:${ip.port}` : `${ip.hostname}:${ip.port}`;
}

/** Throws the errno error of a failed call. */
export function fail(rc: number, op: string, context: string): never {
  throw errnoError(rc, op, context);
}

/** A new socket (non-blocking, close-on-exec: C makes it so). */
export function newSocket(domain: number, type: number, what: string): number {
  const fd = lib().ario_socket(domain, type, 0);
  if (fd < 0) fail(fd, "socket", `Cannot ${what}`);
  return fd;
}

const intBuf = new Int32Array(1);
const intBytes = new Uint8Array(intBuf.buffer);
const lenBuf = new Uint32Array(1);
const saBuf = new Uint8Array(SOCKADDR_MAX);

/** setsockopt of raw bytes; returns 0 or -errno. */
export function setBytes(fd: number, level: number, name: number, value: Uint8Array): number {
  return lib().ario_setsockopt(fd, level, name, value, value.length);
}

/** setsockopt of an int; returns 0 or -errno. */
export function setInt(fd: number, level: number, name: number, v: number): number {
  intBuf[0] = v;
  return lib().ario_setsockopt(fd, level, name, intBytes, 4);
}

/**
 * Closes fd through `r`'s loop (default the shared one) so the loop forgets
 * it: a socket the loop has watched must never be closed behind its back,
 * or a new socket reusing the number would inherit a stale registration.
 */
export function closeRaw(fd: number, r?: Reactor): void {
  const loop = r ?? sharedReactor();
  loop.closeFd(fd);
}

/** Options of {@linkcode Async.pipe}. */
export interface PipeOptions extends FromOptions {
  /**
   * Capacity in bytes (Linux; the kernel rounds it up to a power of two
   * pages, at most /proc/sys/fs/pipe-max-size unless privileged, 1 MiB by
   * default). Default the system's (64 KiB on Linux).
   */
  size?: number;
}

/** A non-blocking pipe's `[read, write]` descriptors, of `size` bytes if asked. */
export function pipeFds(options: PipeOptions): Int32Array {
  const { size } = options;
  if (size !== undefined && (!Number.isInteger(size) || size < 1 || size > 2 ** 31 - 1)) {
    throw new RangeError(`Cannot create pipe: size must be an integer in 1..2^31-1, got ${size}`);
  }
  const fds = new Int32Array(2);
  const rc = load().ario_pipe(fds);
  if (rc < 0) fail(rc, "pipe", "Cannot create pipe");
  const sized = size === undefined ? 0 : load().ario_pipe_size(fds[1], size);
  if (sized < 0) {
    closeRaw(fds[0], options.reactor);
    closeRaw(fds[1], options.reactor);
    fail(sized, "pipe", `Cannot create pipe of ${size} bytes`);
  }
  return fds;
}

/** Creates a socket bound to `addr`; closes it on failure. */
export function boundSocket(
  addr: SockAddr,
  type: number,
  o: BindOptions,
  reuseDefault: boolean,
  what: string,
): number {
  const sa = encodeAddr(addr);
  const fam = familyOf(addr);
  const fd = newSocket(fam, type, what);
  try {
    if (!isUnix(addr)) {
      if (o.reuseAddr ?? reuseDefault) {
        const rc = setInt(fd, constants.SOL_SOCKET, constants.SO_REUSEADDR, 1);
        if (rc < 0) fail(rc, "setsockopt", `Cannot ${what}: SO_REUSEADDR`);
      }
      if (o.v6Only !== undefined && fam === constants.AF_INET6) {
        const rc = setInt(fd, constants.IPPROTO_IPV6, constants.IPV6_V6ONLY, o.v6Only ? 1 : 0);
        if (rc < 0) fail(rc, "setsockopt", `Cannot ${what}: IPV6_V6ONLY`);
      }
    }
    if (o.reusePort) {
      if (constants.SO_REUSEPORT === undefined) {
        throw new Deno.errors.NotSupported(
          `Cannot ${what}: SO_REUSEPORT is not available on this platform`,
        );
      }
      const rc = setInt(fd, constants.SOL_SOCKET, constants.SO_REUSEPORT, 1);
      if (rc < 0) fail(rc, "setsockopt", `Cannot ${what}: SO_REUSEPORT`);
    }
    const rc = lib().ario_bind(fd, sa, sa.length);
    if (rc < 0) fail(rc, "bind", `Cannot ${what} ${fmt(addr)}`);
    return fd;
  } catch (e) {
    closeRaw(fd, o.reactor);
    throw e;
  }
}

/** Connects a fresh socket; closes it on failure, timeout or abort. */
export async function connectSocket(
  addr: SockAddr,
  type: number,
  o: ConnectOptions,
): Promise<number> {
  const where = `Cannot connect to ${fmt(addr)}`;
  if (o.signal?.aborted) throw o.signal.reason;
  const fd = newSocket(familyOf(addr), type, "connect");
  try {
    const ops = o.timeout !== undefined
      ? [connectOp(fd, addr, { link: "soft" }, where), op.linkTimeout(o.timeout)] as const
      : [connectOp(fd, addr, undefined, where)] as const;
    const [res, fired] = await multi(ops, { signal: o.signal, reactor: o.reactor });
    if (fired === true) throw timedOutError(where, "connect", o.timeout!);
    if (res instanceof Error) throw res;
    return fd;
  } catch (e) {
    closeRaw(fd, o.reactor);
    throw e;
  }
}

/** The local or (`peer`) remote address of a socket, labelled with its transport. */
export function sockName(
  fd: number,
  peer: boolean,
  transport: "tcp" | "udp" | "unix" | "unixpacket",
): Addr {
  return decodeAddr(saBuf, nameInto(fd, peer), transport);
}

/** getsockname/getpeername into `saBuf`; returns the address length. */
function nameInto(fd: number, peer: boolean): number {
  lenBuf[0] = SOCKADDR_MAX;
  const rc = peer
    ? lib().ario_getpeername(fd, saBuf, lenBuf)
    : lib().ario_getsockname(fd, saBuf, lenBuf);
  if (rc < 0) {
    fail(rc, peer ? "getpeername" : "getsockname", `Cannot get ${peer ? "peer" : "local"} address`);
  }
  return lenBuf[0];
}

/** The local or (`peer`) remote address of a socket, decoded by its family. */
export function sockNameAny(fd: number, peer: boolean): AnyAddr {
  return decodeAnyAddr(saBuf, nameInto(fd, peer));
}

/** The socket's type (`SOCK_STREAM`, `SOCK_DGRAM`...), or undefined if `fd` is not a socket. */
export function socketType(fd: number): number | undefined {
  lenBuf[0] = 4;
  const rc = lib().ario_getsockopt(fd, constants.SOL_SOCKET, constants.SO_TYPE, intBytes, lenBuf);
  return rc === 0 ? intBuf[0] : undefined;
}

/** The address family of a socket's local address (C reads it), -1 if unknown. */
export function localFamily(fd: number): number {
  lenBuf[0] = SOCKADDR_MAX;
  if (lib().ario_getsockname(fd, saBuf, lenBuf) < 0) return -1;
  return sockaddrFamily(saBuf, lenBuf[0]);
}

/** getsockopt of an int (a one-byte option reads as its byte); returns the value or -errno in `rc`. */
export function getInt(fd: number, level: number, name: number): { rc: number; value: number } {
  intBuf[0] = 0;
  lenBuf[0] = 4;
  const rc = lib().ario_getsockopt(fd, level, name, intBytes, lenBuf);
  return { rc, value: lenBuf[0] === 1 ? intBytes[0] : intBuf[0] };
}

/** The (level, name) of the unicast time-to-live (IPv4) or hop limit (IPv6) of a socket. */
export function ttlOption(fd: number): [level: number, name: number] {
  return localFamily(fd) === constants.AF_INET6
    ? [constants.IPPROTO_IPV6, constants.IPV6_UNICAST_HOPS]
    : [constants.IPPROTO_IP, constants.IP_TTL];
}

/** An ip_mreq: an IPv4 group and the address of the interface. */
export function mreq4(group: string, iface: string, what: string): Uint8Array {
  const m = new Uint8Array(8);
  m.set(ipBytes(group, false, what), 0);
  m.set(ipBytes(iface, false, what), 4);
  return m;
}

/** An ipv6_mreq: an IPv6 group and an interface index. */
export function mreq6(group: string, ifIndex: number, what: string): Uint8Array {
  const m = new Uint8Array(20);
  m.set(ipBytes(group, true, what), 0);
  new Uint32Array(m.buffer, 16, 1)[0] = ifIndex; // host byte order
  return m;
}

/** A bound, listening stream socket's fd (closed again if listen fails). */
export function listening(
  addr: SockAddr,
  reuseAddrByDefault: boolean,
  options: ListenOptions,
): number {
  const fd = boundSocket(addr, constants.SOCK_STREAM, options, reuseAddrByDefault, "listen on");
  const rc = lib().ario_listen(fd, options.backlog ?? 511);
  if (rc < 0) {
    closeRaw(fd, options.reactor);
    fail(rc, "listen", `Cannot listen on ${fmt(addr)}`);
  }
  return fd;
}

/** Two connected Unix sockets of `type` (socketpair(2)). */
export function socketPair(type: number, what: string): [number, number] {
  const fds = new Int32Array(2);
  const rc = lib().ario_socketpair(constants.AF_UNIX, type, 0, fds);
  if (rc < 0) fail(rc, "socketpair", `Cannot create ${what} pair`);
  return [fds[0], fds[1]];
}
