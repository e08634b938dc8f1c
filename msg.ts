/**
 * Vectored and message I/O: the READV, WRITEV, RECVMSG and SENDMSG op
 * builders behind {@linkcode op} (`op.readv`, `op.writev`, `op.recvmsg`,
 * `op.sendmsg`), and control messages (`struct cmsghdr`) with the typed
 * helpers the socket classes use: descriptors (SCM_RIGHTS), the local
 * address and interface of a datagram (IP_PKTINFO, IPV6_PKTINFO), its
 * TTL or hop limit, its receive timestamp.
 *
 * Every byte C reads or writes (the `ario_msghdr`, the iovec array, the
 * buffers, the name, the control messages) lives in one C-owned region per
 * op (iomem.ts): a send's bytes are copied in when the op is built, a
 * receive's copied out when it completes, so nothing JS does to its
 * buffers meanwhile reaches C. Control-message layout (the header's size,
 * the alignment, the width of `cmsg_len`) comes from C, the platform's.
 *
 * @example Pass a descriptor over a Unix socket pair
 * ```ts
 * import { Async, UnixStream } from "@ario/ario";
 * const [a, b] = UnixStream.pair();
 * const [r, w] = Async.pipe();
 * await a.sendFds([w.fd]);
 * const { fds } = await b.recvFds();
 * await new Async(fds[0]).write(new TextEncoder().encode("hi")); // the pipe's write end
 * console.log(await r.read(new Uint8Array(2))); // 2
 * for (const x of [a, b, r, w]) x.close();
 * ```
 *
 * @module
 */
import { type Addr, decodeAddr, encodeAddr, type SockAddr, SOCKADDR_MAX } from "./addr.ts";
import { constants } from "./errors.ts";
import { IOVEC, MSGHDR, OFF_CURRENT } from "./ffi/layout.ts";
import { getU32, ioAcquire, type IoRegion, isDetached, setU32 } from "./iomem.ts";
import type { BufferLostError } from "./iomem.ts";
import { prepReadv, prepRecvMsg, prepSendMsg, prepWritev } from "./sqe.ts";
import { checkFd, entry, type LinkOptions, Operation } from "./operation.ts";

/** One control message: `cmsg_level`, `cmsg_type` and its data bytes. */
export interface ControlMessage {
  /** Protocol level (`SOL_SOCKET`, `IPPROTO_IP`, `IPPROTO_IPV6`). */
  level: number;
  /** Type at that level (`SCM_RIGHTS`, `IP_PKTINFO`, ...). */
  type: number;
  /** The data (a copy in JS memory). */
  data: Uint8Array;
}

/** Options of {@linkcode OpBuilders.readv}/`writev`: a file offset, as read/write take. */
export interface VecOptions extends LinkOptions {
  /** File offset; default the current position (pipes, sockets, ttys). */
  offset?: number;
}

/** Options of `op.recvmsg`. */
export interface RecvMsgOptions extends LinkOptions {
  /** Platform `MSG_*` flags (no `MSG_WAITALL`: one receive). */
  flags?: number;
  /** Bytes of room for control messages (default 0: none asked for). */
  controlLen?: number;
  /** The socket's kind, for the sender's address (default "udp"). */
  transport?: "tcp" | "udp" | "unix" | "unixpacket";
}

/** Options of `op.sendmsg`. */
export interface SendMsgOptions extends LinkOptions {
  /** Platform `MSG_*` flags (no `MSG_WAITALL`). */
  flags?: number;
  /** Destination (unconnected datagram sockets). */
  to?: SockAddr;
  /** Control messages to send (see {@linkcode rightsMessage}). */
  control?: ControlMessage[];
}

