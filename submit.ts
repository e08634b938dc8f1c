/**
 * The batched submit API, after zig-aio: build ops with {@linkcode op},
 * run one with {@linkcode single} or a batch with {@linkcode multi}. Ops in
 * a batch may be linked ("soft": the next runs only if this one succeeded;
 * "hard": it runs anyway), bounded by a {@linkcode op.linkTimeout}, and
 * cancelled through an `AbortSignal`.
 *
 * @example A send and its receipt as one chain with a deadline
 * ```ts
 * import { multi, op, UnixStream } from "@ario/ario";
 * const [a, b] = UnixStream.pair();
 * const buf = new Uint8Array(4);
 * const [sent, got, timedOut] = await multi([
 *   op.send(a.fd, new TextEncoder().encode("ping"), { link: "soft" }),
 *   op.recv(b.fd, buf, { link: "soft" }),
 *   op.linkTimeout(100),
 * ]);
 * console.log(sent, got, timedOut); // 4 4 false
 * a.close();
 * b.close();
 * ```
 *
 * @module
 */
import { type Addr, type AnyAddr, type AnySockAddr, encodeAddr, senderRegion } from "./addr.ts";
import { constants, errnoError, type IoError } from "./errors.ts";
import { FSYNC_DATASYNC, OFF_CURRENT, POLL, SPLICE_F } from "./ffi/layout.ts";
import { type Reactor, sharedReactor } from "./reactor.ts";
import { checkFd, checkInt, entry, type LinkOptions, Operation } from "./operation.ts";
import {
  type MessageReceived,
  readvOp,
  recvmsgOp,
  type RecvMsgOptions,
  sendmsgOp,
  type SendMsgOptions,
  type VecOptions,
  writevOp,
} from "./msg.ts";
import {
  prepAccept,
  prepCancel,
  prepCancelFd,
  prepClose,
  prepConnect,
  prepFsync,
  prepLinkTimeout,
  prepNop,
  prepOpenat,
  prepPoll,
  prepRead,
  prepRecv,
  prepRecvFrom,
  prepSend,
  prepSendTo,
  prepShutdown,
  prepSocket,
  prepSplice,
  prepTee,
  prepTimeout,
  prepWrite,
  type RawOp,
} from "./sqe.ts";
import { inPlace, ioAcquire, ioCopyIn, ioCopyOut, isDetached } from "./iomem.ts";

function checkOffset(offset: number | undefined, what: string): number | bigint {
  if (offset === undefined) return OFF_CURRENT;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(
      `Cannot ${what}: offset must be an integer in 0..2^53-1, got ${offset}`,
    );
  }
  return offset;
}

/** SPLICE's and TEE's fds, len and flags, checked; fd_in as C takes it. */
function checkPipeArgs(
  what: string,
  fdIn: number,
  fdOut: number,
  len: number,
  flags = 0,
): [number, number, number] {
  checkFd(fdIn, what);
  if (!Number.isInteger(len) || len < 0 || len > 0xffffffff) {
    throw new RangeError(`Cannot ${what}: len must be an integer in 0..2^32-1, got ${len}`);
  }
  const known = SPLICE_F.MOVE | SPLICE_F.NONBLOCK | SPLICE_F.MORE;
  if (!Number.isInteger(flags) || flags < 0 || flags & ~known) {
    throw new RangeError(`Cannot ${what}: flags must combine SPLICE_F.*, got ${flags}`);
  }
  // a negative fd_in reaches C above INT32_MAX: EBADF, as the kernel says
  return [fdIn >>> 0, checkFd(fdOut, what), flags];
}

/** The largest timeout in ms whose nanoseconds fit C's signed 64-bit field. */
const MAX_MS = 9_223_372_036_854;

function checkBuffer(buf: Uint8Array, what: string): Uint8Array {
  if (!(buf instanceof Uint8Array)) throw new TypeError(`Cannot ${what}: expected a Uint8Array`);
  if (isDetached(buf)) throw new TypeError(`Cannot ${what}: the buffer is detached`);
  return buf;
}

function msToNs(ms: number, what: string): bigint {
  if (typeof ms !== "number" || !(ms >= 0) || !(ms <= MAX_MS)) {
    throw new RangeError(
      `Cannot ${what}: ms must be a number in 0..${MAX_MS}, got ${ms}`,
    );
  }
  return BigInt(Math.round(ms * 1e6));
}

const bytes = (res: number) => res;

function msgFlags(o?: MsgOptions): number {
  return (o?.flags ?? 0) | (o?.waitAll ? constants.MSG_WAITALL : 0);
}

