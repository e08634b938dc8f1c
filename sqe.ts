/**
 * Submission entries and one encoder per op, after liburing's
 * `io_uring_prep_<op>`: what each op's fields mean (the op table of
 * `csrc/include/ario.h`) is written here once. The op builders
 * (submit.ts), the socket classes (async.ts), timers and the reactor's own
 * cancels all fill their entries through these. An encoder sets every
 * field but the link flags and `ref`, so a recycled entry carries nothing
 * over from its previous op.
 *
 * @module
 */
import { constants } from "./errors.ts";
import { CANCEL, OP, SQE, TIMEOUT_ABS } from "./ffi/layout.ts";

/** Memory C may read or write: a view or a whole buffer. */
export type Bytes = ArrayBufferView<ArrayBufferLike> | ArrayBufferLike;

/** The fields of one submission entry, as `ario_sqe` holds them. */
export interface RawOp {
  /** Opcode (`OP`). */
  op: number;
  /** Descriptor, or -1. */
  fd: number;
  /** `ARIO_SQE_*` link flags. */
  flags?: number;
  /**
   * First address: a buffer or socket address, or its numeric value. A JS
   * buffer here is used in place: it must not be transferred, resized or
   * detached until the op completes (see {@linkcode addressOf}); the op
   * builders of submit.ts copy through C-owned memory instead.
   */
  addr?: Bytes | number;
  /** Second address, or a 64-bit value (SPLICE's input offset). */
  addr2?: Bytes | number | bigint;
  /** Length. */
  len?: number;
  /** Per-op flags. */
  opFlags?: number;
  /** Offset, nanoseconds or length, by op (bigint for full 64-bit values). */
  off?: number | bigint;
  /** Whether this op keeps the process alive (default true). */
  ref?: boolean;
}

/** A buffer, or the address of C-owned memory. */
type Mem = Bytes | number;

const U32 = 2 ** 32;

function fill(
  e: RawOp,
  op: number,
  fd: number,
  addr: Mem,
  addr2: Mem | bigint,
  len: number,
  opFlags: number,
  off: number | bigint,
): RawOp {
  e.op = op;
  e.fd = fd;
  e.addr = addr;
  e.addr2 = addr2;
  e.len = len;
  e.opFlags = opFlags;
  e.off = off;
  return e;
}

/**
 * SOCKET: a new socket of `domain`, `type` and `protocol` (as io_uring's:
 * fd = domain, off = type, len = protocol); the result is its fd,
 * non-blocking and close-on-exec. Each is a 32-bit integer (C reads the
 * type and protocol as ints).
 */
export function prepSocket(e: RawOp, domain: number, type: number, protocol: number): RawOp {
  return fill(e, OP.SOCKET, domain, 0, 0, protocol >>> 0, 0, type >>> 0);
}

/** NOP: completes at once with 0. */
export function prepNop(e: RawOp): RawOp {
  return fill(e, OP.NOP, -1, 0, 0, 0, 0, 0);
}

/** READ: `len` bytes into `buf` at file offset `off` (`OFF_CURRENT`: a pipe, socket or tty). */
export function prepRead(e: RawOp, fd: number, buf: Mem, len: number, off: number | bigint): RawOp {
  return fill(e, OP.READ, fd, buf, 0, len, 0, off);
}

/** WRITE: `len` bytes of `buf` at file offset `off`. */
export function prepWrite(
  e: RawOp,
  fd: number,
  buf: Mem,
  len: number,
  off: number | bigint,
): RawOp {
  return fill(e, OP.WRITE, fd, buf, 0, len, 0, off);
}

/** RECV: up to `len` bytes into `buf`, with platform `MSG_*` flags. */
export function prepRecv(e: RawOp, fd: number, buf: Mem, len: number, msgFlags: number): RawOp {
  return fill(e, OP.RECV, fd, buf, 0, len, msgFlags, 0);
}

/** SEND: `len` bytes of `buf` on a connected socket, with `MSG_*` flags. */
export function prepSend(e: RawOp, fd: number, buf: Mem, len: number, msgFlags: number): RawOp {
  return fill(e, OP.SEND, fd, buf, 0, len, msgFlags, 0);
}

/**
 * RECVFROM: one datagram into `buf`; the sender's sockaddr goes to `sa`,
 * its length to the uint32 at `saLen` (in: capacity, out: length).
 */
export function prepRecvFrom(
  e: RawOp,
  fd: number,
  buf: Mem,
  len: number,
  msgFlags: number,
  sa: number,
  saLen: number,
): RawOp {
  return fill(e, OP.RECVFROM, fd, buf, sa, len, msgFlags, saLen);
}