/** What `op.recvmsg` received. */
export interface MessageReceived {
  /** Bytes received (spread over the buffers in order). */
  n: number;
  /** The sender, where the socket has one to say (datagrams). */
  addr?: Addr;
  /** The control messages that arrived. */
  control: ControlMessage[];
  /** The message's `MSG_*` flags (`msg_flags`). */
  flags: number;
  /** A datagram longer than the buffers: the rest was dropped (MSG_TRUNC). */
  truncated: boolean;
  /** Control messages that did not fit were dropped (MSG_CTRUNC). */
  controlTruncated: boolean;
}

/** Most buffers one op takes (`ARIO_IOV_MAX`, from C). */
export function iovMax(): number {
  return constants.ARIO_IOV_MAX;
}

const I32_MAX = 0x7fffffff;

/** The platform's cmsghdr: header bytes, alignment unit, width of `cmsg_len`. */
function cmsgLayout(what: string): { hdr: number; align: number; lenBytes: number } {
  const hdr = constants.ARIO_CMSG_HDR, align = constants.ARIO_CMSG_ALIGN;
  const lenBytes = constants.ARIO_CMSG_LEN_BYTES;
  if (hdr === undefined || align === undefined || lenBytes === undefined) {
    throw new TypeError(`Cannot ${what}: this platform carries no control messages (EOPNOTSUPP)`);
  }
  return { hdr, align, lenBytes };
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** `CMSG_SPACE(n)`: the bytes a control message of `n` data bytes takes. */
export function cmsgSpace(n: number): number {
  const { hdr, align } = cmsgLayout("size a control message");
  return alignUp(hdr, align) + alignUp(n, align);
}

/** Control messages as the platform lays them out (CMSG_SPACE each). */
export function encodeControl(msgs: readonly ControlMessage[], what = "send"): Uint8Array {
  const { hdr, align, lenBytes } = cmsgLayout(what);
  let size = 0;
  for (const m of msgs) {
    if (
      !m || !(m.data instanceof Uint8Array) || !Number.isInteger(m.level) ||
      !Number.isInteger(m.type)
    ) {
      throw new TypeError(
        `Cannot ${what}: a control message needs integer level and type and Uint8Array data`,
      );
    }
    size += alignUp(hdr, align) + alignUp(m.data.length, align);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const m of msgs) {
    setU32(out, at, hdr + m.data.length); // little-endian: a size_t cmsg_len's high half stays 0
    const dv = new DataView(out.buffer);
    dv.setInt32(at + lenBytes, m.level, true);
    dv.setInt32(at + lenBytes + 4, m.type, true);
    out.set(m.data, at + hdr);
    at += alignUp(hdr, align) + alignUp(m.data.length, align);
  }
  return out;
}

/** Parses `len` bytes of control messages (what recvmsg wrote). */
export function parseControl(bytes: Uint8Array, len = bytes.length): ControlMessage[] {
  const { hdr, align, lenBytes } = cmsgLayout("parse control messages");
  const out: ControlMessage[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + hdr <= len;) {
    const mlen = getU32(bytes, at);
    if (mlen < hdr || at + mlen > len) break;
    out.push({
      level: dv.getInt32(at + lenBytes, true),
      type: dv.getInt32(at + lenBytes + 4, true),
      data: bytes.slice(at + hdr, at + mlen),
    });
    at += alignUp(mlen, align);
  }
  return out;
}

/**
 * An SCM_RIGHTS control message passing `fds` (sent as the peer's new
 * descriptors; ario's receiver makes them close-on-exec).
 */
export function rightsMessage(fds: readonly number[], what = "send descriptors"): ControlMessage {
  if (!Array.isArray(fds) || fds.length === 0 || fds.length > 253) {
    throw new RangeError(`Cannot ${what}: expected 1..253 descriptors (SCM_MAX_FD)`);
  }
  const data = new Uint8Array(fds.length * 4);
  fds.forEach((fd, k) => {
    if (!Number.isInteger(fd) || fd < 0 || fd > I32_MAX) {
      throw new RangeError(`Cannot ${what}: fds[${k}] must be a descriptor >= 0, got ${fd}`);
    }
    setU32(data, k * 4, fd);
  });
  return { level: constants.SOL_SOCKET, type: constants.SCM_RIGHTS, data };
}

/** The descriptors of every SCM_RIGHTS message in `control`. */
export function fdsOf(control: readonly ControlMessage[]): number[] {
  const fds: number[] = [];
  for (const m of control) {
    if (m.level !== constants.SOL_SOCKET || m.type !== constants.SCM_RIGHTS) continue;
    for (let k = 0; k + 4 <= m.data.length; k += 4) fds.push(getU32(m.data, k) | 0);
  }
  return fds;
}

/** Where a datagram arrived: its destination address and the interface (IP_PKTINFO/IPV6_PKTINFO). */
export interface PacketInfo {
  /** The local (destination) address of the datagram. */
  localAddr: string;
  /** Index of the interface it arrived on. */
  ifIndex: number;
}

/** The packet info in `control`, if any. */
export function pktInfoOf(control: readonly ControlMessage[]): PacketInfo | undefined {
  for (const m of control) {
    if (
      m.level === constants.IPPROTO_IP && m.type === constants.IP_PKTINFO && m.data.length >= 12
    ) {
      // struct in_pktinfo: ifindex, spec_dst, addr (the header's destination)
      return { localAddr: ipText(m.data.subarray(8, 12)), ifIndex: getU32(m.data, 0) };
    }
    if (
      m.level === constants.IPPROTO_IPV6 && m.type === constants.IPV6_PKTINFO && m.data.length >= 20
    ) {
      return { localAddr: ipText(m.data.subarray(0, 16)), ifIndex: getU32(m.data, 16) };
    }
  }
  return undefined;
}

/** The TTL (IPv4) or hop limit (IPv6) in `control`, if any. */
export function ttlOf(control: readonly ControlMessage[]): number | undefined {
  for (const m of control) {
    const v4 = m.level === constants.IPPROTO_IP &&
      (m.type === constants.IP_TTL || m.type === constants.IP_RECVTTL);
    const v6 = m.level === constants.IPPROTO_IPV6 && m.type === constants.IPV6_HOPLIMIT;
    if (!v4 && !v6) continue;
    return m.data.length === 1 ? m.data[0] : getU32(m.data, 0); // BSD's IP_RECVTTL: one byte
  }
  return undefined;
}

/** The receive timestamp in `control` (SO_TIMESTAMPNS or SO_TIMESTAMP), in ns since the epoch. */
export function timestampOf(control: readonly ControlMessage[]): bigint | undefined {
  for (const m of control) {
    if (m.level !== constants.SOL_SOCKET || m.data.length < 16) continue;
    const dv = new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    const sec = dv.getBigInt64(0, true);
    // timespec's tv_nsec is a long; timeval's tv_usec an int on BSDs (a long on Linux)
    if (m.type === constants.SCM_TIMESTAMPNS) return sec * 1_000_000_000n + dv.getBigInt64(8, true);
    if (m.type === constants.SCM_TIMESTAMP) {
      return sec * 1_000_000_000n + BigInt(dv.getInt32(8, true)) * 1000n;
    }
  }
  return undefined;
}

/** The text form of 4 or 16 address bytes. */
function ipText(b: Uint8Array): string {
  if (b.length === 4) return b.join(".");
  const g: number[] = [];
  for (let k = 0; k < 16; k += 2) g.push((b[k] << 8) | b[k + 1]);
  let best = -1, bestLen = 1; // the longest run of two or more zero groups becomes "::"
  for (let k = 0; k < 8;) {
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) [best, bestLen] = [k, e - k];
    k = e > k ? e : k + 1;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** The checked buffers of a vectored op, and their total. */
function checkBuffers(bufs: readonly Uint8Array[], what: string): number {
  if (!Array.isArray(bufs)) throw new TypeError(`Cannot ${what}: expected an array of Uint8Array`);
  const max = iovMax();
  if (bufs.length > max) {
    throw new RangeError(
      `Cannot ${what}: ${bufs.length} buffers, at most ${max} (ARIO_IOV_MAX; C answers EINVAL)`,
    );
  }
  let total = 0;
  bufs.forEach((b, k) => {
    if (!(b instanceof Uint8Array)) {
      throw new TypeError(`Cannot ${what}: buffers[${k}] is not a Uint8Array`);
    }
    if (isDetached(b)) throw new TypeError(`Cannot ${what}: buffers[${k}] is detached`);
    total += b.length;
  });
  if (total > I32_MAX) {
    throw new RangeError(`Cannot ${what}: ${total} bytes in all, at most 2^31-1 (EINVAL)`);
  }
  return total;
}

function setU64(v: Uint8Array, at: number, x: number): void {
  setU32(v, at, x >>> 0);
  setU32(v, at + 4, Math.floor(x / 2 ** 32));
}

/** Where the parts of an op's region sit. */
interface Plan {
  region: IoRegion;
  iov: number; // byte offset of the iovec array
  name: number;
  control: number;
  data: number;
}

/** One region holding a msghdr, `n` iovecs, a name, control room and `dataLen` bytes. */
function plan(n: number, nameLen: number, controlLen: number, dataLen: number): Plan {
  const iov = MSGHDR.size + 8; // 64
  const name = iov + n * IOVEC.size;
  const control = alignUp(name + nameLen, 16);
  const data = alignUp(control + controlLen, 16);
  return { region: ioAcquire(data + dataLen), iov, name, control, data };
}

/** Fills the iovec array of `p` for buffers of `lens` bytes laid end to end from `p.data`. */
function fillIov(p: Plan, lens: readonly number[]): void {
  const v = p.region.view;
  let at = p.data;
  lens.forEach((len, k) => {
    setU64(v, p.iov + k * IOVEC.size + IOVEC.base, p.region.addr + at);
    setU64(v, p.iov + k * IOVEC.size + IOVEC.len, len);
    at += len;
  });
}

function copyIn(p: Plan, bufs: readonly Uint8Array[]): void {
  let at = p.data;
  for (const b of bufs) {
    p.region.view.set(b, at);
    at += b.length;
  }
}

/**
 * Spreads the first `n` received bytes of `p` over `bufs` (of `lens` bytes
 * when built); if one was detached or shrank below its share, no byte is
 * written and the error to throw is returned, with a copy of them.
 */
function copyOut(
  p: Plan,
  n: number,
  bufs: readonly Uint8Array[],
  lens: readonly number[],
  what: string,
): BufferLostError | undefined {
  let left = n;
  for (let k = 0; k < bufs.length && left > 0; k++) {
    const part = Math.min(left, lens[k]);
    if (bufs[k].length < part) {
      const state = isDetached(bufs[k]) ? "was detached" : `shrank to ${bufs[k].length} bytes`;
      const e = new TypeError(
        `Cannot ${what}: buffers[${k}] ${state} while the op was in flight; the ${n} bytes received are in the error's \`received\``,
      ) as BufferLostError;
      e.received = p.region.view.slice(p.data, p.data + n);
      return e;
    }
    left -= part;
  }
  left = n;
  let at = p.data;
  for (let k = 0; k < bufs.length && left > 0; k++) {
    const part = Math.min(left, lens[k]);
    bufs[k].set(p.region.view.subarray(at, at + part));
    at += lens[k];
    left -= part;
  }
  return undefined;
}

function checkOffset(offset: number | undefined, what: string): number | bigint {
  if (offset === undefined) return OFF_CURRENT;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`Cannot ${what}: offset must be an integer in 0..2^53-1, got ${offset}`);
  }
  return offset;
}