const KEPT = "are in the error's `received`";

/** An encoder of READ, WRITE, RECV or SEND: one buffer, its length, and `arg` (offset or flags). */
type Prep<A> = (e: RawOp, fd: number, buf: number | Uint8Array, len: number, arg: A) => RawOp;

/**
 * READ, WRITE, RECV and SEND: one buffer, its length, the byte count back.
 * `into`: C writes the buffer (a read), else it reads it (a write).
 */
function transferOp<A>(
  name: string,
  prep: Prep<A>,
  fd: number,
  buf: Uint8Array,
  arg: A,
  o: LinkOptions | undefined,
  into: boolean,
): Operation<number> {
  checkBuffer(buf, name);
  checkFd(fd, name);
  if (inPlace(buf)) {
    return new Operation(name, prep(entry(o), fd, buf, buf.length, arg), bytes, { keep: buf });
  }
  // checked first: nothing below throws, so the region always reaches the op
  const region = into ? ioAcquire(buf.length) : ioCopyIn(buf);
  const map = into
    ? (res: number) => {
      const lost = ioCopyOut(region, res, buf, name, KEPT);
      if (lost) throw lost;
      return res;
    }
    : bytes;
  const raw = prep(entry(o), fd, region.addr, buf.length, arg);
  return new Operation(name, raw, map, { keep: buf, regions: [region] });
}

const none = (_res: number) => undefined;

/** Options of read/write. */
export interface FileOptions extends LinkOptions {
  /** File offset; default the current position (pipes, sockets, ttys). */
  offset?: number;
}

/** Options of openat. */
export interface OpenatOptions extends LinkOptions {
  /** Directory fd a relative path starts from; default the working directory (`AT_FDCWD`). */
  dir?: number;
}

/** Options of fsync. */
export interface FsyncOptions extends LinkOptions {
  /** Flush the data only, not every metadata change (fdatasync). */
  datasync?: boolean;
}

/** Options of recv/send. */
export interface MsgOptions extends LinkOptions {
  /** Platform MSG_* flags. */
  flags?: number;
  /** Gather the whole buffer (MSG_WAITALL), across several arrivals. */
  waitAll?: boolean;
}

/** A datagram and where it came from. */
export interface Received<A = Addr> {
  /** Bytes received. */
  n: number;
  /** The sender. */
  addr: A;
}

/** Options of splice. */
export interface SpliceOptions extends LinkOptions {
  /** Offset in `fdIn` (a file); default none: pipes and sockets take none. */
  offIn?: number;
  /** Offset in `fdOut` (a file); default none. */
  offOut?: number;
  /** `SPLICE_F.MOVE`, `SPLICE_F.MORE` (`SPLICE_F.NONBLOCK` is always in effect). */
  flags?: number;
}

/** Options of tee. */
export interface TeeOptions extends LinkOptions {
  /** `SPLICE_F.MORE` (a hint; `SPLICE_F.NONBLOCK` is always in effect). */
  flags?: number;
}

/** Options of timeouts. */
export interface TimeoutOptions extends LinkOptions {
  /** Also complete after this many other completions (io_uring's count). */
  count?: number;
  /** `ms` is an absolute time on the reactor's monotonic clock (ms). */
  absolute?: boolean;
}