/** SENDTO: one datagram of `len` bytes to the sockaddr at `sa` of `saLen` bytes. */
export function prepSendTo(
  e: RawOp,
  fd: number,
  buf: Mem,
  len: number,
  msgFlags: number,
  sa: number,
  saLen: number,
): RawOp {
  return fill(e, OP.SENDTO, fd, buf, sa, len, msgFlags, saLen);
}

/** READV: into the `count` buffers of the `ario_iovec` array at `iov`, at file offset `off`. */
export function prepReadv(
  e: RawOp,
  fd: number,
  iov: number,
  count: number,
  off: number | bigint,
): RawOp {
  return fill(e, OP.READV, fd, iov, 0, count, 0, off);
}

/** WRITEV: the `count` buffers of the `ario_iovec` array at `iov`, at file offset `off`. */
export function prepWritev(
  e: RawOp,
  fd: number,
  iov: number,
  count: number,
  off: number | bigint,
): RawOp {
  return fill(e, OP.WRITEV, fd, iov, 0, count, 0, off);
}

/** RECVMSG: one recvmsg(2) into the `ario_msghdr` at `msg`, with `MSG_*` flags. */
export function prepRecvMsg(e: RawOp, fd: number, msg: number, msgFlags: number): RawOp {
  return fill(e, OP.RECVMSG, fd, msg, 0, 0, msgFlags, 0);
}

/** SENDMSG: one sendmsg(2) of the `ario_msghdr` at `msg`, with `MSG_*` flags. */
export function prepSendMsg(e: RawOp, fd: number, msg: number, msgFlags: number): RawOp {
  return fill(e, OP.SENDMSG, fd, msg, 0, 0, msgFlags, 0);
}

/** ACCEPT: a connection; the result is its fd (the peer's address is not asked for). */
export function prepAccept(e: RawOp, fd: number): RawOp {
  return fill(e, OP.ACCEPT, fd, 0, 0, 0, 0, 0);
}

/** ACCEPT_MULTI: every connection as it comes, each result an fd, until cancelled or an error. */
export function prepAcceptMulti(e: RawOp, fd: number): RawOp {
  return fill(e, OP.ACCEPT_MULTI, fd, 0, 0, 0, 0, 0);
}

/**
 * RECV_MULTI: every chunk as it comes, each into the next buffer of
 * provided-buffer group `group` (the completion names it), until the end of
 * stream, an error, a cancel, or an empty group (ENOBUFS).
 */
export function prepRecvMulti(e: RawOp, fd: number, group: number, flags: number): RawOp {
  return fill(e, OP.RECV_MULTI, fd, 0, 0, group, flags, 0);
}

/** CONNECT: to the sockaddr at `sa` of `saLen` bytes. */
export function prepConnect(e: RawOp, fd: number, sa: number, saLen: number): RawOp {
  return fill(e, OP.CONNECT, fd, sa, 0, saLen, 0, 0);
}

/** CLOSE: cancels what waits on `fd`, then closes it. */
export function prepClose(e: RawOp, fd: number): RawOp {
  return fill(e, OP.CLOSE, fd, 0, 0, 0, 0, 0);
}

/**
 * OPENAT: the NUL-terminated path at `path`, relative to directory `dirFd`
 * (`constants.AT_FDCWD`: the working directory), with platform `O_*`
 * `flags` (O_CLOEXEC is added) and `mode` for a created file; the result
 * is the new fd.
 */
export function prepOpenat(
  e: RawOp,
  dirFd: number,
  path: Mem,
  flags: number,
  mode: number,
): RawOp {
  return fill(e, OP.OPENAT, dirFd, path, 0, mode, flags, 0);
}

/** FSYNC: flushes `fd` to its device (`FSYNC_DATASYNC`: its data, as fdatasync). */
export function prepFsync(e: RawOp, fd: number, flags: number): RawOp {
  return fill(e, OP.FSYNC, fd, 0, 0, 0, flags, 0);
}

/** SHUTDOWN: `how` 0 reading, 1 writing, 2 both. */
export function prepShutdown(e: RawOp, fd: number, how: number): RawOp {
  return fill(e, OP.SHUTDOWN, fd, 0, 0, how, 0, 0);
}

/** POLL: until `fd` is ready for `events` (`POLL.*`); the result is the ready mask. */
export function prepPoll(e: RawOp, fd: number, events: number): RawOp {
  return fill(e, OP.POLL, fd, 0, 0, 0, events, 0);
}