function checkFlags(flags: number | undefined, what: string): number {
  const f = flags ?? 0;
  if (!Number.isInteger(f) || f < 0 || f > 0xffffffff) {
    throw new RangeError(`Cannot ${what}: flags must be MSG_* bits, got ${flags}`);
  }
  if (f & (constants.MSG_WAITALL ?? 0)) {
    throw new RangeError(`Cannot ${what}: MSG_WAITALL is not taken (one call; EINVAL)`);
  }
  return f;
}

/**
 * Reads into several buffers with one readv(2), filled in order; the
 * result may be short. At most `ARIO_IOV_MAX` (64) buffers.
 *
 * @example Scatter a header and a body
 * ```ts
 * import { Async, op, single } from "@ario/ario";
 * const [r, w] = Async.pipe();
 * await w.write(new TextEncoder().encode("HEADbody"));
 * const head = new Uint8Array(4), body = new Uint8Array(16);
 * console.log(await single(op.readv(r.fd, [head, body]))); // 8
 * r.close();
 * w.close();
 * ```
 */
export function readvOp(
  fd: number,
  bufs: readonly Uint8Array[],
  o?: VecOptions,
): Operation<number> {
  checkFd(fd, "readv");
  checkBuffers(bufs, "readv");
  const off = checkOffset(o?.offset, "readv");
  const lens = bufs.map((b) => b.length);
  const p = plan(bufs.length, 0, 0, lens.reduce((a, b) => a + b, 0));
  fillIov(p, lens);
  const raw = prepReadv(entry(o), fd, p.region.addr + p.iov, bufs.length, off);
  return new Operation("readv", raw, (res) => {
    const lost = copyOut(p, res, bufs, lens, "readv");
    if (lost) throw lost;
    return res;
  }, { keep: bufs, regions: [p.region] });
}

