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
import { LINK_ADDR } from "./ffi/layout.ts";

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

/**
 * A link-layer address (AF_PACKET: Linux's `sockaddr_ll`) to bind or send
 * to. `protocol` is an `ETH_P_*` value in host byte order (C swaps it).
 */
export interface LinkAddrInit {
  /** Interface index (0 when binding: every interface). */
  ifIndex: number;
  /** `ETH_P_*`, host byte order; default 0. */
  protocol?: number;
  /** `ARPHRD_*` hardware type; default 0. */
  hatype?: number;
  /** `PACKET_*` packet type; default 0 (`PACKET_HOST`). */
  pkttype?: number;
  /** Hardware address: up to 8 bytes, or text such as "02:00:00:00:00:01"; default none. */
  mac?: Uint8Array | string;
}

/** A link-layer address as a packet socket receives it. */
export interface LinkAddr {
  /** Always "packet". */
  transport: "packet";
  /** Interface index. */
  ifIndex: number;
  /** `ETH_P_*` of the frame, host byte order. */
  protocol: number;
  /** `ARPHRD_*` hardware type. */
  hatype: number;
  /** `PACKET_*`: to us, broadcast, multicast, other host, outgoing. */
  pkttype: number;
  /** Hardware address bytes. */
  address: Uint8Array;
  /** The same as text, "aa:bb:cc:dd:ee:ff" ("" when empty). */
  mac: string;
}

/** An IP address as a raw or ICMP socket receives it (no transport port of its own). */
export interface InetAddr {
  /** Always "ip": never "udp" or "tcp", which it is not. */
  transport: "ip";
  /** Numeric IPv4 or IPv6 address. */
  hostname: string;
  /** What the sockaddr's port field holds (0 for raw sockets; the echo id for ping sockets). */
  port: number;
}

/** A sockaddr of a family this library has no form for: its number and bytes. */
export interface UnknownAddr {
  /** Always "unknown". */
  transport: "unknown";
  /** The platform's address family number (0 when the sockaddr was empty). */
  family: number;
  /** The whole sockaddr, as the kernel wrote it. */
  bytes: Uint8Array;
}

/** An address of any family, decoded by the family itself ({@linkcode decodeAnyAddr}). */
export type AnyAddr = InetAddr | Deno.UnixAddr | LinkAddr | UnknownAddr;

/**
 * Any address a socket of any kind takes: IP, Unix, link-layer, or the
 * sockaddr bytes themselves (`{ family, bytes }`, used as they are).
 */
export type AnySockAddr = SockAddr | LinkAddrInit | { family: number; bytes: Uint8Array };