/** The op builders; see {@linkcode op}. */
export interface OpBuilders {
  /** Does nothing; completes at once. */
  nop(o?: LinkOptions): Operation<void>;
  /** Reads into `buf` from a pipe, tty, socket, or a file at `offset`. */
  read(fd: number, buf: Uint8Array, o?: FileOptions): Operation<number>;
  /** Writes `buf` to a pipe, tty, socket, or a file at `offset`. */
  write(fd: number, buf: Uint8Array, o?: FileOptions): Operation<number>;
  /** Receives from a socket; 0 means the peer closed. */
  recv(fd: number, buf: Uint8Array, o?: MsgOptions): Operation<number>;
  /** Sends on a connected socket. */
  send(fd: number, buf: Uint8Array, o?: MsgOptions): Operation<number>;
  /** Receives one datagram and its sender, decoded by its own family (a raw, ICMP or packet socket). */
  recvFrom(
    fd: number,
    buf: Uint8Array,
    o: MsgOptions & { transport: "any" },
  ): Operation<Received<AnyAddr>>;
  /** Receives one datagram and its sender. */
  recvFrom(
    fd: number,
    buf: Uint8Array,
    o?: MsgOptions & { transport?: "udp" | "unix" },
  ): Operation<Received>;
  /** Sends one datagram to `to` (an IP, Unix or link-layer address, or sockaddr bytes). */
  sendTo(fd: number, buf: Uint8Array, to: AnySockAddr, o?: MsgOptions): Operation<number>;
  /** Reads into several buffers in one call (scatter). */
  readv(fd: number, bufs: readonly Uint8Array[], o?: VecOptions): Operation<number>;
  /** Writes several buffers in one call (gather). */
  writev(fd: number, bufs: readonly Uint8Array[], o?: VecOptions): Operation<number>;
  /** Receives one message: its bytes, sender, control messages and flags. */
  recvmsg(fd: number, bufs: readonly Uint8Array[], o?: RecvMsgOptions): Operation<MessageReceived>;
  /** Sends one message, with a destination and control messages. */
  sendmsg(fd: number, bufs: readonly Uint8Array[], o?: SendMsgOptions): Operation<number>;
  /** Accepts a connection; resolves to the new fd. */
  accept(fd: number, o?: LinkOptions): Operation<number>;
  /** Makes a socket of any kind; resolves to its fd (non-blocking, close-on-exec). */
  socket(domain: number, type: number, protocol?: number, o?: LinkOptions): Operation<number>;
  /** Connects a socket. */
  connect(fd: number, to: AnySockAddr, o?: LinkOptions): Operation<void>;
  /** Closes fd after cancelling what waits on it. */
  close(fd: number, o?: LinkOptions): Operation<void>;
  /** Opens a file; resolves to the new fd (close-on-exec). */
  openat(path: string, flags: number, mode?: number, o?: OpenatOptions): Operation<number>;
  /** Flushes a file to its device. */
  fsync(fd: number, o?: FsyncOptions): Operation<void>;
  /** Shuts down reading, writing or both. */
  shutdown(fd: number, how: "read" | "write" | "both", o?: LinkOptions): Operation<void>;
  /** Waits for readiness; resolves to the ready mask. */
  poll(fd: number, events: number, o?: LinkOptions): Operation<number>;
  /** Moves bytes between two fds, one a pipe, without copying them through JS (Linux). */
  splice(fdIn: number, fdOut: number, len: number, o?: SpliceOptions): Operation<number>;
  /** Copies a pipe's bytes into another pipe without consuming them (Linux). */
  tee(fdIn: number, fdOut: number, len: number, o?: TeeOptions): Operation<number>;
  /** Completes after `ms` ("timeout") or `count` completions ("count"). */
  timeout(ms: number, o?: TimeoutOptions): Operation<"timeout" | "count">;
  /** Bounds the linked op before it; resolves whether it fired. */
  linkTimeout(ms: number, o?: LinkOptions & { absolute?: boolean }): Operation<boolean>;
  /** Cancels a submitted op, or the ops on an fd. */
  cancel(
    target: Operation<unknown> | { fd: number; all?: boolean },
    o?: LinkOptions,
  ): Operation<number>;
}