/**
 * Writes several buffers with one writev(2) (copied when built); the
 * result may be short. At most `ARIO_IOV_MAX` (64) buffers.
 *
 * @example Gather two buffers
 * ```ts
 * import { Async, op, single } from "@ario/ario";
 * const [r, w] = Async.pipe();
 * const enc = new TextEncoder();
 * console.log(await single(op.writev(w.fd, [enc.encode("he"), enc.encode("llo")]))); // 5
 * r.close();
 * w.close();
 * ```
 */
export function writevOp(
  fd: number,
  bufs: readonly Uint8Array[],
  o?: VecOptions,
): Operation<number> {
  checkFd(fd, "writev");
  const total = checkBuffers(bufs, "writev");
  const off = checkOffset(o?.offset, "writev");
  const p = plan(bufs.length, 0, 0, total);
  fillIov(p, bufs.map((b) => b.length));
  copyIn(p, bufs);
  const raw = prepWritev(entry(o), fd, p.region.addr + p.iov, bufs.length, off);
  return new Operation("writev", raw, (res) => res, { regions: [p.region] });
}

/** Writes the msghdr of `p`: name, iovecs, control. */
function fillMsghdr(p: Plan, n: number, nameLen: number, controlLen: number): void {
  const v = p.region.view, base = p.region.addr;
  v.fill(0, 0, MSGHDR.size);
  if (nameLen) setU64(v, MSGHDR.name, base + p.name);
  setU32(v, MSGHDR.namelen, nameLen);
  setU64(v, MSGHDR.iov, base + p.iov);
  setU64(v, MSGHDR.iovlen, n);
  if (controlLen) setU64(v, MSGHDR.control, base + p.control);
  setU64(v, MSGHDR.controllen, controlLen);
}

