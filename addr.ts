/**
 * Socket addresses between Deno's shapes (`Deno.NetAddr`, `Deno.UnixAddr`)
 * and the platform's `sockaddr` bytes, encoded by C so the layout is always
 * the platform's own.
 *
 * @module
 */
import { load } from "./ffi/load.ts";
import { constants, errnoError } from "./errors.ts";
import { getU32, ioAcquire, type IoRegion, setU32 } from "./iomem.ts";

/** An IP address and port. `hostname` must be numeric (no DNS here). */
export interface IpAddr {
  /** Numeric IPv4 or IPv6 address, e.g. "127.0.0.1" or "::1". */
  hostname: string;
  /** Port, 0..65535 (0 lets the OS choose when binding). */
  port: number;
  /** IPv6 scope id (interface index) for link-local addresses. */
  scopeId?: number;
}

/** A Unix socket address: a path, or an abstract name (Linux) starting with "\0". */
export interface UnixAddr {
  /** Filesystem path, or "\0name" for an abstract socket. */
  path: string;
}

/** Any address this library accepts. */
export type SockAddr = IpAddr | UnixAddr;

/** An address as this library returns it. */
export type Addr = Deno.NetAddr | Deno.UnixAddr;

/** Bytes of the largest sockaddr (sockaddr_storage). */
export const SOCKADDR_MAX = 128;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Whether an address is a Unix one. */
export function isUnix(a: SockAddr): a is UnixAddr {
  return typeof (a as UnixAddr).path === "string";
}

/**
 * Encodes an address as the platform's sockaddr.
 *
 * @example
 * ```ts
 * import { encodeAddr } from "@ario/ario";
 * const sa = encodeAddr({ hostname: "127.0.0.1", port: 8080 });
 * console.log(sa.length); // 16 on Linux
 * ```
 */
export function encodeAddr(a: SockAddr): Uint8Array {
  const lib = load();
  const out = new Uint8Array(SOCKADDR_MAX);
  let n: number;
  if (isUnix(a)) {
    const path = enc.encode(a.path);
    n = lib.ario_sockaddr_unix(out, out.length, path, path.length);
    if (n < 0) {
      throw new RangeError(
        `Cannot use unix address "${a.path}": ${
          n === -constants.ENAMETOOLONG ? "path too long" : "invalid"
        }`,
      );
    }
  } else {
    if (typeof a?.hostname !== "string") {
      throw new TypeError("Cannot use address: expected { hostname, port } or { path }");
    }
    if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) {
      throw new RangeError(`Cannot use port ${a.port}: expected an integer 0..65535`);
    }
    const host = a.hostname.startsWith("[") && a.hostname.endsWith("]")
      ? a.hostname.slice(1, -1)
      : a.hostname;
    n = lib.ario_sockaddr_ip(out, out.length, enc.encode(host + "\0"), a.port, a.scopeId ?? 0);
    if (n < 0) {
      throw new TypeError(`Cannot use address "${a.hostname}": not a numeric IPv4 or IPv6 address`);
    }
  }
  return out.subarray(0, n);
}

/** Address family (AF_INET, AF_INET6, AF_UNIX) of an address. */
export function familyOf(a: SockAddr): number {
  if (isUnix(a)) return constants.AF_UNIX;
  return a.hostname.includes(":") ? constants.AF_INET6 : constants.AF_INET;
}

/**
 * Address family of the sockaddr in the first `len` bytes of `sa`, as C
 * reads it (on BSDs the first byte is a length): `AF_INET`, `AF_INET6`,
 * `AF_UNIX`, or -1 for a family C does not decode.
 */
export function sockaddrFamily(sa: Uint8Array, len: number): number {
  const fam = load().ario_sockaddr_decode(sa, len, scratch, scratch.length, null);
  return fam < 0 ? -1 : fam;
}
const scratch = new Uint8Array(128);

/**
 * The 4 (IPv4) or 16 (IPv6) bytes of a numeric address, as multicast
 * requests take them; `what` names the call in a TypeError.
 */
export function ipBytes(ip: string, v6: boolean, what: string): Uint8Array {
  const host = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  if (host.includes(":") !== v6) {
    throw new TypeError(`Cannot ${what}: "${ip}" is not an IPv${v6 ? 6 : 4} address`);
  }
  const sa = encodeAddr({ hostname: host, port: 0 });
  // sin6_addr and sin_addr: the same offsets on every platform (BSD's length byte included)
  return v6 ? sa.slice(8, 24) : sa.slice(4, 8);
}

/**
 * C-owned memory a RECVFROM writes the sender into: the sockaddr at `sa`,
 * then its uint32 length at `saLen` (in: the capacity, out: the length).
 * `decode` reads the sender once the op completed.
 */
export interface SenderRegion {
  /** The region; release it (`ioRelease`) once C is done. */
  region: IoRegion;
  /** Address of the sockaddr. */
  sa: number;
  /** Address of its length word. */
  saLen: number;
  /** The sender, labelled with the socket's transport. */
  decode(transport: "tcp" | "udp" | "unix" | "unixpacket"): Addr;
}

/** A {@linkcode SenderRegion} with its length word set to the capacity. */
export function senderRegion(): SenderRegion {
  const region = ioAcquire(SOCKADDR_MAX + 4);
  setU32(region.view, SOCKADDR_MAX, SOCKADDR_MAX);
  return {
    region,
    sa: region.addr,
    saLen: region.addr + SOCKADDR_MAX,
    decode: (transport) => decodeAddr(region.view, getU32(region.view, SOCKADDR_MAX), transport),
  };
}

/**
 * Decodes sockaddr bytes; `transport` names the socket kind. A Unix
 * address of no more than its family (an unnamed socket) has path "".
 */
export function decodeAddr(
  sa: Uint8Array,
  len: number,
  transport: "tcp" | "udp" | "unix" | "unixpacket",
): Addr {
  if (len <= 2 && transport.startsWith("unix")) {
    return { transport: transport as "unix" | "unixpacket", path: "" } as Deno.UnixAddr;
  }
  const text = new Uint8Array(128);
  const port = new Uint32Array(1);
  const fam = load().ario_sockaddr_decode(sa, len, text, text.length, port);
  if (fam < 0) throw errnoError(fam, "decode address");
  if (fam === constants.AF_UNIX) {
    return {
      transport: transport === "unixpacket" ? "unixpacket" : "unix",
      path: dec.decode(text.subarray(0, port[0])),
    };
  }
  const end = text.indexOf(0);
  return {
    transport: transport === "udp" ? "udp" : "tcp",
    hostname: dec.decode(text.subarray(0, end < 0 ? text.length : end)),
    port: port[0],
  };
}