/** Builders of every op. Each returns an {@linkcode Operation} to submit once. */
export const op: OpBuilders = {
  /**
   * Does nothing; completes at once.
   *
   * @example
   * ```ts
   * import { op, single } from "@ario/ario";
   * await single(op.nop());
   * ```
   */
  nop(o?: LinkOptions): Operation<void> {
    return new Operation("nop", prepNop(entry(o)), none);
  },

  /**
   * Reads into `buf` from a pipe, tty or socket, or from a regular file at
   * `o.offset` (default its position; 0 at its end). Files run on the
   * reactor's file pool where the backend cannot poll them.
   *
   * @example Read a pipe
   * ```ts
   * import { Async, op, single } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * await w.write(new TextEncoder().encode("hi"));
   * console.log(await single(op.read(r.fd, new Uint8Array(1024)))); // 2
   * r.close();
   * w.close();
   * ```
   */
  read(fd: number, buf: Uint8Array, o?: FileOptions): Operation<number> {
    return transferOp("read", prepRead, fd, buf, checkOffset(o?.offset, "read"), o, true);
  },

  /**
   * Writes `buf` to a pipe, tty or socket, or to a regular file at
   * `o.offset`; the result may be short.
   *
   * @example Write a pipe
   * ```ts
   * import { Async, op, single } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * console.log(await single(op.write(w.fd, new TextEncoder().encode("hi\n")))); // 3
   * r.close();
   * w.close();
   * ```
   */
  write(fd: number, buf: Uint8Array, o?: FileOptions): Operation<number> {
    return transferOp("write", prepWrite, fd, buf, checkOffset(o?.offset, "write"), o, false);
  },

  /**
   * Receives from a socket into `buf`; 0 means the peer closed.
   *
   * @example Gather a whole buffer from two writes
   * ```ts
   * import { op, single, UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * const got = single(op.recv(b.fd, new Uint8Array(5), { waitAll: true }));
   * await a.write(new TextEncoder().encode("hel"));
   * await a.write(new TextEncoder().encode("lo"));
   * console.log(await got); // 5
   * a.close();
   * b.close();
   * ```
   */
  recv(fd: number, buf: Uint8Array, o?: MsgOptions): Operation<number> {
    return transferOp("recv", prepRecv, fd, buf, msgFlags(o), o, true);
  },

  /**
   * Sends `buf` on a connected socket; a short send breaks a soft link.
   *
   * @example Send on a connected socket
   * ```ts
   * import { op, single, UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * console.log(await single(op.send(a.fd, new TextEncoder().encode("hello")))); // 5
   * a.close();
   * b.close();
   * ```
   */
  send(fd: number, buf: Uint8Array, o?: MsgOptions): Operation<number> {
    return transferOp("send", prepSend, fd, buf, msgFlags(o), o, false);
  },

  /**
   * Receives one datagram and its sender, labelled "udp" (default) or
   * "unix"; with `transport: "any"` the sender is decoded by its own
   * family (`{ transport: "ip" }` for a raw or ICMP socket, `"packet"`
   * for AF_PACKET, `"unknown"` with the bytes for other families).
   *
   * @example Receive a datagram and its sender
   * ```ts
   * import { op, single, UdpSocket } from "@ario/ario";
   * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * await a.sendTo(new Uint8Array([1, 2]), b.localAddr);
   * const { n, addr } = await single(op.recvFrom(b.fd, new Uint8Array(1500)));
   * console.log(n, addr.transport); // 2 "udp"
   * ```
   */
  recvFrom(
    fd: number,
    buf: Uint8Array,
    o?: MsgOptions & { transport?: "udp" | "unix" | "any" },
  ): Operation<Received<never>> { // the overloads of OpBuilders say which address comes
    checkBuffer(buf, "recvFrom");
    checkFd(fd, "recvFrom");
    const e = entry(o);
    const transport = o?.transport ?? "udp";
    if (transport !== "udp" && transport !== "unix" && transport !== "any") {
      throw new TypeError(
        `Cannot recvFrom: transport "${transport}": expected "udp", "unix" or "any"`,
      );
    }
    const from = senderRegion();
    const data = inPlace(buf) ? undefined : ioAcquire(buf.length);
    const raw = prepRecvFrom(
      e,
      fd,
      data ? data.addr : buf,
      buf.length,
      o?.flags ?? 0,
      from.sa,
      from.saLen,
    );
    return new Operation(
      "recvFrom",
      raw,
      (res) => {
        const addr = transport === "any" ? from.decodeAny() : from.decode(transport);
        const lost = data && ioCopyOut(data, res, buf, "recvFrom", KEPT);
        if (lost) throw Object.assign(lost, { addr });
        return { n: res, addr };
      },
      { keep: buf, regions: data ? [from.region, data] : [from.region] },
    ) as Operation<Received<never>>;
  },

  /**
   * Sends one datagram to `to`.
   *
   * @example Send a datagram to an address
   * ```ts
   * import { op, single, UdpSocket } from "@ario/ario";
   * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * const to = { hostname: "127.0.0.1", port: b.localAddr.port };
   * console.log(await single(op.sendTo(a.fd, new Uint8Array([1, 2, 3]), to))); // 3
   * ```
   */
  sendTo(fd: number, buf: Uint8Array, to: AnySockAddr, o?: MsgOptions): Operation<number> {
    checkBuffer(buf, "sendTo");
    checkFd(fd, "sendTo");
    const e = entry(o);
    const to8 = encodeAddr(to);
    const sa = ioCopyIn(to8);
    const data = inPlace(buf) ? undefined : ioCopyIn(buf);
    const raw = prepSendTo(
      e,
      fd,
      data ? data.addr : buf,
      buf.length,
      o?.flags ?? 0,
      sa.addr,
      to8.length,
    );
    return new Operation("sendTo", raw, bytes, { keep: buf, regions: data ? [sa, data] : [sa] });
  },

  /** Scatter read with readv(2); see `readvOp` (msg.ts). */
  readv: (fd, bufs, o) => readvOp(fd, bufs, o),
  /** Gather write with writev(2); see `writevOp` (msg.ts). */
  writev: (fd, bufs, o) => writevOp(fd, bufs, o),
  /** One recvmsg(2): bytes, sender, control messages, flags; see `recvmsgOp` (msg.ts). */
  recvmsg: (fd, bufs, o) => recvmsgOp(fd, bufs, o),
  /** One sendmsg(2), never resent; see `sendmsgOp` (msg.ts). */
  sendmsg: (fd, bufs, o) => sendmsgOp(fd, bufs, o),

  /**
   * Accepts a connection; resolves to the new fd (non-blocking, cloexec).
   *
   * @example Accept, and wrap the new fd
   * ```ts
   * import { op, single, TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using client = await TcpStream.connect(listener.localAddr);
   * await using conn = new TcpStream(await single(op.accept(listener.fd)));
   * console.log(conn.remoteAddr.port === client.localAddr.port); // true
   * ```
   */
  accept(fd: number, o?: LinkOptions): Operation<number> {
    return new Operation("accept", prepAccept(entry(o), checkFd(fd, "accept")), bytes);
  },

  /**
   * Makes a socket of any (domain, type, protocol), as socket(2) does;
   * resolves to its fd, non-blocking and close-on-exec, which the caller
   * owns (wrap it: `new UdpSocket(fd)`, `RawSocket.from(fd)`, or close it
   * with `op.close`). `type` may include `SOCK_NONBLOCK`/`SOCK_CLOEXEC`
   * (implied anyway). What the platform refuses rejects with its errno
   * (EAFNOSUPPORT, EPROTONOSUPPORT, EINVAL, EPERM for a raw socket without
   * the privilege).
   *
   * @example A UDP socket made by the reactor
   * ```ts
   * import { constants, op, single, UdpSocket } from "@ario/ario";
   * const fd = await single(op.socket(constants.AF_INET, constants.SOCK_DGRAM));
   * using sock = new UdpSocket(fd);
   * console.log(sock.fd === fd); // true
   * ```
   */
  socket(domain: number, type: number, protocol = 0, o?: LinkOptions): Operation<number> {
    checkInt(domain, "socket", "domain");
    checkInt(type, "socket", "type");
    checkInt(protocol, "socket", "protocol");
    return new Operation("socket", prepSocket(entry(o), domain, type, protocol), bytes, {
      context: `Cannot make socket (domain ${domain}, type ${type}, protocol ${protocol})`,
    });
  },

  /**
   * Connects a socket to `to`.
   *
   * @example Connect a UDP socket to its peer
   * ```ts
   * import { op, single, UdpSocket } from "@ario/ario";
   * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * await single(op.connect(a.fd, { hostname: "127.0.0.1", port: b.localAddr.port }));
   * console.log(a.remoteAddr.port === b.localAddr.port); // true
   * ```
   */
  connect(fd: number, to: AnySockAddr, o?: LinkOptions): Operation<void> {
    return connectOp(fd, to, o);
  },

  /**
   * Closes fd; ops still waiting on it complete with ECANCELED first.
   *
   * @example Close a raw fd; what waited on it is cancelled
   * ```ts
   * import { op, single, TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using client = await TcpStream.connect(listener.localAddr);
   * const fd = await single(op.accept(listener.fd));
   * const pending = single(op.recv(fd, new Uint8Array(1)));
   * await single(op.close(fd));
   * await pending.catch((e) => console.log(e.code)); // "ECANCELED"
   * ```
   */
  close(fd: number, o?: LinkOptions): Operation<void> {
    return new Operation("close", prepClose(entry(o), checkFd(fd, "close")), none);
  },

  /**
   * Opens `path` (relative to `o.dir`, default the working directory) with
   * platform `O_*` `flags` (`constants.O_RDONLY`, `O_WRONLY | O_CREAT`...;
   * O_CLOEXEC is always added) and `mode` for a file it creates (default
   * 0o666, less the umask); resolves to the new fd. io_uring opens it in
   * the kernel, readiness backends on the reactor's file pool. Close the fd
   * with {@linkcode op.close}.
   *
   * @example Create a file, write at an offset, read it back
   * ```ts
   * import { constants, op, single } from "@ario/ario";
   * const path = await Deno.makeTempFile();
   * const { O_RDWR, O_TRUNC } = constants;
   * const fd = await single(op.openat(path, O_RDWR | O_TRUNC));
   * await single(op.write(fd, new TextEncoder().encode("hello"), { offset: 10 }));
   * const buf = new Uint8Array(5);
   * console.log(await single(op.read(fd, buf, { offset: 10 }))); // 5
   * await single(op.close(fd));
   * await Deno.remove(path);
   * ```
   */
  openat(path: string, flags: number, mode = 0o666, o?: OpenatOptions): Operation<number> {
    if (typeof path !== "string") throw new TypeError(`Cannot openat: path must be a string`);
    if (path.includes("\0")) {
      throw new TypeError(`Cannot openat "${path.replaceAll("\0", "\\0")}": path holds a NUL`);
    }
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
      throw new RangeError(`Cannot openat "${path}": flags must be O_* bits, got ${flags}`);
    }
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
      throw new RangeError(`Cannot openat "${path}": mode must be in 0..0o7777, got ${mode}`);
    }
    const dir = o?.dir === undefined ? constants.AT_FDCWD : checkFd(o.dir, "openat");
    const region = ioCopyIn(new TextEncoder().encode(path + "\0"));
    return new Operation("openat", prepOpenat(entry(o), dir, region.addr, flags, mode), bytes, {
      regions: [region],
      context: `Cannot open "${path}"`,
    });
  },

  /**
   * Flushes `fd`'s data and metadata to its device (fsync), or with
   * `datasync` its data (fdatasync). An fd that cannot be synced (a pipe,
   * a socket) fails with EINVAL.
   *
   * @example
   * ```ts
   * import { constants, op, single } from "@ario/ario";
   * const path = await Deno.makeTempFile();
   * const fd = await single(op.openat(path, constants.O_WRONLY));
   * await single(op.write(fd, new Uint8Array([1, 2, 3]), { offset: 0 }));
   * await single(op.fsync(fd, { datasync: true }));
   * await single(op.close(fd));
   * await Deno.remove(path);
   * ```
   */
  fsync(fd: number, o?: FsyncOptions): Operation<void> {
    const flags = o?.datasync ? FSYNC_DATASYNC : 0;
    return new Operation("fsync", prepFsync(entry(o), checkFd(fd, "fsync"), flags), none);
  },

  /**
   * Shuts down reading, writing or both.
   *
   * @example Shut down writing: the peer sees end of stream
   * ```ts
   * import { op, single, UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * await single(op.shutdown(a.fd, "write"));
   * console.log(await b.read(new Uint8Array(1))); // null
   * a.close();
   * b.close();
   * ```
   */
  shutdown(fd: number, how: "read" | "write" | "both", o?: LinkOptions): Operation<void> {
    const n = { read: 0, write: 1, both: 2 }[how];
    if (n === undefined) {
      throw new TypeError(`Cannot shutdown "${how}": expected "read", "write" or "both"`);
    }
    return new Operation("shutdown", prepShutdown(entry(o), checkFd(fd, "shutdown"), n), none);
  },

  /**
   * Waits until fd is ready for `events` (POLL.IN, POLL.OUT, POLL.PRI);
   * resolves to the ready mask (which may include POLL.ERR, POLL.HUP).
   *
   * @example Wait until a pipe is readable
   * ```ts
   * import { Async, op, POLL, single } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * await w.write(new Uint8Array([1]));
   * const mask = await single(op.poll(r.fd, POLL.IN));
   * console.log((mask & POLL.IN) !== 0); // true
   * r.close();
   * w.close();
   * ```
   */
  poll(fd: number, events: number, o?: LinkOptions): Operation<number> {
    if (!Number.isInteger(events) || events & ~0x1f || !(events & 0x7)) {
      throw new RangeError(
        `Cannot poll: events must combine POLL.IN, POLL.PRI and POLL.OUT, got ${events}`,
      );
    }
    return new Operation("poll", prepPoll(entry(o), checkFd(fd, "poll"), events), bytes);
  },

  /**
   * Moves up to `len` bytes from `fdIn` to `fdOut`, one of which must be a
   * pipe, inside the kernel (Linux's splice(2); elsewhere it fails with
   * EOPNOTSUPP). Resolves to the count moved, 0 at the end of the input;
   * waits while the input has nothing or the output is full. Closing
   * either fd cancels it.
   *
   * @example Move bytes from one pipe to another through the kernel
   * ```ts
   * import { Async, op, single } from "@ario/ario";
   * const [r1, w1] = Async.pipe();
   * const [r2, w2] = Async.pipe();
   * await w1.write(new TextEncoder().encode("zero-copy"));
   * if (Deno.build.os === "linux") {
   *   console.log(await single(op.splice(r1.fd, w2.fd, 65536))); // 9
   * }
   * for (const a of [r1, w1, r2, w2]) a.close();
   * ```
   */
  splice(fdIn: number, fdOut: number, len: number, o?: SpliceOptions): Operation<number> {
    const [inFd, outFd, flags] = checkPipeArgs("splice", fdIn, fdOut, len, o?.flags);
    const offIn = checkOffset(o?.offIn, "splice"), offOut = checkOffset(o?.offOut, "splice");
    return new Operation(
      "splice",
      prepSplice(entry(o), inFd, outFd, len, offIn, offOut, flags),
      bytes,
    );
  },

  /**
   * Duplicates up to `len` bytes of pipe `fdIn` into pipe `fdOut` without
   * consuming them: a later read of `fdIn` still gets them (Linux's tee(2);
   * elsewhere it fails with EOPNOTSUPP). Resolves to the count, 0 when
   * `fdIn` is empty and its writers are gone; waits while `fdIn` is empty
   * or `fdOut` full. Both must be pipes (EINVAL otherwise). Closing either
   * fd cancels it.
   *
   * @example Copy a pipe's bytes into another, then read both
   * ```ts
   * import { Async, op, single } from "@ario/ario";
   * const [r1, w1] = Async.pipe();
   * const [r2, w2] = Async.pipe();
   * await w1.write(new TextEncoder().encode("twice"));
   * if (Deno.build.os === "linux") {
   *   console.log(await single(op.tee(r1.fd, w2.fd, 65536))); // 5
   *   const buf = new Uint8Array(16);
   *   console.log(await r2.read(buf), await r1.read(buf)); // 5 5
   * }
   * for (const a of [r1, w1, r2, w2]) a.close();
   * ```
   */
  tee(fdIn: number, fdOut: number, len: number, o?: TeeOptions): Operation<number> {
    const [inFd, outFd, flags] = checkPipeArgs("tee", fdIn, fdOut, len, o?.flags);
    return new Operation("tee", prepTee(entry(o), inFd, outFd, len, flags), bytes);
  },

  /**
   * Completes after `ms` milliseconds ("timeout"), or after `count` other
   * completions ("count"), whichever comes first.
   *
   * @example
   * ```ts
   * import { op, single } from "@ario/ario";
   * console.log(await single(op.timeout(1))); // "timeout"
   * ```
   */
  timeout(ms: number, o?: TimeoutOptions): Operation<"timeout" | "count"> {
    const count = o?.count ?? 0;
    if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) {
      throw new RangeError(`Cannot set timeout: count must be an integer >= 0, got ${count}`);
    }
    const raw = prepTimeout(entry(o), msToNs(ms, "set timeout"), count, !!o?.absolute);
    return new Operation("timeout", raw, (res) => {
      if (res === 0) return "count";
      if (res === -constants.ETIME) return "timeout";
      throw errnoError(res, "timeout");
    }, { mapsErrors: true });
  },

  /**
   * Bounds the op before it (which must be linked to it): when `ms` pass
   * first, that op completes with ECANCELED and this resolves `true`;
   * otherwise it resolves `false`.
   *
   * @example A receive that nothing answers, bounded
   * ```ts
   * import { multi, op, UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * const recv = op.recv(b.fd, new Uint8Array(8), { link: "soft" });
   * const [n, fired] = await multi([recv, op.linkTimeout(10)]);
   * console.log(fired, n instanceof Error && n.code); // true "ECANCELED"
   * a.close();
   * b.close();
   * ```
   */
  linkTimeout(ms: number, o?: LinkOptions & { absolute?: boolean }): Operation<boolean> {
    const raw = prepLinkTimeout(entry(o), msToNs(ms, "set link timeout"), !!o?.absolute);
    return new Operation("linkTimeout", raw, (res) => {
      if (res === -constants.ETIME) return true;
      if (res === -constants.ECANCELED) return false;
      throw errnoError(res, "linkTimeout");
    }, { mapsErrors: true });
  },

  /**
   * Cancels a submitted op, or every op on an fd (`{ fd }`), or all of
   * them (`{ all: true }` with fd). Resolves to how many were cancelled
   * (1 for a single target); rejects ENOENT if none was pending.
   *
   * @example Cancel one submitted op
   * ```ts
   * import { op, single, UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * const r = op.recv(b.fd, new Uint8Array(1));
   * const p = single(r);
   * console.log(await single(op.cancel(r))); // 1
   * await p.catch((e) => console.log(e.code)); // "ECANCELED"
   * a.close();
   * b.close();
   * ```
   */
  cancel(
    target: Operation<unknown> | { fd: number; all?: boolean },
    o?: LinkOptions,
  ): Operation<number> {
    if (target instanceof Operation) {
      if (target.id < 0) {
        throw new TypeError(`Cannot cancel op "${target.name}": it was not submitted`);
      }
      // its ticket: names this op only, never a later one
      return new Operation("cancel", prepCancel(entry(o), target.id), (res) => res === 0 ? 1 : res);
    }
    const raw = prepCancelFd(entry(o), checkFd(target.fd, "cancel"), !!target.all);
    return new Operation("cancel", raw, (res) => target.all ? res : 1);
  },
};