/**
 * Receives one message with recvmsg(2): bytes spread over `bufs`, the
 * sender, the control messages (room: `controlLen` bytes) and the
 * message's flags, `truncated` (MSG_TRUNC) and `controlTruncated`
 * (MSG_CTRUNC) among them. Received descriptors are close-on-exec.
 *
 * @example A datagram and its sender
 * ```ts
 * import { op, single, UdpSocket } from "@ario/ario";
 * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
 * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
 * await a.sendTo(new Uint8Array([1, 2, 3]), b.localAddr);
 * const m = await single(op.recvmsg(b.fd, [new Uint8Array(2), new Uint8Array(8)]));
 * console.log(m.n, m.addr?.transport, m.truncated); // 3 "udp" false
 * ```
 */
export function recvmsgOp(
  fd: number,
  bufs: readonly Uint8Array[],
  o?: RecvMsgOptions,
): Operation<MessageReceived> {
  checkFd(fd, "recvmsg");
  checkBuffers(bufs, "recvmsg");
  const flags = checkFlags(o?.flags, "recvmsg");
  const controlLen = o?.controlLen ?? 0;
  if (!Number.isInteger(controlLen) || controlLen < 0 || controlLen > 1 << 20) {
    throw new RangeError(
      `Cannot recvmsg: controlLen must be an integer in 0..2^20, got ${controlLen}`,
    );
  }
  if (controlLen) cmsgLayout("recvmsg");
  const transport = o?.transport ?? "udp";
  const lens = bufs.map((b) => b.length);
  const p = plan(bufs.length, SOCKADDR_MAX, controlLen, lens.reduce((a, b) => a + b, 0));
  fillIov(p, lens);
  fillMsghdr(p, bufs.length, SOCKADDR_MAX, controlLen);
  const raw = prepRecvMsg(entry(o), fd, p.region.addr, flags);
  return new Operation("recvmsg", raw, (res) => {
    const v = p.region.view;
    const got = getU32(v, MSGHDR.controllen); // the kernel's count: never above controlLen
    const control = controlLen
      ? parseControl(v.subarray(p.control, p.control + controlLen), got)
      : [];
    const nameLen = getU32(v, MSGHDR.namelen);
    const addr = nameLen > 0 && nameLen <= SOCKADDR_MAX
      ? decodeAddr(v.subarray(p.name, p.name + nameLen), nameLen, transport)
      : undefined;
    const mflags = getU32(v, MSGHDR.flags) | 0;
    const lost = copyOut(p, res, bufs, lens, "recvmsg");
    if (lost) throw Object.assign(lost, { addr, control });
    return {
      n: res,
      addr,
      control,
      flags: mflags,
      truncated: (mflags & constants.MSG_TRUNC) !== 0,
      controlTruncated: (mflags & (constants.MSG_CTRUNC ?? 0)) !== 0,
    };
  }, { keep: bufs, regions: [p.region] });
}

