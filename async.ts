/**
 * Async I/O on sockets and any pollable fd, after smol-rs/async-io's
 * `Async<T>`: TCP ({@linkcode TcpStream}, {@linkcode TcpListener}), UDP
 * ({@linkcode UdpSocket}), Unix sockets ({@linkcode UnixStream},
 * {@linkcode UnixListener}, {@linkcode UnixDatagram}) and pipes, ttys,
 * eventfds or any descriptor you already have ({@linkcode Async.from}).
 *
 * Every wait takes an `AbortSignal`; errors are `Deno.errors` classes with
 * the errno name in `code`; every object is `using`/`await using`
 * disposable and has Web Streams (`readable`/`writable`) like `Deno.Conn`.
 *
 * @example An echo round trip over loopback
 * ```ts
 * import { TcpListener, TcpStream } from "@ario/ario";
 * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * await using client = await TcpStream.connect(listener.localAddr);
 * await using server = await accepted;
 * await client.write(new TextEncoder().encode("ping"));
 * const buf = new Uint8Array(4);
 * const n = await server.read(buf);
 * console.log(n, new TextDecoder().decode(buf)); // 4 "ping"
 * ```
 *
 * @module
 */
import {
  type Addr,
  decodeAddr,
  encodeAddr,
  familyOf,
  type IpAddr,
  isUnix,
  type SockAddr,
  SOCKADDR_MAX,
} from "./addr.ts";
import {
  closedError,
  constants,
  errnoError,
  errnoName,
  type IoError,
  timedOutError,
} from "./errors.ts";
import { OFF_CURRENT, POLL, SQE_FLAG } from "./ffi/layout.ts";
import { load } from "./ffi/load.ts";
import { isNumericHost, resolveHost, resolveHostSync } from "./dns.ts";
import { type Reactor, reactor as sharedReactor } from "./reactor.ts";
import { connectOp, multi, Op, op, type Received } from "./submit.ts";
import {
  type Bytes,
  prepAccept,
  prepClose,
  prepConnect,
  prepPoll,
  prepRead,
  prepRecv,
  prepRecvFrom,
  prepSend,
  prepSendTo,
  prepShutdown,
  prepWrite,
  type RawOp,
} from "./sqe.ts";
import {
  type BufferLostError,
  getU32,
  inPlace,
  ioAcquire,
  ioCopyIn,
  ioCopyOut,
  type IoRegion,
  ioRelease,
  isDetached,
  setU32,
} from "./iomem.ts";

