/**
 * The fd core, after smol-rs/async-io's `Async<T>`: {@linkcode Async}
 * wraps any pollable descriptor (pipes, ttys, eventfds, sockets) and runs
 * its reads, writes and readiness waits through the reactor. The socket
 * classes build on it: socket.ts (what stream, listening and datagram
 * sockets share), tcp.ts, udp.ts and unix.ts.
 *
 * Every wait takes an `AbortSignal`; errors are `Deno.errors` classes with
 * the errno name in `code`; every object is `using`/`await using`
 * disposable and has Web Streams (`readable`/`writable`) like `Deno.Conn`
 * (streams.ts). The class's own examples show each call.
 *
 * @module
 */
import {
  closedError,
  constants,
  errnoError,
  errnoName,
  type IoCall,
  POLL_CALL,
  READ_CALL,
  RECV_CALL,
  SEND_CALL,
  SHUTDOWN_CALL,
  WRITE_CALL,
} from "./errors.ts";
import { OFF_CURRENT, POLL, SQE_FLAG } from "./ffi/layout.ts";
import { load } from "./ffi/load.ts";
import { closeRaw, fail, getInt, localFamily, setBytes, setInt, socketType } from "./net.ts";
import { pipeFds, type PipeOptions } from "./net.ts";
import { type Completion, type Reactor, sharedReactor } from "./reactor.ts";
import { byteReadable, chunkWritable } from "./streams.ts";
import { disownFd, ownFd } from "./fatal.ts";
import { multi, op } from "./submit.ts";
import { Operation } from "./operation.ts";
import {
  type Bytes,
  prepClose,
  prepPoll,
  prepRead,
  prepRecv,
  prepSend,
  prepShutdown,
  prepWrite,
  type RawOp,
} from "./sqe.ts";
import {
  inPlace,
  ioAcquire,
  ioCopyIn,
  ioCopyOut,
  type IoRegion,
  ioRelease,
  isDetached,
  LostBytes,
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

/** Options of {@linkcode Async.from}. */
export interface FromOptions {
  /** Reactor to use; default the shared one. */
  reactor?: Reactor;
}

/** C-owned memory one stream read or write takes at most (it returns less). */
const IO_CHUNK = 256 * 1024;
/** C-owned memory a stream read starts with (it grows while reads fill it). */
const READ_HINT_MIN = 4096;
const lib = () => load();
const noop = () => {};

/** A TypeError for a buffer C cannot use, or undefined. */
export function badBuffer(buf: Uint8Array, what: string): TypeError | undefined {
  if (!(buf instanceof Uint8Array)) return new TypeError(`Cannot ${what}: expected a Uint8Array`);
  if (isDetached(buf)) return new TypeError(`Cannot ${what}: the buffer is detached`);
  return undefined;
}

/** The kind of socket an {@linkcode Async} wraps. */
export type Transport = "tcp" | "udp" | "unix" | "unixpacket" | "raw";

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
  readonly #lost = new LostBytes();
  // C-owned memory a stream read takes: doubles when a read fills it, halves when reads stay small
  #hint = READ_HINT_MIN;

  /**
   * Wraps `fd` (taking ownership) without checking that it can be polled;
   * prefer {@linkcode Async.from}, which checks. `transport` names a
   * socket's kind (undefined: not a socket).
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
    ownFd(this.#r, fd);
  }

  /**
   * Wraps a descriptor you already have (pipe, pty/tty, eventfd, socket,
   * character device, regular file): puts it in non-blocking mode and
   * checks the reactor can drive it. A regular file is accepted on every
   * backend: its reads and writes (at the file position) run on the
   * reactor's file pool where the backend cannot poll it (epoll, poll,
   * select), though {@linkcode Async.ready} cannot wait on it there (see
   * `AsyncFile` for reads and writes at offsets). Takes
   * ownership: {@linkcode Async.close} closes the fd.
   *
   * @example Wrap a descriptor that came from elsewhere (here a raw accept)
   * ```ts
   * import { Async, op, single, TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using client = await TcpStream.connect(listener.localAddr);
   * await using conn = await Async.from(await single(op.accept(listener.fd)));
   * await client.write(new Uint8Array([42]));
   * console.log(await conn.read(new Uint8Array(1))); // 1
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
    const type = socketType(fd);
    if (type !== undefined) {
      const unix = localFamily(fd) === constants.AF_UNIX;
      const stream = type === constants.SOCK_STREAM;
      transport = unix ? (stream ? "unix" : "unixpacket") : (stream ? "tcp" : "udp");
    }
    // can the reactor poll it? Registering tells; epoll refuses regular files and
    // directories (EPERM): their reads and writes go to the file pool
    const probe = new Operation(
      "poll",
      prepPoll({ op: 0, fd, flags: SQE_FLAG.LINK }, fd, POLL.IN | POLL.OUT),
      (res) => res,
      { mapsErrors: true },
    );
    const [got] = await multi([probe, op.linkTimeout(0)] as const, { reactor: options.reactor });
    const res = got as number;
    if (res < 0 && res !== -constants.ECANCELED && res !== -constants.EPERM) {
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
  static pipe(options: PipeOptions = {}): [Async, Async] {
    const fds = pipeFds(options);
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
            if (!(opFlags & constants.MSG_PEEK)) this.#lost.push(lost.received);
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
   * @example Wait for readable or priority data, with a deadline
   * ```ts
   * import { Async, POLL } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * await w.write(new Uint8Array([1]));
   * const mask = await r.ready(POLL.IN | POLL.PRI, { signal: AbortSignal.timeout(1000) });
   * console.log((mask & POLL.IN) !== 0); // true
   * r.close();
   * w.close();
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
   * @example Wait until a pipe has data
   * ```ts
   * import { Async, POLL } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * const ready = r.waitReadable();
   * await w.write(new Uint8Array([1]));
   * console.log(((await ready) & POLL.IN) !== 0); // true
   * r.close();
   * w.close();
   * ```
   */
  waitReadable(options?: SignalOptions): Promise<number> {
    return this.ready(POLL.IN, options);
  }

  /**
   * Waits until writing would not block (async-io's `writable()`).
   *
   * @example A fresh pipe has room
   * ```ts
   * import { Async, POLL } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * console.log(((await w.waitWritable()) & POLL.OUT) !== 0); // true
   * r.close();
   * w.close();
   * ```
   */
  waitWritable(options?: SignalOptions): Promise<number> {
    return this.ready(POLL.OUT, options);
  }

  /**
   * Waits for priority data: TCP urgent (out-of-band) data, a pty's packet
   * mode status, exceptional conditions of device files.
   *
   * @example Receive TCP urgent data
   * ```ts
   * import { constants, TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using client = await TcpStream.connect(listener.localAddr);
   * await using conn = await listener.accept();
   * await client.write(new Uint8Array([33]), { flags: constants.MSG_OOB });
   * await conn.waitPriority({ signal: AbortSignal.timeout(1000) });
   * const buf = new Uint8Array(1);
   * console.log(await conn.read(buf, { flags: constants.MSG_OOB }), buf[0]); // 1 33
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
   * @example Read a pipe with your own FFI `read`
   * ```ts
   * import { Async, constants } from "@ario/ario";
   * const libc = Deno.dlopen(Deno.build.os === "darwin" ? "libSystem.dylib" : "libc.so.6", {
   *   read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
   * });
   * const [r, w] = Async.pipe();
   * await w.write(new Uint8Array([7]));
   * const buf = new Uint8Array(8);
   * const n = await r.readWith((fd) => {
   *   const got = Number(libc.symbols.read(fd, buf, 8n));
   *   return got < 0 ? -constants.EAGAIN : got;
   * });
   * console.log(n, buf[0]); // 1 7
   * r.close();
   * w.close();
   * libc.close();
   * ```
   */
  readWith(fn: (fd: number) => number, options?: SignalOptions): Promise<number> {
    return this.#with(fn, POLL.IN, "read", options);
  }

  /**
   * Like {@linkcode Async.readWith}, waiting for writability between
   * attempts. async-io's `write_with`.
   *
   * @example Write a pipe with your own FFI `write`
   * ```ts
   * import { Async, constants } from "@ario/ario";
   * const libc = Deno.dlopen(Deno.build.os === "darwin" ? "libSystem.dylib" : "libc.so.6", {
   *   write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
   * });
   * const [r, w] = Async.pipe();
   * const one = new Uint8Array([1]);
   * await w.writeWith((fd) => Number(libc.symbols.write(fd, one, 1n)) < 0 ? -constants.EAGAIN : 1);
   * console.log(await r.read(new Uint8Array(1))); // 1
   * r.close();
   * w.close();
   * libc.close();
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
   * @example Read until the writer closes
   * ```ts
   * import { Async } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * await w.write(new TextEncoder().encode("hi"));
   * w.close();
   * const buf = new Uint8Array(4096);
   * console.log(await r.read(buf)); // 2
   * console.log(await r.read(buf)); // null: the writer closed
   * r.close();
   * ```
   */
  read(buf: Uint8Array, options?: IoOptions): Promise<number | null> {
    if (!(buf instanceof Uint8Array) || buf.length === 0) { // a detached view is empty too
      const bad = badBuffer(buf, "read");
      return bad ? Promise.reject(bad) : Promise.resolve(0);
    }
    const flags = this.#sock ? options?.flags ?? 0 : 0;
    if (this.#lost.length) return this.#readLost(buf, flags, options);
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
    return this.transport === "udp" || this.transport === "unixpacket" || this.transport === "raw";
  }

  #lostTail(opFlags: number): string {
    return opFlags & constants.MSG_PEEK
      ? "are still queued on the socket"
      : "are kept: the next read returns them";
  }

  /** A read served from the bytes kept, copied when it settles as a read from C would be. */
  async #readLost(buf: Uint8Array, flags: number, options?: IoOptions): Promise<number | null> {
    await undefined;
    if (this.#lost.length === 0) return this.read(buf, options); // another read took them
    const bad = badBuffer(buf, "read");
    if (bad) throw bad;
    return this.#lost.take(buf, (flags & constants.MSG_PEEK) !== 0, this.#message()).n;
  }

  /** @internal Bytes reads received while their buffer was gone (recvFrom serves them too). */
  protected get lostBytes(): LostBytes {
    return this.#lost;
  }

  /**
   * Writes some of `buf`; resolves with how many bytes went (maybe fewer
   * than `buf.length`: see {@linkcode Async.writeAll}). What is sent is what
   * `buf` held at this call (it is copied to C-owned memory; at most 256 KiB
   * per call on a stream), so `buf` may be reused or detached at once.
   *
   * @example Write some bytes
   * ```ts
   * import { Async } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * console.log(await w.write(new TextEncoder().encode("hello"))); // 5
   * r.close();
   * w.close();
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
   * @example Write a whole response
   * ```ts
   * import { UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * await a.writeAll(new TextEncoder().encode("HTTP/1.1 200 OK\r\n\r\n"));
   * console.log(await b.read(new Uint8Array(64))); // 19
   * a.close();
   * b.close();
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
   * @example Grow the receive buffer
   * ```ts
   * import { constants, UdpSocket } from "@ario/ario";
   * using sock = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * sock.setOption(constants.SOL_SOCKET, constants.SO_RCVBUF, 1 << 16);
   * console.log(sock.getOption(constants.SOL_SOCKET, constants.SO_RCVBUF) >= 1 << 16); // true
   * ```
   */
  setOption(level: number, name: number, value: number | boolean | Uint8Array): void {
    this.checkOpen("set socket option", "setsockopt");
    if (level === undefined || name === undefined) {
      throw new TypeError(
        "Cannot set socket option: level and name must be numbers (this platform may lack the constant)",
      );
    }
    const rc = value instanceof Uint8Array
      ? setBytes(this.#fd, level, name, value)
      : setInt(this.#fd, level, name, typeof value === "boolean" ? (value ? 1 : 0) : value);
    if (rc < 0) fail(rc, "setsockopt", `Cannot set socket option ${level}/${name}`);
  }

  /**
   * Reads an int socket option.
   *
   * @example Ask a socket its type
   * ```ts
   * import { constants, UdpSocket } from "@ario/ario";
   * using sock = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * const type = sock.getOption(constants.SOL_SOCKET, constants.SO_TYPE);
   * console.log(type === constants.SOCK_DGRAM); // true
   * ```
   */
  getOption(level: number, name: number): number {
    this.checkOpen("get socket option", "getsockopt");
    if (level === undefined || name === undefined) {
      throw new TypeError(
        "Cannot get socket option: level and name must be numbers (this platform may lack the constant)",
      );
    }
    const { rc, value } = getInt(this.#fd, level, name);
    if (rc < 0) fail(rc, "getsockopt", `Cannot get socket option ${level}/${name}`);
    return value;
  }

  /**
   * Reads a socket option's raw bytes (at most `capacity`).
   *
   * @example Read a struct-valued option (SO_LINGER: on/off and seconds)
   * ```ts
   * import { constants, TcpListener } from "@ario/ario";
   * using sock = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * const linger = sock.getOptionBytes(constants.SOL_SOCKET, constants.SO_LINGER, 8);
   * console.log(linger.length, linger.every((b) => b === 0)); // 8 true: off
   * ```
   */
  getOptionBytes(level: number, name: number, capacity = 64): Uint8Array {
    this.checkOpen("get socket option", "getsockopt");
    const out = new Uint8Array(capacity);
    const len = new Uint32Array([capacity]);
    const rc = lib().ario_getsockopt(this.#fd, level, name, out, len);
    if (rc < 0) fail(rc, "getsockopt", `Cannot get socket option ${level}/${name}`);
    return out.subarray(0, len[0]);
  }

  /** @internal Throws BadResource when closed. */
  protected checkOpen(what: string, op: string): void {
    if (this.#closed) throw closedError(what, op, false);
  }

  /** @internal Submits a multishot entry with this object's ref; `each` gets each completion. */
  protected submitEach(e: RawOp, each: Completion): number {
    e.ref = this.#ref;
    return this.#r.rawCallback(e, each);
  }

  /**
   * Makes ops started from now on keep the process alive (the default).
   *
   * @example Undo an unref
   * ```ts
   * import { Async } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * r.unref();
   * r.ref(); // this read keeps the process alive again
   * const got = r.read(new Uint8Array(1));
   * await w.write(new Uint8Array([1]));
   * console.log(await got); // 1
   * r.close();
   * w.close();
   * ```
   */
  ref(): void {
    this.#ref = true;
  }

  /**
   * Makes ops started from now on not keep the process alive (a
   * background listener, say).
   *
   * @example A background accept that lets the process exit
   * ```ts
   * import { TcpListener } from "@ario/ario";
   * const listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * listener.unref();
   * const next = listener.accept(); // does not keep the process alive
   * listener.close();
   * await next.catch((e) => console.log(e.code)); // "ECANCELED"
   * ```
   */
  unref(): void {
    this.#ref = false;
  }

  /**
   * The read side as a byte stream (BYOB readers work). Ends at end of
   * stream; cancelling it shuts down reading.
   *
   * @example Iterate the chunks until end of stream
   * ```ts
   * import { Async } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * await w.write(new TextEncoder().encode("abc"));
   * w.close();
   * for await (const chunk of r.readable) console.log(chunk.length); // 3
   * // the stream ended, so r is closed
   * ```
   */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    return this.#readable ??= byteReadable((buf) => this.read(buf), () => this.#endRead(), () => {
      if (this.#sock && !this.#closed) this.shutdownRaw(0);
      this.#endRead();
    });
  }

  /**
   * The write side as a stream with backpressure: each chunk is written in
   * full before the next is taken. Closing it shuts down writing (a pipe or
   * tty: closes the fd); aborting it closes the fd.
   *
   * @example Pipe text in; closing the stream closes the pipe end
   * ```ts
   * import { Async } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * await ReadableStream.from(["a", "b"]).pipeThrough(new TextEncoderStream()).pipeTo(w.writable);
   * console.log(await new Response(r.readable).text()); // "ab"
   * ```
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= chunkWritable(
      (chunk, signal) => this.writeAll(chunk, { signal }),
      () => {
        if (!this.#sock) return this.close();
        if (!this.#closed) this.shutdownRaw(1);
        this.#endWrite();
      },
      () => this.close(),
    );
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
   * @example Closing cancels what waits
   * ```ts
   * import { Async } from "@ario/ario";
   * const [r, w] = Async.pipe();
   * const pending = r.read(new Uint8Array(1));
   * r.close();
   * await pending.catch((e) => console.log(e.name, e.code)); // "BadResource" "ECANCELED"
   * w.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const r = this.#r;
    disownFd(r, this.#fd);
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
   * @example Close at the end of a scope and wait for it
   * ```ts
   * import { TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using conn = await TcpStream.connect(listener.localAddr);
   * console.log(conn.closed); // false, until the scope ends
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return this.#closing!;
  }

  /**
   * Closes the fd (as {@linkcode Async.close}), for `using`.
   *
   * @example Close at the end of a scope
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using sock = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * console.log(sock.localAddr.port > 0); // true
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }
}