/**
 * CONNECT to `to` (copied to C-owned memory); `context` names the
 * connection in a failure ("Cannot connect to 127.0.0.1:80").
 */
export function connectOp(
  fd: number,
  to: AnySockAddr,
  o?: LinkOptions,
  context?: string,
): Operation<void> {
  checkFd(fd, "connect");
  const e = entry(o);
  const to8 = encodeAddr(to);
  const sa = ioCopyIn(to8);
  return new Operation("connect", prepConnect(e, fd, sa.addr, to8.length), none, {
    regions: [sa],
    context,
  });
}

/** Options of {@linkcode single} and {@linkcode multi}. */
export interface SubmitOptions {
  /** Cancels the ops (they complete with ECANCELED; the promise rejects with the reason). */
  signal?: AbortSignal;
  /** Reactor to use; default the shared one. */
  reactor?: Reactor;
}

/** The results of a batch: each op's value, or the error it failed with. */
export type Results<Ops extends readonly Operation<unknown>[]> = {
  -readonly [K in keyof Ops]: Ops[K] extends Operation<infer T> ? T | IoError : never;
};

/**
 * Runs one op; resolves to its value, rejects with its error (a
 * `Deno.errors` class where one fits, with `code`, `errno` and `op`), or
 * with `signal.reason` if an abort cancelled it. An op that completed
 * before the abort reached it resolves with its value.
 *
 * @example
 * ```ts
 * import { op, single } from "@ario/ario";
 * const fired = await single(op.timeout(2));
 * console.log(fired); // "timeout"
 * ```
 */