/** Options of every wait: an `AbortSignal` that cancels it. */
export interface SignalOptions {
  /** Cancels the wait; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of socket reads and writes. */
export interface IoOptions extends SignalOptions {
  /** Platform `MSG_*` flags (`constants.MSG_OOB`, `constants.MSG_PEEK`...); sockets only. */
  flags?: number;
}

/** Options of {@linkcode TcpStream.connect} and {@linkcode UnixStream.connect}. */
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

/** TCP keepalive settings; times in whole seconds. */
export interface KeepAliveOptions {
  /** Idle time before the first probe (TCP_KEEPIDLE), seconds. */
  idle?: number;
  /** Time between probes (TCP_KEEPINTVL), seconds. */
  interval?: number;
  /** Unanswered probes before the connection drops (TCP_KEEPCNT). */
  count?: number;
}

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

/** Options of {@linkcode Async.from}. */
export interface FromOptions {
  /** Reactor to use; default the shared one. */
  reactor?: Reactor;
}

const MAX_CHUNK = 64 * 1024;
/** C-owned memory one stream read or write takes at most (it returns less). */
const IO_CHUNK = 256 * 1024;
/** C-owned memory a stream read starts with (it grows while reads fill it). */
const READ_HINT_MIN = 4096;
const lib = () => load();
const noop = () => {};

function ipOf(a: TcpAddr | IpAddr): IpAddr {
  const hostname = a.hostname === undefined || a.hostname === "localhost"
    ? "127.0.0.1"
    : a.hostname;
  return { hostname, port: a.port, scopeId: (a as IpAddr).scopeId };
}

/** The address to bind: a name resolves on the spot, as `Deno.listen` does (first address). */
function bindIpOf(a: TcpAddr | IpAddr): IpAddr {
  const ip = ipOf(a);
  if (typeof ip.hostname === "string" && !isNumericHost(ip.hostname)) {
    ip.hostname = resolveHostSync(ip.hostname)[0];
  }
  return ip;
}

/** The addresses to try for `a`: a name resolves off the JS thread, in the resolver's order. */
async function ipsOf(a: TcpAddr | IpAddr, o: ConnectOptions = {}): Promise<IpAddr[]> {
  const ip = ipOf(a);
  if (typeof ip.hostname !== "string" || isNumericHost(ip.hostname)) return [ip];
  const hosts = await resolveHost(ip.hostname, { signal: o.signal, timeout: o.timeout });
  return hosts.map((hostname) => ({ ...ip, hostname }));
}

function unixOf(a: string | { path: string }): { path: string } {
  return typeof a === "string" ? { path: a } : a;
}

/** "127.0.0.1:80", "[::1]:80", "/tmp/s", "@abstract". */
function fmt(a: SockAddr | Addr): string {
  if (isUnix(a as SockAddr)) {
    const p = (a as { path: string }).path;
    return p.startsWith("\0") ? "@" + p.slice(1) : p || "(unnamed)";
  }
  const ip = a as IpAddr;
  return ip.hostname.includes(":") ? `[${ip.hostname}]:${ip.port}` : `${ip.hostname}:${ip.port}`;
}

/** A TypeError for a buffer C cannot use, or undefined. */
function badBuffer(buf: Uint8Array, what: string): TypeError | undefined {
  if (!(buf instanceof Uint8Array)) return new TypeError(`Cannot ${what}: expected a Uint8Array`);
  if (isDetached(buf)) return new TypeError(`Cannot ${what}: the buffer is detached`);
  return undefined;
}

function fail(rc: number, op: string, context: string): never {
  throw errnoError(rc, op, context);
}

function newSocket(domain: number, type: number, what: string): number {
  const fd = lib().ario_socket(domain, type, 0);
  if (fd < 0) fail(fd, "socket", `Cannot ${what}`);
  return fd;
}

const intBuf = new Int32Array(1);
const intBytes = new Uint8Array(intBuf.buffer);
const lenBuf = new Uint32Array(1);
const saBuf = new Uint8Array(SOCKADDR_MAX);

function setInt(fd: number, level: number, name: number, v: number): number {
  intBuf[0] = v;
  return lib().ario_setsockopt(fd, level, name, intBytes, 4);
}

/**
 * Closes fd through `r`'s loop (default the shared one) so the loop forgets
 * it: a socket the loop has watched must never be closed behind its back,
 * or a new socket reusing the number would inherit a stale registration.
 */
function closeRaw(fd: number, r?: Reactor): void {
  const loop = r ?? sharedReactor();
  loop.closeFd(fd);
}

/** Creates a socket bound to `addr`; closes it on failure. */
function boundSocket(
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
async function connectSocket(addr: SockAddr, type: number, o: ConnectOptions): Promise<number> {
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

function sockName(
  fd: number,
  peer: boolean,
  transport: "tcp" | "udp" | "unix" | "unixpacket",
): Addr {
  lenBuf[0] = SOCKADDR_MAX;
  const rc = peer
    ? lib().ario_getpeername(fd, saBuf, lenBuf)
    : lib().ario_getsockname(fd, saBuf, lenBuf);
  if (rc < 0) {
    fail(rc, peer ? "getpeername" : "getsockname", `Cannot get ${peer ? "peer" : "local"} address`);
  }
  if (lenBuf[0] <= 2 && transport.startsWith("unix")) {
    return { transport: transport as "unix", path: "" };
  }
  return decodeAddr(saBuf, lenBuf[0], transport);
}

/** Bytes of an IPv4 (4) or IPv6 (16) address. */
function ipBytes(ip: string, v6: boolean, what: string): Uint8Array {
  const host = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  if (host.includes(":") !== v6) {
    throw new TypeError(`Cannot ${what}: "${ip}" is not an IPv${v6 ? 6 : 4} address`);
  }
  const sa = encodeAddr({ hostname: host, port: 0 });
  return v6 ? sa.slice(8, 24) : sa.slice(4, 8);
}

type Transport = "tcp" | "udp" | "unix" | "unixpacket";

/** How an op of the socket classes is named in its errors: "Cannot <what>: CODE (<op>)". */
interface IoCall {
  readonly op: string;
  readonly what: string;
  /** A result of 0 is the end of the stream: resolves null. */
  readonly eofNull?: boolean;
}
const READ_CALL: IoCall = { op: "read", what: "read", eofNull: true };
const RECV_CALL: IoCall = { op: "recv", what: "read", eofNull: true };
const WRITE_CALL: IoCall = { op: "write", what: "write" };
const SEND_CALL: IoCall = { op: "send", what: "write" };
const POLL_CALL: IoCall = { op: "poll", what: "wait for readiness" };
const SHUTDOWN_CALL: IoCall = { op: "shutdown", what: "shut down" };
const ACCEPT_CALL: IoCall = { op: "accept", what: "accept" };
const RECVFROM_CALL: IoCall = { op: "recvfrom", what: "receive" };

/**
 * An fd in non-blocking mode, driven by the reactor: the equivalent of
 * async-io's `Async<T>`. Subclasses add TCP, UDP and Unix helpers.
 *
 * **Naming.** async-io's readiness methods `readable()`/`writable()` clash
 * with Deno's stream properties `readable`/`writable` (as on `Deno.Conn`).
 * Here the Deno convention wins: `readable` and `writable` are a
 * `ReadableStream`/`WritableStream` pair, and readiness is
 * {@linkcode Async.ready} (`ready(POLL.IN)`, `ready(POLL.OUT)`,
 * `ready(POLL.PRI)`) with the shorthands {@linkcode Async.waitReadable},
 * {@linkcode Async.waitWritable} and {@linkcode Async.waitPriority}.
 *
 * **Streams.** `readable` is a byte stream (BYOB readers work); `writable`
 * applies backpressure (each chunk is written in full before the next).
 * Cancelling `readable` shuts down reading; closing `writable` shuts down
 * writing (for a pipe or tty: closes the fd). Once both streams are done
 * the fd is closed, so `conn.readable.pipeTo(conn.writable)` cleans up.
 *
 * **Closing.** {@linkcode Async.close} closes the fd at once; ops still
 * waiting on it reject with `Deno.errors.BadResource` (code ECANCELED).
 * Nothing leaks and closing twice is harmless.
 *
 * @example Wrap a pipe end you already have and wait for data
 * ```ts
 * import { Async } from "@ario/ario";
 * const [r, w] = Async.pipe();
 * await w.write(new TextEncoder().encode("hi"));
 * await r.waitReadable();
 * const buf = new Uint8Array(8);
 * console.log(await r.read(buf)); // 2
 * r.close();
 * w.close();
 * ```
 */
export class Async implements AsyncDisposable, Disposable {
  readonly #fd: number;
  readonly #r: Reactor;
  readonly #sock: boolean;
  /** @internal */
  protected readonly transport: Transport | undefined;
  #closed = false;
  #closing?: Promise<void>;
  #ref = true;
  #inflight = 0;
  // reused for every op: submitRaw reads them synchronously
  readonly #rop: RawOp = {
    op: 0,
    fd: -1,
    addr: 0,
    addr2: 0,
    len: 0,
    opFlags: 0,
    off: 0,
    ref: true,
  };
  #readable?: ReadableStream<Uint8Array<ArrayBuffer>>;
  #writable?: WritableStream<Uint8Array>;
  #readDone = false;
  #writeDone = false;
  // bytes a read received while its buffer was detached or shrunk: the next reads get them
  readonly #stash: { bytes: Uint8Array; addr?: Addr }[] = [];
  // C-owned memory a stream read takes: doubles when a read fills it, halves when reads stay small
  #hint = READ_HINT_MIN;

  /**
   * Wraps `fd` (taking ownership) without checking that it can be polled;
   * prefer {@linkcode Async.from}, which checks. `transport` names a
   * socket's kind (undefined: not a socket).
   *
   * @example
   * ```ts ignore
   * const a = new Async(fd);
   * ```
   */
  constructor(fd: number, transport?: Transport, reactor?: Reactor) {
    if (!Number.isInteger(fd) || fd < 0 || fd > 2 ** 31 - 1) {
      throw new TypeError(`Cannot wrap fd ${fd}: fd must be an integer in 0..2^31-1`);
    }
    this.#fd = fd;
    this.#rop.fd = fd;
    this.transport = transport;
    this.#sock = transport !== undefined;
    this.#r = reactor ?? sharedReactor();
  }

  /**
   * Wraps a descriptor you already have (pipe, pty/tty, eventfd, socket,
   * character device): puts it in non-blocking mode and checks the reactor
   * can poll it. Rejects with `Deno.errors.PermissionDenied` (EPERM) for
   * fds that cannot be polled, such as regular files on epoll. Takes
   * ownership: {@linkcode Async.close} closes the fd.
   *
   * @example
   * ```ts ignore
   * import { Async } from "@ario/ario";
   * const tty = await Async.from(fd);
   * const buf = new Uint8Array(256);
   * const n = await tty.read(buf);
   * ```
   */
  static async from(fd: number, options: FromOptions = {}): Promise<Async> {
    if (!Number.isInteger(fd) || fd < 0 || fd > 2 ** 31 - 1) {
      throw new TypeError(`Cannot wrap fd ${fd}: fd must be an integer in 0..2^31-1`);
    }
    const where = `Cannot wrap fd ${fd}`;
    const rc = lib().ario_set_nonblocking(fd, 1);
    if (rc < 0) fail(rc, "fcntl", where);
    // a socket? then recv/send and its kind
    let transport: Transport | undefined;
    lenBuf[0] = 4;
    if (
      lib().ario_getsockopt(fd, constants.SOL_SOCKET, constants.SO_TYPE, intBytes, lenBuf) === 0
    ) {
      const type = intBuf[0];
      lenBuf[0] = SOCKADDR_MAX;
      const unix = lib().ario_getsockname(fd, saBuf, lenBuf) === 0 && lenBuf[0] >= 2 &&
        new Uint16Array(saBuf.buffer, 0, 1)[0] === constants.AF_UNIX;
      const stream = type === constants.SOCK_STREAM;
      transport = unix ? (stream ? "unix" : "unixpacket") : (stream ? "tcp" : "udp");
    }
    // can the reactor poll it? Registering tells (epoll refuses regular files: EPERM)
    const probe = new Op(
      "poll",
      prepPoll({ op: 0, fd, flags: SQE_FLAG.LINK }, fd, POLL.IN | POLL.OUT),
      (res) => res,
      { mapsErrors: true },
    );
    const [got] = await multi([probe, op.linkTimeout(0)] as const, { reactor: options.reactor });
    const res = got as number;
    if (res === -constants.EPERM) {
      throw errnoError(res, "poll", `${where}: it cannot be polled (a regular file or directory?)`);
    }
    if (res < 0 && res !== -constants.ECANCELED) {
      throw errnoError(res, "poll", `${where}: ${errnoName(res)}`);
    }
    return new Async(fd, transport, options.reactor);
  }

  /**
   * A non-blocking pipe: `[readEnd, writeEnd]`.
   *
   * @example
   * ```ts
   * import { Async } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * await w.write(new Uint8Array([1, 2, 3]));
   * console.log(await r.read(new Uint8Array(3))); // 3
   * r.close();
   * w.close();
   * ```
   */
  static pipe(options: FromOptions = {}): [Async, Async] {
    const fds = new Int32Array(2);
    const rc = lib().ario_pipe(fds);
    if (rc < 0) fail(rc, "pipe", "Cannot create pipe");
    return [
      new Async(fds[0], undefined, options.reactor),
      new Async(fds[1], undefined, options.reactor),
    ];
  }

  /** The descriptor (owned by this object until it is closed). */
  get fd(): number {
    return this.#fd;
  }

  /** Whether {@linkcode Async.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The reactor this object's ops go to. */
  get reactor(): Reactor {
    return this.#r;
  }

  /**
   * @internal This object's one submission entry, recycled by every op:
   * fill it with an encoder of sqe.ts and pass it to {@linkcode Async.run}
   * at once (the reactor reads it synchronously).
   */
  protected get entry(): RawOp {
    return this.#rop;
  }

  /**
   * @internal Runs the op `e` holds (see {@linkcode Async.entry}). Resolves
   * with the result; rejects with an errno error ("Cannot <what>: CODE
   * (op)"), `signal.reason` on abort, or BadResource once closed. `keep`
   * stays alive until C is done; `region` is C-owned memory the entry
   * points into, released then, and a read's bytes are copied from it into
   * `into` when it completes.
   */
  protected run(
    e: RawOp,
    call: IoCall,
    signal: AbortSignal | undefined,
    keep?: unknown,
    region?: IoRegion,
    into?: Uint8Array,
  ): Promise<number> {
    const { op: name, what } = call;
    if (this.#closed || signal?.aborted) {
      if (region) ioRelease(region);
      return Promise.reject(this.#closed ? closedError(what, name, false) : signal!.reason);
    }
    const len = e.len!, opFlags = e.opFlags!;
    e.ref = this.#ref;
    return new Promise<number>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const done = (res: number) => {
        this.#inflight--;
        if (onAbort) signal!.removeEventListener("abort", onAbort);
        if (region) {
          if (into && res > 0 && !this.#message()) this.#adapt(res, len);
          const lost = into && res > 0
            ? ioCopyOut(region, res, into, what, this.#lostTail(opFlags))
            : undefined;
          ioRelease(region);
          if (lost) {
            if (!(opFlags & constants.MSG_PEEK)) this.#stash.push({ bytes: lost.received });
            return reject(lost);
          }
        }
        // reads resolve null at end of stream (typed number here; read() says so)
        if (res >= 0) return resolve(res === 0 && call.eofNull ? null as unknown as number : res);
        if (res === -constants.ECANCELED) {
          if (signal?.aborted) return reject(signal.reason);
          if (this.#closed) return reject(closedError(what, name, true));
        }
        reject(errnoError(res, name, `Cannot ${what}`));
      };
      let id: number;
      try {
        id = this.#r.rawCallback(e, done, keep);
      } catch (e) {
        if (region) ioRelease(region);
        return reject(e);
      }
      this.#inflight++;
      if (signal) {
        onAbort = () => this.#r.cancel(id);
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  /**
   * Waits until the fd is ready for `events` (a mask of `POLL.IN`,
   * `POLL.OUT`, `POLL.PRI`); resolves with the ready mask, which may also
   * hold `POLL.ERR` or `POLL.HUP`. async-io's `readable()`/`writable()`.
   *
   * @example
   * ```ts ignore
   * import { POLL } from "@ario/ario";
   * const mask = await sock.ready(POLL.IN | POLL.PRI, { signal: AbortSignal.timeout(1000) });
   * ```
   */
  ready(events: number = POLL.IN, options?: SignalOptions): Promise<number> {
    if (!Number.isInteger(events) || events & ~0x1f || !(events & 0x7)) {
      return Promise.reject(
        new RangeError(
          `Cannot wait for readiness: events must combine POLL.IN, POLL.PRI and POLL.OUT, got ${events}`,
        ),
      );
    }
    return this.run(prepPoll(this.#rop, this.#fd, events), POLL_CALL, options?.signal);
  }

  /**
   * Waits until reading would not block (async-io's `readable()`).
   *
   * @example
   * ```ts ignore
   * await conn.waitReadable();
   * ```
   */
  waitReadable(options?: SignalOptions): Promise<number> {
    return this.ready(POLL.IN, options);
  }

  /**
   * Waits until writing would not block (async-io's `writable()`).
   *
   * @example
   * ```ts ignore
   * await conn.waitWritable();
   * ```
   */
  waitWritable(options?: SignalOptions): Promise<number> {
    return this.ready(POLL.OUT, options);
  }

  /**
   * Waits for priority data: TCP urgent (out-of-band) data, a pty's packet
   * mode status, exceptional conditions of device files.
   *
   * @example
   * ```ts ignore
   * await conn.waitPriority();
   * const n = await conn.read(buf, { flags: constants.MSG_OOB });
   * ```
   */
  waitPriority(options?: SignalOptions): Promise<number> {
    return this.ready(POLL.PRI, options);
  }

  /**
   * Runs `fn(fd)`, a non-blocking attempt that returns a value >= 0, or
   * `-EAGAIN` (or throws `Deno.errors.WouldBlock`) when it would block;
   * waits for readability and retries until it does not. Another negative
   * result rejects as an errno error. async-io's `read_with`.
   *
   * @example Read an eventfd with your own FFI `read`
   * ```ts ignore
   * const eight = new Uint8Array(8);
   * const n = await efd.readWith((fd) => {
   *   const r = Number(libc.read(fd, eight, 8n));
   *   return r < 0 ? -constants.EAGAIN : r;
   * });
   * ```
   */
  readWith(fn: (fd: number) => number, options?: SignalOptions): Promise<number> {
    return this.#with(fn, POLL.IN, "read", options);
  }

  /**
   * Like {@linkcode Async.readWith}, waiting for writability between
   * attempts. async-io's `write_with`.
   *
   * @example
   * ```ts ignore
   * await efd.writeWith((fd) => Number(libc.write(fd, one, 8n)) < 0 ? -constants.EAGAIN : 8);
   * ```
   */
  writeWith(fn: (fd: number) => number, options?: SignalOptions): Promise<number> {
    return this.#with(fn, POLL.OUT, "write", options);
  }

  async #with(
    fn: (fd: number) => number,
    events: number,
    what: string,
    options?: SignalOptions,
  ): Promise<number> {
    const eagain = -constants.EAGAIN;
    for (;;) {
      if (this.#closed) throw closedError(what, `${what}With`, false);
      options?.signal?.throwIfAborted();
      let r: number;
      try {
        r = fn(this.#fd);
      } catch (e) {
        if (!(e instanceof Deno.errors.WouldBlock)) throw e;
        r = eagain;
      }
      if (r !== eagain) {
        if (typeof r !== "number" || Number.isNaN(r)) {
          throw new TypeError(`Cannot ${what}: the callback must return a number, got ${r}`);
        }
        if (r < 0) throw errnoError(r, `${what}With`, `Cannot ${what}`);
        return r;
      }
      await this.ready(events, options);
    }
  }

  /**
   * Reads into `buf`; resolves with the byte count, or `null` at end of
   * stream (as `Deno.Conn.read`). Sockets use recv (with `flags`), other
   * fds read.
   *
   * C receives into memory of its own and the bytes are copied into `buf`
   * when they arrive, so nothing JS does to `buf` meanwhile can misdirect
   * them. If `buf` was detached, or shrank below what arrived, the read
   * rejects with a TypeError (a `BufferLostError`, `received` holds the
   * bytes) and the next read returns those bytes. A stream read takes at
   * most what recent reads needed (4 KiB at first, doubling while reads
   * fill it, up to 256 KiB), so an idle connection holds 4 KiB of C memory
   * whatever its buffer; a view of more than 4 KiB on a `SharedArrayBuffer`
   * is read into in place.
   *
   * @example
   * ```ts ignore
   * const buf = new Uint8Array(4096);
   * const n = await conn.read(buf);
   * if (n === null) console.log("peer closed");
   * ```
   */
  read(buf: Uint8Array, options?: IoOptions): Promise<number | null> {
    if (!(buf instanceof Uint8Array) || buf.length === 0) { // a detached view is empty too
      const bad = badBuffer(buf, "read");
      return bad ? Promise.reject(bad) : Promise.resolve(0);
    }
    const flags = this.#sock ? options?.flags ?? 0 : 0;
    if (this.#stash.length) return this.#readStash(buf, flags, options);
    // straight to the reactor: one promise per call, null at end of stream
    const signal = options?.signal;
    if (inPlace(buf)) {
      return this.run(this.#prepRead(buf, buf.length, flags), this.#readCall, signal, buf);
    }
    // a stream read may return less than asked: one op holds what recent reads needed
    // (at most IO_CHUNK) of C memory, not buf.length (a peek or a datagram gets it all)
    const n = this.#message() || flags & constants.MSG_PEEK
      ? buf.length
      : Math.min(buf.length, this.#hint);
    const region = ioAcquire(n);
    const e = this.#prepRead(region.addr, n, flags);
    return this.run(e, this.#readCall, signal, undefined, region, buf);
  }

  /** RECV on a socket, READ on anything else. */
  #prepRead(buf: Bytes | number, len: number, flags: number): RawOp {
    return this.#sock
      ? prepRecv(this.#rop, this.#fd, buf, len, flags)
      : prepRead(this.#rop, this.#fd, buf, len, OFF_CURRENT);
  }

  get #readCall(): IoCall {
    return this.#sock ? RECV_CALL : READ_CALL;
  }

  /** A stream read of `len` bytes returned `res`: size the next one. */
  #adapt(res: number, len: number): void {
    if (res >= len) {
      if (this.#hint < IO_CHUNK) this.#hint *= 2;
    } else if (res <= this.#hint >> 3 && this.#hint > READ_HINT_MIN) {
      this.#hint >>= 1;
    }
  }

  /** Whether reads and writes keep message boundaries (datagram sockets). */
  #message(): boolean {
    return this.transport === "udp" || this.transport === "unixpacket";
  }

  #lostTail(opFlags: number): string {
    return opFlags & constants.MSG_PEEK
      ? "are still queued on the socket"
      : "are kept: the next read returns them";
  }

  /** A read served from the stash, copied when it settles as a read from C would be. */
  async #readStash(buf: Uint8Array, flags: number, options?: IoOptions): Promise<number | null> {
    await undefined;
    if (this.#stash.length === 0) return this.read(buf, options); // another read took them
    const bad = badBuffer(buf, "read");
    if (bad) throw bad;
    return this.#fromStash(buf, flags);
  }

  /** Serves a read from the stash (a peek leaves it there); a datagram is cut to `buf`. */
  #fromStash(buf: Uint8Array, flags: number): number {
    const head = this.#stash[0];
    const n = Math.min(buf.length, head.bytes.length);
    buf.set(n === head.bytes.length ? head.bytes : head.bytes.subarray(0, n));
    if (!(flags & constants.MSG_PEEK)) {
      if (n < head.bytes.length && !this.#message()) head.bytes = head.bytes.subarray(n);
      else this.#stash.shift();
    }
    return n;
  }

  /** @internal Whether bytes of a read whose buffer went away wait here. */
  protected hasStash(): boolean {
    return this.#stash.length > 0;
  }

  /** @internal The next stashed datagram and its sender (see recvFrom). */
  protected takeStash(buf: Uint8Array, flags: number): { n: number; addr?: Addr } | undefined {
    if (this.#stash.length === 0) return undefined;
    const addr = this.#stash[0].addr;
    return { n: this.#fromStash(buf, flags), addr };
  }

  /** @internal Records the sender of a stashed datagram. */
  protected stashSender(received: Uint8Array, addr: Addr): void {
    const e = this.#stash.find((s) => s.bytes === received);
    if (e) e.addr = addr;
  }

  /**
   * Writes some of `buf`; resolves with how many bytes went (maybe fewer
   * than `buf.length`: see {@linkcode Async.writeAll}). What is sent is what
   * `buf` held at this call (it is copied to C-owned memory; at most 256 KiB
   * per call on a stream), so `buf` may be reused or detached at once.
   *
   * @example
   * ```ts ignore
   * const n = await conn.write(new TextEncoder().encode("hello"));
   * ```
   */
  write(buf: Uint8Array, options?: IoOptions): Promise<number> {
    if (!(buf instanceof Uint8Array) || buf.length === 0) { // a detached view is empty too
      const bad = badBuffer(buf, "write");
      if (bad) return Promise.reject(bad);
    }
    const flags = this.#sock ? options?.flags ?? 0 : 0;
    const call = this.#sock ? SEND_CALL : WRITE_CALL;
    const signal = options?.signal;
    if (inPlace(buf)) return this.run(this.#prepWrite(buf, buf.length, flags), call, signal, buf);
    // copied now: the write sends what `buf` holds at this call, whatever happens to it next
    const n = this.#message() ? buf.length : Math.min(buf.length, IO_CHUNK);
    const region = ioCopyIn(buf, n);
    return this.run(this.#prepWrite(region.addr, n, flags), call, signal, undefined, region);
  }

  /** SEND on a socket, WRITE on anything else. */
  #prepWrite(buf: Bytes | number, len: number, flags: number): RawOp {
    return this.#sock
      ? prepSend(this.#rop, this.#fd, buf, len, flags)
      : prepWrite(this.#rop, this.#fd, buf, len, OFF_CURRENT);
  }

  /**
   * Writes all of `buf`, waiting as needed.
   *
   * @example
   * ```ts ignore
   * await conn.writeAll(new TextEncoder().encode("HTTP/1.1 200 OK\r\n\r\n"));
   * ```
   */
  async writeAll(buf: Uint8Array, options?: IoOptions): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      off += await this.write(off === 0 ? buf : buf.subarray(off), options);
    }
  }

  /**
   * Sets a socket option that has no helper; `value` is an int (booleans
   * as 0/1) or the option's raw bytes. Throws an errno error.
   *
   * @example
   * ```ts ignore
   * import { constants } from "@ario/ario";
   * sock.setOption(constants.SOL_SOCKET, constants.SO_RCVBUF, 1 << 20);
   * ```
   */
  setOption(level: number, name: number, value: number | boolean | Uint8Array): void {
    this.#open("set socket option", "setsockopt");
    if (level === undefined || name === undefined) {
      throw new TypeError(
        "Cannot set socket option: level and name must be numbers (this platform may lack the constant)",
      );
    }
    const rc = value instanceof Uint8Array
      ? lib().ario_setsockopt(this.#fd, level, name, value, value.length)
      : setInt(this.#fd, level, name, typeof value === "boolean" ? (value ? 1 : 0) : value);
    if (rc < 0) fail(rc, "setsockopt", `Cannot set socket option ${level}/${name}`);
  }

  /**
   * Reads an int socket option.
   *
   * @example
   * ```ts ignore
   * import { constants } from "@ario/ario";
   * const size = sock.getOption(constants.SOL_SOCKET, constants.SO_RCVBUF);
   * ```
   */
  getOption(level: number, name: number): number {
    this.#open("get socket option", "getsockopt");
    if (level === undefined || name === undefined) {
      throw new TypeError(
        "Cannot get socket option: level and name must be numbers (this platform may lack the constant)",
      );
    }
    intBuf[0] = 0;
    lenBuf[0] = 4;
    const rc = lib().ario_getsockopt(this.#fd, level, name, intBytes, lenBuf);
    if (rc < 0) fail(rc, "getsockopt", `Cannot get socket option ${level}/${name}`);
    return lenBuf[0] === 1 ? intBytes[0] : intBuf[0];
  }

  /**
   * Reads a socket option's raw bytes (at most `capacity`).
   *
   * @example
   * ```ts ignore
   * import { constants } from "@ario/ario";
   * const cc = new TextDecoder().decode(sock.getOptionBytes(constants.IPPROTO_TCP, constants.TCP_CONGESTION, 16));
   * ```
   */
  getOptionBytes(level: number, name: number, capacity = 64): Uint8Array {
    this.#open("get socket option", "getsockopt");
    const out = new Uint8Array(capacity);
    const len = new Uint32Array([capacity]);
    const rc = lib().ario_getsockopt(this.#fd, level, name, out, len);
    if (rc < 0) fail(rc, "getsockopt", `Cannot get socket option ${level}/${name}`);
    return out.subarray(0, len[0]);
  }

  #open(what: string, op: string): void {
    if (this.#closed) throw closedError(what, op, false);
  }

  /** @internal Throws BadResource when closed. */
  protected checkOpen(what: string, op: string): void {
    this.#open(what, op);
  }

  /**
   * Makes ops started from now on keep the process alive (the default).
   *
   * @example
   * ```ts ignore
   * conn.ref();
   * ```
   */
  ref(): void {
    this.#ref = true;
  }

  /**
   * Makes ops started from now on not keep the process alive (a
   * background listener, say).
   *
   * @example
   * ```ts ignore
   * listener.unref();
   * ```
   */
  unref(): void {
    this.#ref = false;
  }

  /**
   * The read side as a byte stream (BYOB readers work). Ends at end of
   * stream; cancelling it shuts down reading.
   *
   * @example
   * ```ts ignore
   * for await (const chunk of conn.readable) console.log(chunk.length);
   * ```
   */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    // a byte stream's chunks are views of ordinary ArrayBuffers (Deno.Conn's type)
    return this.#readable ??= new ReadableStream({
      type: "bytes",
      autoAllocateChunkSize: MAX_CHUNK,
      pull: async (c) => {
        const req = c.byobRequest!;
        const v = req.view!;
        try {
          const n = await this.read(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
          if (n === null) {
            c.close();
            req.respond(0);
            this.#endRead();
          } else {
            req.respond(n);
          }
        } catch (e) {
          c.error(e);
          this.#endRead();
        }
      },
      cancel: () => {
        if (this.#sock && !this.#closed) this.shutdownRaw(0);
        this.#endRead();
      },
    }) as ReadableStream<Uint8Array<ArrayBuffer>>;
  }

  /**
   * The write side as a stream with backpressure: each chunk is written in
   * full before the next is taken. Closing it shuts down writing (a pipe or
   * tty: closes the fd); aborting it closes the fd.
   *
   * @example
   * ```ts ignore
   * await ReadableStream.from(["a", "b"]).pipeThrough(new TextEncoderStream()).pipeTo(conn.writable);
   * ```
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk, c) => this.writeAll(chunk, { signal: c.signal }),
      close: () => {
        if (this.#sock) {
          if (!this.#closed) this.shutdownRaw(1);
          this.#endWrite();
        } else {
          this.close();
        }
      },
      abort: () => this.close(),
    });
  }

  /** @internal shutdown(2) through the reactor, errors ignored. */
  protected shutdownRaw(how: number): void {
    this.run(prepShutdown(this.#rop, this.#fd, how), SHUTDOWN_CALL, undefined).catch(noop);
  }

  #endRead(): void {
    this.#readDone = true;
    if (this.#writeDone || !this.#sock) this.#autoClose();
  }

  #endWrite(): void {
    this.#writeDone = true;
    if (this.#readDone) this.#autoClose();
  }

  #autoClose(): void {
    // give a pending shutdown its turn before the fd goes
    queueMicrotask(() => this.close());
  }

  /**
   * Closes the fd. Ops still waiting on it reject with
   * `Deno.errors.BadResource` (code ECANCELED); later calls reject with
   * BadResource (EBADF). Safe to call twice.
   *
   * @example
   * ```ts ignore
   * conn.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const r = this.#r;
    if (r.closed) {
      closeRaw(this.#fd, r);
      this.#closing = Promise.resolve();
    } else if (this.#inflight === 0) {
      r.closeFd(this.#fd);
      this.#closing = Promise.resolve();
    } else {
      // ops may still be staged in JS: close in order behind them, through
      // the loop, so they complete ECANCELED and the fd number is not
      // reused under them
      this.#closing = new Promise((resolve) => {
        const e = prepClose(this.#rop, this.#fd);
        e.ref = true;
        try {
          r.rawCallback(e, () => resolve());
        } catch {
          closeRaw(this.#fd, r);
          resolve();
        }
      });
    }
  }

  /**
   * Closes the fd (as {@linkcode Async.close}) and waits until it is.
   *
   * @example
   * ```ts ignore
   * await using conn = await TcpStream.connect({ port: 8080 });
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return this.#closing!;
  }

  /**
   * Closes the fd (as {@linkcode Async.close}), for `using`.
   *
   * @example
   * ```ts ignore
   * using sock = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * What stream sockets share (TCP and Unix): addresses and shutdown.
 *
 * @example
 * ```ts ignore
 * const s: StreamSocket = await TcpStream.connect({ port: 8080 });
 * await s.shutdown("write");
 * ```
 */
export class StreamSocket extends Async {
  /**
   * Shuts down reading, writing or both (the peer sees end of stream after
   * "write").
   *
   * @example
   * ```ts ignore
   * await conn.shutdown("write");
   * ```
   */
  async shutdown(how: "read" | "write" | "both" = "both", options?: SignalOptions): Promise<void> {
    const n = { read: 0, write: 1, both: 2 }[how];
    if (n === undefined) {
      throw new TypeError(`Cannot shut down "${how}": expected "read", "write" or "both"`);
    }
    await this.run(prepShutdown(this.entry, this.fd, n), SHUTDOWN_CALL, options?.signal);
  }

  /**
   * Shuts down writing (as `Deno.Conn.closeWrite`).
   *
   * @example
   * ```ts ignore
   * await conn.closeWrite();
   * ```
   */
  closeWrite(): Promise<void> {
    this.#remember();
    return this.shutdown("write");
  }

  /** Closes the fd (as {@linkcode Async.close}); the addresses keep answering, as Deno's do. */
  override close(): void {
    if (!this.closed) this.#remember();
    super.close();
  }

  /**
   * Peeks at incoming bytes without consuming them; `null` at end of stream.
   *
   * @example
   * ```ts ignore
   * const n = await conn.peek(new Uint8Array(4));
   * ```
   */
  async peek(buf: Uint8Array, options?: SignalOptions): Promise<number | null> {
    return await this.read(buf, { signal: options?.signal, flags: constants.MSG_PEEK });
  }

  #local?: Addr;
  #remote?: Addr;

  /** Keeps the addresses for after the connection ends (getpeername fails then). */
  #remember(): void {
    try {
      this.#local ??= sockName(this.fd, false, this.transport!);
      this.#remote ??= sockName(this.fd, true, this.transport!);
    } catch { /* not connected: the getters say why */ }
  }

  /** The local address (still known after close, as `Deno.Conn`'s). */
  get localAddr(): Addr {
    if (this.#local) return this.#local;
    this.checkOpen("get local address", "getsockname");
    return this.#local = sockName(this.fd, false, this.transport!);
  }

  /** The peer's address (still known after closeWrite and close, as `Deno.Conn`'s). */
  get remoteAddr(): Addr {
    if (this.#remote) return this.#remote;
    this.checkOpen("get peer address", "getpeername");
    return this.#remote = sockName(this.fd, true, this.transport!);
  }
}

/**
 * A TCP connection: async-io's `Async<TcpStream>`, shaped like `Deno.TcpConn`.
 *
 * @example
 * ```ts ignore
 * import { TcpStream } from "@ario/ario";
 * await using conn = await TcpStream.connect({ hostname: "127.0.0.1", port: 8080 }, { timeout: 1000 });
 * conn.setNoDelay(true);
 * await conn.writeAll(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 * ```
 */
export class TcpStream extends StreamSocket {
  /**
   * Wraps a connected TCP socket fd (taking ownership).
   *
   * @example
   * ```ts ignore
   * const conn = new TcpStream(fd);
   * ```
   */
  constructor(fd: number, reactor?: Reactor) {
    super(fd, "tcp", reactor);
  }

  /**
   * Connects to `addr`, optionally within `timeout` ms and cancellable
   * with `signal`. Rejects with `Deno.errors.ConnectionRefused`,
   * `Deno.errors.TimedOut` (code ETIMEDOUT) and so on: "Cannot connect to
   * 127.0.0.1:9: ECONNREFUSED (connect)".
   *
   * @example
   * ```ts ignore
   * const conn = await TcpStream.connect({ hostname: "::1", port: 443 }, { timeout: 500 });
   * ```
   */
  static async connect(addr: TcpAddr, options: ConnectOptions = {}): Promise<TcpStream> {
    const start = performance.now();
    const candidates = await ipsOf(addr, options);
    let last: unknown;
    for (const ip of candidates) { // each address in turn, within the one timeout
      const spent = performance.now() - start; // resolving and earlier candidates
      const timeout = options.timeout === undefined || spent < 1
        ? options.timeout
        : Math.max(0, Math.round(options.timeout - spent));
      try {
        const fd = await connectSocket(ip, constants.SOCK_STREAM, { ...options, timeout });
        return new TcpStream(fd, options.reactor);
      } catch (e) {
        if (options.signal?.aborted || (e as IoError).code === "ETIMEDOUT") throw e;
        last = e;
      }
    }
    throw last;
  }

  /** The local address. */
  override get localAddr(): Deno.NetAddr {
    return super.localAddr as Deno.NetAddr;
  }

  /** The peer's address. */
  override get remoteAddr(): Deno.NetAddr {
    return super.remoteAddr as Deno.NetAddr;
  }

  /**
   * Sets TCP_NODELAY (disables Nagle's algorithm).
   *
   * @example
   * ```ts ignore
   * conn.setNoDelay(true);
   * ```
   */
  setNoDelay(on = true): void {
    this.setOption(constants.IPPROTO_TCP, constants.TCP_NODELAY, on);
  }

  /** Whether TCP_NODELAY is set. */
  get noDelay(): boolean {
    return this.getOption(constants.IPPROTO_TCP, constants.TCP_NODELAY) !== 0;
  }

  /**
   * Turns keepalive on or off (SO_KEEPALIVE), optionally with its timing.
   *
   * @example
   * ```ts ignore
   * conn.setKeepAlive({ idle: 60, interval: 10, count: 5 });
   * ```
   */
  setKeepAlive(on: boolean | KeepAliveOptions = true): void {
    this.setOption(constants.SOL_SOCKET, constants.SO_KEEPALIVE, on !== false);
    if (typeof on !== "object") return;
    const tcp = constants.IPPROTO_TCP;
    const idleName = constants.TCP_KEEPIDLE ?? constants.TCP_KEEPALIVE; // macOS calls it TCP_KEEPALIVE
    if (on.idle !== undefined) this.setOption(tcp, idleName, on.idle);
    if (on.interval !== undefined) this.setOption(tcp, constants.TCP_KEEPINTVL, on.interval);
    if (on.count !== undefined) this.setOption(tcp, constants.TCP_KEEPCNT, on.count);
  }

  /** Keepalive state and timing (seconds) as the kernel has it. */
  get keepAlive(): { enabled: boolean } & Required<KeepAliveOptions> {
    const tcp = constants.IPPROTO_TCP;
    return {
      enabled: this.getOption(constants.SOL_SOCKET, constants.SO_KEEPALIVE) !== 0,
      idle: this.getOption(tcp, constants.TCP_KEEPIDLE ?? constants.TCP_KEEPALIVE),
      interval: this.getOption(tcp, constants.TCP_KEEPINTVL),
      count: this.getOption(tcp, constants.TCP_KEEPCNT),
    };
  }

  /**
   * Sets the IP time-to-live (IPv4) or hop limit (IPv6) of outgoing packets.
   *
   * @example
   * ```ts ignore
   * conn.setTtl(64);
   * ```
   */
  setTtl(ttl: number): void {
    setTtl(this, ttl);
  }

  /** The IP time-to-live / hop limit. */
  get ttl(): number {
    return getTtl(this);
  }
}

function isV6(a: Async): boolean {
  lenBuf[0] = SOCKADDR_MAX;
  if (lib().ario_getsockname(a.fd, saBuf, lenBuf) < 0) return false;
  const fam = new Uint16Array(saBuf.buffer, 0, 1)[0];
  // BSDs put sa_len first and the family in the second byte
  return fam === constants.AF_INET6 || saBuf[1] === constants.AF_INET6;
}

function setTtl(a: Async, ttl: number): void {
  if (isV6(a)) a.setOption(constants.IPPROTO_IPV6, constants.IPV6_UNICAST_HOPS, ttl);
  else a.setOption(constants.IPPROTO_IP, constants.IP_TTL, ttl);
}

function getTtl(a: Async): number {
  return isV6(a)
    ? a.getOption(constants.IPPROTO_IPV6, constants.IPV6_UNICAST_HOPS)
    : a.getOption(constants.IPPROTO_IP, constants.IP_TTL);
}

/**
 * A listening socket's shared part: accept and the `incoming()` iterator.
 */
export abstract class Listener<S extends StreamSocket> extends Async implements AsyncIterable<S> {
  /** Wraps an accepted fd. */
  protected abstract wrap(fd: number): S;

  /**
   * Accepts one connection.
   *
   * @example
   * ```ts ignore
   * const conn = await listener.accept({ signal: AbortSignal.timeout(5000) });
   * ```
   */
  async accept(options?: SignalOptions): Promise<S> {
    const fd = await this.run(prepAccept(this.entry, this.fd), ACCEPT_CALL, options?.signal);
    return this.wrap(fd);
  }

  /**
   * Connections as they come, until the listener is closed (then the
   * iteration ends). Transient errors (ECONNABORTED) are skipped.
   *
   * @example
   * ```ts ignore
   * for await (const conn of listener.incoming()) handle(conn);
   * ```
   */
  async *incoming(options?: SignalOptions): AsyncGenerator<S, void, undefined> {
    for (;;) {
      let conn: S;
      try {
        conn = await this.accept(options);
      } catch (e) {
        if (this.closed) return;
        if ((e as IoError).code === "ECONNABORTED") continue;
        throw e;
      }
      yield conn;
    }
  }

  /**
   * Same as {@linkcode Listener.incoming}: `for await (const conn of listener)`.
   *
   * @example
   * ```ts ignore
   * for await (const conn of listener) handle(conn);
   * ```
   */
  [Symbol.asyncIterator](): AsyncGenerator<S, void, undefined> {
    return this.incoming();
  }
}

/** A bound, listening stream socket's fd (closed again if listen fails). */
function listening(addr: SockAddr, reuseAddrByDefault: boolean, options: ListenOptions): number {
  const fd = boundSocket(addr, constants.SOCK_STREAM, options, reuseAddrByDefault, "listen on");
  const rc = lib().ario_listen(fd, options.backlog ?? 511);
  if (rc < 0) {
    closeRaw(fd, options.reactor);
    fail(rc, "listen", `Cannot listen on ${fmt(addr)}`);
  }
  return fd;
}

/**
 * A TCP listener: async-io's `Async<TcpListener>`, shaped like
 * `Deno.TcpListener` (`accept()`, `for await`, `addr`).
 *
 * @example
 * ```ts ignore
 * import { TcpListener } from "@ario/ario";
 * const listener = TcpListener.bind({ hostname: "127.0.0.1", port: 8080 }, { backlog: 1024 });
 * for await (const conn of listener) conn.readable.pipeTo(conn.writable);
 * ```
 */
export class TcpListener extends Listener<TcpStream> {
  /**
   * Wraps a listening TCP socket fd (taking ownership).
   *
   * @example
   * ```ts ignore
   * const l = new TcpListener(fd);
   * ```
   */
  constructor(fd: number, reactor?: Reactor) {
    super(fd, "tcp", reactor);
  }

  /**
   * Binds and listens. SO_REUSEADDR is on unless `reuseAddr: false`;
   * port 0 picks a free port (see {@linkcode TcpListener.localAddr}).
   *
   * @example
   * ```ts
   * import { TcpListener } from "@ario/ario";
   * using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * console.log(l.localAddr.port > 0); // true
   * ```
   */
  static override bind(addr: TcpAddr, options: ListenOptions = {}): TcpListener {
    return new TcpListener(listening(bindIpOf(addr), true, options), options.reactor);
  }

  /** Wraps an accepted fd. */
  protected wrap(fd: number): TcpStream {
    return new TcpStream(fd, this.reactor);
  }

  /** The bound address. */
  get localAddr(): Deno.NetAddr {
    this.checkOpen("get local address", "getsockname");
    return sockName(this.fd, false, "tcp") as Deno.NetAddr;
  }

  /** Same as {@linkcode TcpListener.localAddr} (`Deno.Listener.addr`). */
  get addr(): Deno.NetAddr {
    return this.localAddr;
  }
}

/**
 * What datagram sockets share (UDP and Unix datagram): receiving with the
 * sender's address, and connected send/recv.
 *
 * @example
 * ```ts ignore
 * const s: DatagramSocket = UdpSocket.bind({ port: 0 });
 * const { n, addr } = await s.recvFrom(new Uint8Array(1500));
 * ```
 */
export class DatagramSocket extends Async {
  /** @internal sendto(2) through the reactor. */
  protected async sendToAddr(buf: Uint8Array, to: SockAddr, options?: IoOptions): Promise<number> {
    const what = `send to ${fmt(to)}`;
    const bad = badBuffer(buf, what);
    if (bad) throw bad;
    const to8 = encodeAddr(to);
    // both copied now, to C-owned memory (a readiness backend reads them when the fd is ready)
    const sa = ioCopyIn(to8);
    try {
      const data = inPlace(buf) ? undefined : ioCopyIn(buf);
      const e = prepSendTo(
        this.entry,
        this.fd,
        data ? data.addr : buf,
        buf.length,
        options?.flags ?? 0,
        sa.addr,
        to8.length,
      );
      return await this.run(
        e,
        { op: "sendto", what },
        options?.signal,
        data ? undefined : buf,
        data,
      );
    } finally {
      ioRelease(sa);
    }
  }

  /** @internal connect(2) through the reactor. */
  protected async connectAddr(to: SockAddr, options?: SignalOptions): Promise<void> {
    const to8 = encodeAddr(to);
    const sa = ioCopyIn(to8);
    const e = prepConnect(this.entry, this.fd, sa.addr, to8.length);
    await this.run(
      e,
      { op: "connect", what: `connect to ${fmt(to)}` },
      options?.signal,
      undefined,
      sa,
    );
  }

  /**
   * Receives one datagram and its sender (async-io's `recv_from`); `n` is
   * the datagram's length, cut to `buf.length`. The datagram lands in
   * C-owned memory and is copied into `buf` (see {@linkcode Async.read}):
   * if `buf` was detached or shrank meanwhile, this rejects with a
   * TypeError holding `received` and `addr`, and the next receive returns
   * that datagram.
   *
   * @example
   * ```ts ignore
   * const { n, addr } = await u.recvFrom(buf, { signal: AbortSignal.timeout(1000) });
   * ```
   */
  async recvFrom(buf: Uint8Array, options?: IoOptions): Promise<Received> {
    const bad = badBuffer(buf, "receive");
    if (bad) throw bad;
    const flags = options?.flags ?? 0;
    if (this.hasStash()) {
      await undefined; // copied when it settles, as a datagram from C would be
      const bad = badBuffer(buf, "receive");
      if (bad) throw bad;
      const stashed = this.takeStash(buf, flags);
      if (stashed) return { n: stashed.n, addr: stashed.addr ?? this.#peer() };
    }
    // the sender's sockaddr and its length word: the kernel writes both
    const sa = ioAcquire(SOCKADDR_MAX + 4);
    setU32(sa.view, SOCKADDR_MAX, SOCKADDR_MAX);
    const decode = (): Addr => {
      const len = getU32(sa.view, SOCKADDR_MAX);
      return len <= 2 && this.transport === "unixpacket"
        ? { transport: "unixpacket", path: "" }
        : decodeAddr(sa.view, len, this.transport as "udp" | "unixpacket");
    };
    try {
      const data = inPlace(buf) ? undefined : ioAcquire(buf.length);
      let n: number;
      try {
        const e = prepRecvFrom(
          this.entry,
          this.fd,
          data ? data.addr : buf,
          buf.length,
          flags,
          sa.addr,
          sa.addr + SOCKADDR_MAX,
        );
        n = await this.run(e, RECVFROM_CALL, options?.signal, data ? undefined : buf, data, buf);
      } catch (e) {
        const lost = e as BufferLostError & { addr?: Addr };
        if (lost instanceof TypeError && lost.received) {
          lost.addr = decode();
          if (!(flags & constants.MSG_PEEK)) this.stashSender(lost.received, lost.addr);
        }
        throw e;
      }
      return { n, addr: decode() };
    } finally {
      ioRelease(sa);
    }
  }

  #peer(): Addr {
    try {
      return sockName(this.fd, true, this.transport!);
    } catch {
      return this.transport === "udp"
        ? { transport: "udp", hostname: "0.0.0.0", port: 0 }
        : { transport: "unixpacket", path: "" };
    }
  }

  /**
   * Like {@linkcode DatagramSocket.recvFrom} without consuming the datagram.
   *
   * @example
   * ```ts ignore
   * const { n } = await u.peekFrom(buf);
   * ```
   */
  peekFrom(buf: Uint8Array, options?: SignalOptions): Promise<Received> {
    return this.recvFrom(buf, { signal: options?.signal, flags: constants.MSG_PEEK });
  }

  /**
   * Sends a datagram to the connected peer.
   *
   * @example
   * ```ts ignore
   * await u.send(new Uint8Array([1]));
   * ```
   */
  send(buf: Uint8Array, options?: IoOptions): Promise<number> {
    return this.write(buf, options);
  }

  /**
   * Receives a datagram from the connected peer; resolves with its length
   * (0 for an empty datagram).
   *
   * @example
   * ```ts ignore
   * const n = await u.recv(buf);
   * ```
   */
  async recv(buf: Uint8Array, options?: IoOptions): Promise<number> {
    return (await this.read(buf, options)) ?? 0;
  }

  /**
   * Peeks at the next datagram from the connected peer.
   *
   * @example
   * ```ts ignore
   * const n = await u.peek(buf);
   * ```
   */
  peek(buf: Uint8Array, options?: SignalOptions): Promise<number> {
    return this.recv(buf, { signal: options?.signal, flags: constants.MSG_PEEK });
  }
}

/**
 * A UDP socket: async-io's `Async<UdpSocket>`.
 *
 * @example
 * ```ts
 * import { UdpSocket } from "@ario/ario";
 * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
 * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
 * await a.sendTo(new TextEncoder().encode("hi"), b.localAddr);
 * const { n, addr } = await b.recvFrom(new Uint8Array(16));
 * console.log(n, addr.transport); // 2 "udp"
 * ```
 */
export class UdpSocket extends DatagramSocket {
  /**
   * Wraps a UDP socket fd (taking ownership).
   *
   * @example
   * ```ts ignore
   * const u = new UdpSocket(fd);
   * ```
   */
  constructor(fd: number, reactor?: Reactor) {
    super(fd, "udp", reactor);
  }

  /**
   * Binds a UDP socket (port 0: any free port).
   *
   * @example
   * ```ts ignore
   * const u = UdpSocket.bind({ hostname: "0.0.0.0", port: 5353 }, { reuseAddr: true, reusePort: true });
   * ```
   */
  static override bind(addr: TcpAddr, options: BindOptions = {}): UdpSocket {
    const fd = boundSocket(
      bindIpOf(addr),
      constants.SOCK_DGRAM,
      options,
      false,
      "bind UDP socket to",
    );
    return new UdpSocket(fd, options.reactor);
  }

  /**
   * Sends one datagram to `to`; resolves with the bytes sent.
   *
   * @example
   * ```ts ignore
   * await u.sendTo(data, { hostname: "127.0.0.1", port: 9000 });
   * ```
   */
  sendTo(buf: Uint8Array, to: TcpAddr, options?: IoOptions): Promise<number> {
    const ip = ipOf(to);
    if (typeof ip.hostname !== "string" || isNumericHost(ip.hostname)) {
      return this.sendToAddr(buf, ip, options);
    }
    return ipsOf(to, options).then((ips) => this.sendToAddr(buf, ips[0], options));
  }

  /**
   * Sets the default peer: `send`/`recv` then use it, and datagrams from
   * others are dropped.
   *
   * @example
   * ```ts ignore
   * await u.connect({ hostname: "127.0.0.1", port: 9000 });
   * await u.send(data);
   * ```
   */
  connect(addr: TcpAddr, options?: SignalOptions): Promise<void> {
    return ipsOf(addr, options).then((ips) => this.connectAddr(ips[0], options));
  }

  /** The bound address. */
  get localAddr(): Deno.NetAddr {
    this.checkOpen("get local address", "getsockname");
    return sockName(this.fd, false, "udp") as Deno.NetAddr;
  }

  /** The connected peer's address. */
  get remoteAddr(): Deno.NetAddr {
    this.checkOpen("get peer address", "getpeername");
    return sockName(this.fd, true, "udp") as Deno.NetAddr;
  }

  /**
   * Allows sending to broadcast addresses (SO_BROADCAST).
   *
   * @example
   * ```ts ignore
   * u.setBroadcast(true);
   * ```
   */
  setBroadcast(on: boolean): void {
    this.setOption(constants.SOL_SOCKET, constants.SO_BROADCAST, on);
  }

  /** Whether SO_BROADCAST is set. */
  get broadcast(): boolean {
    return this.getOption(constants.SOL_SOCKET, constants.SO_BROADCAST) !== 0;
  }

  /**
   * Sets the unicast time-to-live (IPv4) or hop limit (IPv6).
   *
   * @example
   * ```ts ignore
   * u.setTtl(8);
   * ```
   */
  setTtl(ttl: number): void {
    setTtl(this, ttl);
  }

  /** The unicast time-to-live / hop limit. */
  get ttl(): number {
    return getTtl(this);
  }

  /**
   * Joins an IPv4 multicast group on the interface with address `iface`
   * (default any).
   *
   * @example
   * ```ts ignore
   * u.joinMulticastV4("239.1.2.3", "127.0.0.1");
   * ```
   */
  joinMulticastV4(group: string, iface = "0.0.0.0"): void {
    this.#mreq4(group, iface, constants.IP_ADD_MEMBERSHIP, "join");
  }

  /**
   * Leaves an IPv4 multicast group.
   *
   * @example
   * ```ts ignore
   * u.leaveMulticastV4("239.1.2.3", "127.0.0.1");
   * ```
   */
  leaveMulticastV4(group: string, iface = "0.0.0.0"): void {
    this.#mreq4(group, iface, constants.IP_DROP_MEMBERSHIP, "leave");
  }

  #mreq4(group: string, iface: string, name: number, verb: string): void {
    const what = `${verb} multicast group ${group}`;
    const m = new Uint8Array(8);
    m.set(ipBytes(group, false, what), 0);
    m.set(ipBytes(iface, false, what), 4);
    this.checkOpen(what, "setsockopt");
    const rc = lib().ario_setsockopt(this.fd, constants.IPPROTO_IP, name, m, 8);
    if (rc < 0) fail(rc, "setsockopt", `Cannot ${what}`);
  }

  /**
   * Joins an IPv6 multicast group on interface index `ifIndex` (0: the
   * system's choice).
   *
   * @example
   * ```ts ignore
   * u.joinMulticastV6("ff02::1:3", 1);
   * ```
   */
  joinMulticastV6(group: string, ifIndex = 0): void {
    this.#mreq6(group, ifIndex, constants.IPV6_JOIN_GROUP ?? constants.IPV6_ADD_MEMBERSHIP, "join");
  }

  /**
   * Leaves an IPv6 multicast group.
   *
   * @example
   * ```ts ignore
   * u.leaveMulticastV6("ff02::1:3", 1);
   * ```
   */
  leaveMulticastV6(group: string, ifIndex = 0): void {
    this.#mreq6(
      group,
      ifIndex,
      constants.IPV6_LEAVE_GROUP ?? constants.IPV6_DROP_MEMBERSHIP,
      "leave",
    );
  }

  #mreq6(group: string, ifIndex: number, name: number, verb: string): void {
    const what = `${verb} multicast group ${group}`;
    const m = new Uint8Array(20);
    m.set(ipBytes(group, true, what), 0);
    new Uint32Array(m.buffer, 16, 1)[0] = ifIndex; // host byte order
    this.checkOpen(what, "setsockopt");
    const rc = lib().ario_setsockopt(this.fd, constants.IPPROTO_IPV6, name, m, 20);
    if (rc < 0) fail(rc, "setsockopt", `Cannot ${what}`);
  }

  /**
   * Whether IPv4 multicast sent here loops back to local listeners.
   *
   * @example
   * ```ts ignore
   * u.setMulticastLoopV4(true);
   * ```
   */
  setMulticastLoopV4(on: boolean): void {
    this.setOption(constants.IPPROTO_IP, constants.IP_MULTICAST_LOOP, on);
  }

  /**
   * Time-to-live of IPv4 multicast sent here.
   *
   * @example
   * ```ts ignore
   * u.setMulticastTtlV4(4);
   * ```
   */
  setMulticastTtlV4(ttl: number): void {
    this.setOption(constants.IPPROTO_IP, constants.IP_MULTICAST_TTL, ttl);
  }

  /**
   * Outgoing interface of IPv4 multicast, by its address.
   *
   * @example
   * ```ts ignore
   * u.setMulticastInterfaceV4("127.0.0.1");
   * ```
   */
  setMulticastInterfaceV4(iface: string): void {
    this.setOption(
      constants.IPPROTO_IP,
      constants.IP_MULTICAST_IF,
      ipBytes(iface, false, "set multicast interface"),
    );
  }

  /**
   * Whether IPv6 multicast sent here loops back to local listeners.
   *
   * @example
   * ```ts ignore
   * u.setMulticastLoopV6(true);
   * ```
   */
  setMulticastLoopV6(on: boolean): void {
    this.setOption(constants.IPPROTO_IPV6, constants.IPV6_MULTICAST_LOOP, on);
  }

  /**
   * Outgoing interface of IPv6 multicast, by index.
   *
   * @example
   * ```ts ignore
   * u.setMulticastInterfaceV6(1);
   * ```
   */
  setMulticastInterfaceV6(ifIndex: number): void {
    this.setOption(constants.IPPROTO_IPV6, constants.IPV6_MULTICAST_IF, ifIndex);
  }
}

/** A Unix socket address: a path, or (Linux) an abstract name starting with "\0". */
export type UnixPath = string | { path: string };

function socketPair(type: number, what: string): [number, number] {
  const fds = new Int32Array(2);
  const rc = lib().ario_socketpair(constants.AF_UNIX, type, 0, fds);
  if (rc < 0) fail(rc, "socketpair", `Cannot create ${what} pair`);
  return [fds[0], fds[1]];
}

/**
 * A Unix stream connection: async-io's `Async<UnixStream>`.
 *
 * @example A connected pair, as socketpair(2) makes
 * ```ts
 * import { UnixStream } from "@ario/ario";
 * const [a, b] = UnixStream.pair();
 * await a.write(new TextEncoder().encode("hi"));
 * console.log(await b.read(new Uint8Array(2))); // 2
 * a.close();
 * b.close();
 * ```
 */
export class UnixStream extends StreamSocket {
  /**
   * Wraps a connected Unix stream socket fd (taking ownership).
   *
   * @example
   * ```ts ignore
   * const s = new UnixStream(fd);
   * ```
   */
  constructor(fd: number, reactor?: Reactor) {
    super(fd, "unix", reactor);
  }

  /**
   * Connects to a socket path (or "\0name": Linux abstract namespace).
   *
   * @example
   * ```ts ignore
   * const s = await UnixStream.connect("/run/app.sock", { timeout: 1000 });
   * ```
   */
  static async connect(path: UnixPath, options: ConnectOptions = {}): Promise<UnixStream> {
    const fd = await connectSocket(unixOf(path), constants.SOCK_STREAM, options);
    return new UnixStream(fd, options.reactor);
  }

  /**
   * Two connected streams (socketpair(2)).
   *
   * @example
   * ```ts ignore
   * const [a, b] = UnixStream.pair();
   * ```
   */
  static pair(options: FromOptions = {}): [UnixStream, UnixStream] {
    const [a, b] = socketPair(constants.SOCK_STREAM, "Unix stream");
    return [new UnixStream(a, options.reactor), new UnixStream(b, options.reactor)];
  }

  /** The local address. */
  override get localAddr(): Deno.UnixAddr {
    return super.localAddr as Deno.UnixAddr;
  }

  /** The peer's address. */
  override get remoteAddr(): Deno.UnixAddr {
    return super.remoteAddr as Deno.UnixAddr;
  }
}

/**
 * A Unix stream listener: async-io's `Async<UnixListener>`.
 *
 * @example
 * ```ts ignore
 * import { UnixListener } from "@ario/ario";
 * const l = UnixListener.bind("\0my-service");
 * for await (const conn of l) conn.readable.pipeTo(conn.writable);
 * ```
 */
export class UnixListener extends Listener<UnixStream> {
  /**
   * Wraps a listening Unix socket fd (taking ownership).
   *
   * @example
   * ```ts ignore
   * const l = new UnixListener(fd);
   * ```
   */
  constructor(fd: number, reactor?: Reactor) {
    super(fd, "unix", reactor);
  }

  /**
   * Binds to a path (which must not exist) or an abstract name ("\0name")
   * and listens.
   *
   * @example
   * ```ts ignore
   * const l = UnixListener.bind("/tmp/app.sock", { backlog: 64 });
   * ```
   */
  static override bind(path: UnixPath, options: ListenOptions = {}): UnixListener {
    return new UnixListener(listening(unixOf(path), false, options), options.reactor);
  }

  /** Wraps an accepted fd. */
  protected wrap(fd: number): UnixStream {
    return new UnixStream(fd, this.reactor);
  }

  /** The bound address. */
  get localAddr(): Deno.UnixAddr {
    this.checkOpen("get local address", "getsockname");
    return sockName(this.fd, false, "unix") as Deno.UnixAddr;
  }

  /** Same as {@linkcode UnixListener.localAddr} (`Deno.Listener.addr`). */
  get addr(): Deno.UnixAddr {
    return this.localAddr;
  }
}

/**
 * A Unix datagram socket: async-io's `Async<UnixDatagram>`. Addresses come
 * back with transport "unixpacket", as Deno names Unix datagrams.
 *
 * @example
 * ```ts
 * import { UnixDatagram } from "@ario/ario";
 * const [a, b] = UnixDatagram.pair();
 * await a.send(new Uint8Array([1, 2, 3]));
 * console.log(await b.recv(new Uint8Array(8))); // 3
 * a.close();
 * b.close();
 * ```
 */
export class UnixDatagram extends DatagramSocket {
  /**
   * Wraps a Unix datagram socket fd (taking ownership).
   *
   * @example
   * ```ts ignore
   * const d = new UnixDatagram(fd);
   * ```
   */
  constructor(fd: number, reactor?: Reactor) {
    super(fd, "unixpacket", reactor);
  }

  /**
   * A datagram socket bound to a path or abstract name.
   *
   * @example
   * ```ts ignore
   * const d = UnixDatagram.bind("\0log-sink");
   * ```
   */
  static override bind(path: UnixPath, options: BindOptions = {}): UnixDatagram {
    const fd = boundSocket(
      unixOf(path),
      constants.SOCK_DGRAM,
      options,
      false,
      "bind Unix datagram socket to",
    );
    return new UnixDatagram(fd, options.reactor);
  }

  /**
   * A datagram socket bound to no address (it can send, and receive
   * replies only once connected or through a pair).
   *
   * @example
   * ```ts ignore
   * const d = UnixDatagram.unbound();
   * await d.sendTo(data, "\0log-sink");
   * ```
   */
  static unbound(options: FromOptions = {}): UnixDatagram {
    return new UnixDatagram(
      newSocket(constants.AF_UNIX, constants.SOCK_DGRAM, "create Unix datagram socket"),
      options.reactor,
    );
  }

  /**
   * Two connected datagram sockets (socketpair(2)).
   *
   * @example
   * ```ts ignore
   * const [a, b] = UnixDatagram.pair();
   * ```
   */
  static pair(options: FromOptions = {}): [UnixDatagram, UnixDatagram] {
    const [a, b] = socketPair(constants.SOCK_DGRAM, "Unix datagram");
    return [new UnixDatagram(a, options.reactor), new UnixDatagram(b, options.reactor)];
  }

  /**
   * Sends one datagram to a path or abstract name.
   *
   * @example
   * ```ts ignore
   * await d.sendTo(new TextEncoder().encode("log line"), "/run/log.sock");
   * ```
   */
  sendTo(buf: Uint8Array, to: UnixPath, options?: IoOptions): Promise<number> {
    return this.sendToAddr(buf, unixOf(to), options);
  }

  /**
   * Sets the default peer for `send`/`recv`.
   *
   * @example
   * ```ts ignore
   * await d.connect("\0log-sink");
   * ```
   */
  connect(path: UnixPath, options?: SignalOptions): Promise<void> {
    return this.connectAddr(unixOf(path), options);
  }

  /** The bound address ("" when unbound). */
  get localAddr(): Deno.UnixAddr {
    this.checkOpen("get local address", "getsockname");
    return sockName(this.fd, false, "unixpacket") as Deno.UnixAddr;
  }

  /** The connected peer's address. */
  get remoteAddr(): Deno.UnixAddr {
    this.checkOpen("get peer address", "getpeername");
    return sockName(this.fd, true, "unixpacket") as Deno.UnixAddr;
  }
}