/**
 * TIMEOUT: `-ETIME` after `ns` (an absolute time on the loop's clock when
 * `absolute`), or 0 once `count` other ops completed (0: never).
 */
export function prepTimeout(
  e: RawOp,
  ns: number | bigint,
  count: number,
  absolute: boolean,
): RawOp {
  return fill(e, OP.TIMEOUT, -1, 0, 0, count, absolute ? TIMEOUT_ABS : 0, ns);
}

/** LINK_TIMEOUT: cancels the op linked before it after `ns` (absolute: on the loop's clock). */
export function prepLinkTimeout(e: RawOp, ns: number | bigint, absolute: boolean): RawOp {
  return fill(e, OP.LINK_TIMEOUT, -1, 0, 0, 0, absolute ? TIMEOUT_ABS : 0, ns);
}

/**
 * SPLICE (Linux): up to `len` bytes from `fdIn` to `fdOut`, one of them a
 * pipe, at offsets `offIn`/`offOut` (`OFF_CURRENT`: none, as pipes and
 * sockets need), with `SPLICE_F.*` flags; the result is the count moved.
 */
export function prepSplice(
  e: RawOp,
  fdIn: number,
  fdOut: number,
  len: number,
  offIn: number | bigint,
  offOut: number | bigint,
  flags: number,
): RawOp {
  return fill(e, OP.SPLICE, fdOut, fdIn, BigInt(offIn), len, flags, offOut);
}

/**
 * TEE (Linux): duplicates up to `len` bytes of pipe `fdIn` into pipe `fdOut`
 * without consuming them, with `SPLICE_F.*` flags; the result is the count.
 */
export function prepTee(e: RawOp, fdIn: number, fdOut: number, len: number, flags: number): RawOp {
  return fill(e, OP.TEE, fdOut, fdIn, 0, len, flags, 0);
}

/** CANCEL of one op, named by its ticket (its user_data). */
export function prepCancel(e: RawOp, ticket: number): RawOp {
  return fill(e, OP.CANCEL, -1, ticket, 0, 0, 0, 0);
}

/** CANCEL of the ops waiting on `fd`: the first, or `all` of them. */
export function prepCancelFd(e: RawOp, fd: number, all: boolean): RawOp {
  return fill(e, OP.CANCEL, fd, 0, 0, 0, CANCEL.FD | (all ? CANCEL.ALL : 0), 0);
}

/** CANCEL of every op in flight (the reactor's shutdown). */
export function prepCancelEverything(e: RawOp): RawOp {
  return fill(e, OP.CANCEL, -1, 0, 0, 0, CANCEL.ANY | CANCEL.ALL, 0);
}

const bases = new WeakMap<ArrayBufferLike, number>();

/**
 * Numeric address of a buffer's first byte, valid only while JS leaves the
 * buffer alone: a transfer, a detach or a collection frees or moves it. The
 * base is cached per ArrayBuffer (its memory never moves while it is
 * attached, resizable ones included); a detached buffer throws a TypeError.
 * The op builders and `Async` never hand C such an address for memory C
 * may use after JS runs again: they go through C-owned memory (iomem.ts).
 */
export function addressOf(buf: Bytes): number {
  const view = ArrayBuffer.isView(buf);
  const ab = view ? buf.buffer : buf;
  if ((ab as ArrayBuffer).detached) throw new TypeError("Cannot use buffer: it is detached");
  let base = bases.get(ab);
  if (base === undefined) {
    const p = Deno.UnsafePointer.of(ab as ArrayBuffer);
    if (p === null) return 0; // empty: no memory at all
    base = Number(Deno.UnsafePointer.value(p));
    bases.set(ab, base);
  }
  return view ? base + buf.byteOffset : base;
}

function toAddress(v: Bytes | number | undefined): number {
  if (v === undefined) return 0;
  return typeof v === "number" ? v : addressOf(v);
}

function isU64(v: number | bigint): boolean {
  return typeof v === "number" ? v >= 0 && Number.isSafeInteger(v) : v >= 0n && v <= U64_MAX;
}

/** Every field of a raw op in range, or a TypeError/RangeError naming it (the fast path is one test). */
export function checkRawOp(o: RawOp, k: number): void {
  const flags = o.flags ?? 0, len = o.len ?? 0, opFlags = o.opFlags ?? 0, off = o.off ?? 0;
  const { addr, addr2 } = o;
  if (
    (o.op & 255) === o.op && (o.fd | 0) === o.fd && (flags & 255) === flags &&
    len >>> 0 === len && opFlags >>> 0 === opFlags &&
    isU64(off) &&
    (typeof addr !== "number" || (addr >= 0 && Number.isSafeInteger(addr))) &&
    (typeof addr2 !== "number" && typeof addr2 !== "bigint" || isU64(addr2))
  ) return;
  badRawOp(o, k);
}