/**
 * Sends one message with sendmsg(2): `bufs` (copied when built), to
 * `o.to` on an unconnected socket, with `o.control` (see
 * `rightsMessage`). Never taken back and resent by the reactor.
 *
 * @example A datagram from two buffers
 * ```ts
 * import { op, single, UdpSocket } from "@ario/ario";
 * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
 * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
 * const to = { hostname: "127.0.0.1", port: b.localAddr.port };
 * console.log(await single(op.sendmsg(a.fd, [new Uint8Array(2), new Uint8Array(3)], { to }))); // 5
 * ```
 */
export function sendmsgOp(
  fd: number,
  bufs: readonly Uint8Array[],
  o?: SendMsgOptions,
): Operation<number> {
  checkFd(fd, "sendmsg");
  const total = checkBuffers(bufs, "sendmsg");
  const flags = checkFlags(o?.flags, "sendmsg");
  const to = o?.to ? encodeAddr(o.to) : undefined;
  const control = o?.control?.length ? encodeControl(o.control, "sendmsg") : undefined;
  const p = plan(bufs.length, to?.length ?? 0, control?.length ?? 0, total);
  fillIov(p, bufs.map((b) => b.length));
  copyIn(p, bufs);
  if (to) p.region.view.set(to, p.name);
  if (control) p.region.view.set(control, p.control);
  fillMsghdr(p, bufs.length, to?.length ?? 0, control?.length ?? 0);
  const raw = prepSendMsg(entry(o), fd, p.region.addr, flags);
  return new Operation("sendmsg", raw, (res) => res, { regions: [p.region] });
}