export function single<T>(o: Operation<T>, options?: SubmitOptions): Promise<T> {
  return multi([o] as const, options).then(([r]) => {
    if (r instanceof Error) {
      const signal = options?.signal;
      if (signal?.aborted && (r as IoError).code === "ECANCELED") throw signal.reason;
      throw r;
    }
    return r as T;
  });
}

/**
 * Runs a batch in one submission; linked ops form chains. Resolves when
 * every op completed, to each op's value or error (a failed op does not
 * reject the batch: inspect each result). Rejects on bad input, or with
 * `signal.reason` when an abort cancelled every op; if some op completed
 * anyway, it resolves and the cancelled ones hold ECANCELED errors, so no
 * result that happened is lost.
 *
 * @example Three ops, the last two linked: the expired timeout breaks the link, cancelling the NOP
 * ```ts
 * import { multi, op } from "@ario/ario";
 * const [a, b, c] = await multi([op.nop(), op.timeout(1, { link: "soft" }), op.nop()]);
 * console.log(a, b, c instanceof Error && c.code); // undefined "timeout" "ECANCELED"
 * ```
 */
export function multi<const Ops extends readonly Operation<unknown>[]>(
  ops: Ops,
  options?: SubmitOptions,
): Promise<Results<Ops>> {
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (!Array.isArray(ops) || ops.length === 0) {
    return Promise.reject(new TypeError("Cannot submit: expected a non-empty array of ops"));
  }
  for (const o of ops) {
    if (!(o instanceof Operation)) {
      return Promise.reject(new TypeError("Cannot submit: every element must be an op"));
    }
  }
  const r = options?.reactor ?? sharedReactor();
  return new Promise((resolve, reject) => {
    const n = ops.length;
    const out = new Array(n) as Results<Ops>;
    let left = n;
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      for (const o of ops) r.cancel(o.id);
    };
    let happened = false; // some op completed with a real result, not a cancellation
    const done = ops.map((o, k) => (res: number) => {
      if (res !== -constants.ECANCELED) happened = true;
      try {
        (out as unknown[])[k] = o.result(res);
      } catch (e) {
        (out as unknown[])[k] = e;
      }
      if (--left === 0) {
        signal?.removeEventListener("abort", onAbort);
        // an abort that took effect before anything happened rejects; results that
        // did happen (bytes read, a connection accepted) are never thrown away
        if (aborted && !happened) reject(signal!.reason);
        else resolve(out);
      }
    });
    const ids = r.submitRaw(ops.map((o) => o.raw), done, ops.map((o) => o.keep));
    ops.forEach((o, k) => o.submitted(ids[k], r));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export { POLL, SPLICE_F };