const U64_MAX = 0xffffffffffffffffn;

/** Names the first bad field of a raw op. */
function badRawOp(o: RawOp, k: number): never {
  const where = `Cannot submit op ${k}`;
  if (typeof o !== "object" || o === null) throw new TypeError(`${where}: expected an object`);
  if (!Number.isInteger(o.op) || o.op < 0 || o.op > 255) {
    throw new RangeError(`${where}: op must be an integer in 0..255, got ${o.op}`);
  }
  if (!Number.isInteger(o.fd) || o.fd < -(2 ** 31) || o.fd > 2 ** 31 - 1) {
    throw new RangeError(`${where}: fd must be an integer in -2^31..2^31-1, got ${o.fd}`);
  }
  const flags = o.flags ?? 0;
  if (!Number.isInteger(flags) || flags < 0 || flags > 255) {
    throw new RangeError(`${where}: flags must be an integer in 0..255, got ${flags}`);
  }
  for (const f of ["len", "opFlags"] as const) {
    const v = o[f] ?? 0;
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new RangeError(`${where}: ${f} must be an integer in 0..2^32-1, got ${v}`);
    }
  }
  const off = o.off ?? 0;
  if (typeof off === "bigint" ? off < 0n || off > U64_MAX : !Number.isSafeInteger(off) || off < 0) {
    throw new RangeError(`${where}: off must be an integer in 0..2^64-1, got ${off}`);
  }
  for (const f of ["addr", "addr2"] as const) {
    const v = o[f];
    if ((typeof v === "number" || typeof v === "bigint") && !isU64(v)) {
      throw new RangeError(`${where}: ${f} must be an address >= 0, got ${v}`);
    }
  }
  throw new TypeError(`${where}: malformed op`);
}

/** Writes every field of one entry except user_data (little-endian hosts). */
export function encode(w: Uint32Array, at: number, op: RawOp): void {
  w[at] = op.op | ((op.flags ?? 0) << 8); // op, flags, reserved = 0
  w[at + 1] = op.fd >>> 0;
  setU64(w, at + SQE.addr / 4, toAddress(op.addr));
  const addr2 = op.addr2;
  setU64(w, at + SQE.addr2 / 4, typeof addr2 === "bigint" ? addr2 : toAddress(addr2));
  w[at + SQE.len / 4] = op.len ?? 0;
  w[at + SQE.op_flags / 4] = op.opFlags ?? 0;
  setU64(w, at + SQE.off / 4, op.off ?? 0);
}

function setU64(w: Uint32Array, at: number, v: number | bigint): void {
  if (typeof v === "bigint") {
    w[at] = Number(v & 0xFFFFFFFFn);
    w[at + 1] = Number((v >> 32n) & 0xFFFFFFFFn);
    return;
  }
  w[at] = v >>> 0;
  w[at + 1] = v >= U32 ? Math.floor(v / U32) : 0;
}

/**
 * Whether the encoded entry at word `e` of `w` works on descriptor `fd`, as
 * C's CLOSE and cancel by fd see it: a SOCKET's fd field is its domain, a
 * SPLICE or TEE reads from the fd in its `addr` too.
 */
export function stagedOnFd(w: Uint32Array, e: number, fd: number): boolean {
  const op = w[e] & 255;
  if (op === OP.SOCKET) return false;
  return w[e + 1] === fd || ((op === OP.SPLICE || op === OP.TEE) && w[e + SQE.addr / 4] === fd);
}

/** Ops that may wait for readiness indefinitely and are safe to cancel and run again. */
export function isWait(o: RawOp): boolean {
  switch (o.op) {
    case OP.POLL:
    case OP.ACCEPT:
    case OP.READ:
    case OP.READV:
    case OP.RECVFROM:
    case OP.RECVMSG: // waiting, it has received nothing (no MSG_WAITALL: C refuses it)
    case OP.WRITE: // a write taken back after sending part completes short, as writes may
    case OP.WRITEV:
    case OP.SEND:
    case OP.SENDTO:
      return true;
    case OP.RECV: // a MSG_WAITALL recv may hold bytes already: never taken back
      return ((o.opFlags ?? 0) & constants.MSG_WAITALL) === 0;
    default: // SENDMSG among them: control data (SCM_RIGHTS) must never risk a second send
      return false;
  }
}