/** Bytes of the largest sockaddr (sockaddr_storage). */
export const SOCKADDR_MAX = 128;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Whether an address is a Unix one. */
export function isUnix(a: AnySockAddr): a is UnixAddr {
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
export function encodeAddr(a: AnySockAddr): Uint8Array {
  const lib = load();
  const out = new Uint8Array(SOCKADDR_MAX);
  let n: number;
  if (isLink(a)) return encodeLink(a);
  if (isRawSockaddr(a)) {
    if (!(a.bytes instanceof Uint8Array) || a.bytes.length > SOCKADDR_MAX) {
      throw new RangeError(
        `Cannot use address bytes: expected a Uint8Array of at most ${SOCKADDR_MAX}`,
      );
    }
    return a.bytes.slice();
  }
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

function isLink(a: AnySockAddr): a is LinkAddrInit {
  return typeof (a as LinkAddrInit)?.ifIndex === "number";
}

function isRawSockaddr(a: AnySockAddr): a is { family: number; bytes: Uint8Array } {
  return typeof (a as { family: number })?.family === "number" && "bytes" in a;
}

const linkIn = new Uint8Array(LINK_ADDR.size);
const linkView = new DataView(linkIn.buffer);

function u(v: number | undefined, max: number, field: string): number {
  const n = v ?? 0;
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new RangeError(
      `Cannot use link address: ${field} must be an integer in 0..${max}, got ${v}`,
    );
  }
  return n;
}

/** The bytes of "aa:bb:cc" (or "aa-bb-cc"), or a copy of the bytes given. */
function macBytes(mac: Uint8Array | string | undefined): Uint8Array {
  if (mac === undefined) return new Uint8Array(0);
  if (mac instanceof Uint8Array) return mac.slice();
  if (
    typeof mac !== "string" || (mac !== "" && !/^[0-9a-f]{1,2}([:-][0-9a-f]{1,2})*$/i.test(mac))
  ) {
    throw new TypeError(
      `Cannot use link address: mac "${mac}" is not hex bytes such as "02:00:5e:10:00:01"`,
    );
  }
  return mac === ""
    ? new Uint8Array(0)
    : Uint8Array.from(mac.split(/[:-]/), (h) => parseInt(h, 16));
}

function encodeLink(a: LinkAddrInit): Uint8Array {
  if (!Number.isInteger(a.ifIndex) || a.ifIndex < 0 || a.ifIndex > 2 ** 31 - 1) {
    throw new RangeError(
      `Cannot use link address: ifIndex must be an integer in 0..2^31-1, got ${a.ifIndex}`,
    );
  }
  const hw = macBytes(a.mac);
  if (hw.length > 8) {
    throw new RangeError(`Cannot use link address: mac has ${hw.length} bytes, at most 8`);
  }
  linkIn.fill(0);
  linkView.setInt32(LINK_ADDR.ifindex, a.ifIndex, true);
  linkView.setUint16(LINK_ADDR.protocol, u(a.protocol, 0xffff, "protocol"), true);
  linkView.setUint16(LINK_ADDR.hatype, u(a.hatype, 0xffff, "hatype"), true);
  linkIn[LINK_ADDR.pkttype] = u(a.pkttype, 255, "pkttype");
  linkIn[LINK_ADDR.halen] = hw.length;
  linkIn.set(hw, LINK_ADDR.addr);
  const out = new Uint8Array(SOCKADDR_MAX);
  const n = load().ario_sockaddr_link(out, out.length, linkIn);
  if (n < 0) throw errnoError(n, "encode address", "Cannot use link address");
  return out.subarray(0, n);
}

/**
 * Decodes sockaddr bytes by their own family, whatever the socket: IP
 * (`transport: "ip"`), Unix, link-layer (`"packet"`), or for any other
 * family (or an empty address) its number and bytes (`"unknown"`).
 *
 * @example An ICMP reply's sender is an IP address, not a UDP one
 * ```ts
 * import { decodeAnyAddr, encodeAddr } from "@ario/ario";
 * const sa = encodeAddr({ hostname: "127.0.0.1", port: 0 });
 * console.log(decodeAnyAddr(sa, sa.length)); // { transport: "ip", hostname: "127.0.0.1", port: 0 }
 * ```
 */
export function decodeAnyAddr(sa: Uint8Array, len: number): AnyAddr {
  const lib = load();
  len = Math.min(len, sa.length);
  if (len > 0) {
    const text = new Uint8Array(128);
    const port = new Uint32Array(1);
    const fam = lib.ario_sockaddr_decode(sa, len, text, text.length, port);
    if (fam === constants.AF_UNIX) {
      return { transport: "unix", path: dec.decode(text.subarray(0, port[0])) };
    }
    if (fam >= 0) {
      const end = text.indexOf(0);
      const hostname = dec.decode(text.subarray(0, end < 0 ? text.length : end));
      return { transport: "ip", hostname, port: port[0] };
    }
    const out = new Uint8Array(LINK_ADDR.size);
    if (lib.ario_sockaddr_link_decode(sa, len, out) >= 0) {
      const v = new DataView(out.buffer);
      const address = out.slice(LINK_ADDR.addr, LINK_ADDR.addr + out[LINK_ADDR.halen]);
      return {
        transport: "packet",
        ifIndex: v.getInt32(LINK_ADDR.ifindex, true),
        protocol: v.getUint16(LINK_ADDR.protocol, true),
        hatype: v.getUint16(LINK_ADDR.hatype, true),
        pkttype: out[LINK_ADDR.pkttype],
        address,
        mac: [...address].map((b) => b.toString(16).padStart(2, "0")).join(":"),
      };
    }
    if (fam === -constants.EAFNOSUPPORT) {
      return { transport: "unknown", family: port[0], bytes: sa.slice(0, len) };
    }
    throw errnoError(fam, "decode address");
  }
  return { transport: "unknown", family: 0, bytes: new Uint8Array(0) };
}

/** Address family (AF_INET, AF_INET6, AF_UNIX, AF_PACKET, or the one given) of an address. */
export function familyOf(a: AnySockAddr): number {
  if (isLink(a)) return constants.AF_PACKET;
  if (isRawSockaddr(a)) return a.family;
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
  /** The sender, decoded by its own family ({@linkcode decodeAnyAddr}). */
  decodeAny(): AnyAddr;
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
    decodeAny: () => decodeAnyAddr(region.view, getU32(region.view, SOCKADDR_MAX)),
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
