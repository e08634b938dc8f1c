/**
 * What the socket classes share, by kind: {@linkcode StreamSocket} (TCP
 * and Unix streams: addresses, shutdown, peek), {@linkcode Listener}
 * (accept and the `for await` iterator) and {@linkcode DatagramSocket}
 * (UDP and Unix datagrams: receiving with the sender's address, and
 * connected send/recv). The concrete classes are in tcp.ts, udp.ts and
 * unix.ts.
 *
 * @example A stream pair: write on one end, peek and read on the other
 * ```ts
 * import { UnixStream } from "@ario/ario";
 * const [a, b] = UnixStream.pair();
 * await a.write(new TextEncoder().encode("hi"));
 * console.log(await b.peek(new Uint8Array(2)), await b.read(new Uint8Array(2))); // 2 2
 * a.close();
 * b.close();
 * ```
 *
 * @module
 */
import {
  type Addr,
  type AnyAddr,
  type AnySockAddr,
  encodeAddr,
  type SenderRegion,
  senderRegion,
} from "./addr.ts";
import {
  ACCEPT_CALL,
  closedError,
  constants,
  errnoError,
  type IoError,
  RECVFROM_CALL,
  SHUTDOWN_CALL,
} from "./errors.ts";
import { Async, badBuffer, type IoOptions, type SignalOptions } from "./async.ts";
import { closeRaw, fmt, sockName } from "./net.ts";
import {
  prepAccept,
  prepAcceptMulti,
  prepConnect,
  prepRecvFrom,
  prepRecvMulti,
  prepSendTo,
  prepShutdown,
} from "./sqe.ts";
import { Deque } from "./_waiters.ts";
import { bufferGroup } from "./bufgroup.ts";
import { CQE_F } from "./ffi/layout.ts";
import type { Operation } from "./operation.ts";
import { type Received, single } from "./submit.ts";
import { iovMax, writevOp } from "./msg.ts";
import { type BufferLostError, inPlace, ioAcquire, ioCopyIn, ioRelease } from "./iomem.ts";

/**
 * What stream sockets share (TCP and Unix): addresses and shutdown.
 *
 * @example TCP and Unix streams alike
 * ```ts
 * import { type StreamSocket, UnixStream } from "@ario/ario";
 * const [a, b] = UnixStream.pair();
 * const s: StreamSocket = a;
 * await s.shutdown("write");
 * console.log(await b.read(new Uint8Array(1))); // null
 * a.close();
 * b.close();
 * ```
 */
export class StreamSocket extends Async {
  /**
   * Shuts down reading, writing or both (the peer sees end of stream after
   * "write").
   *
   * @example Send the last bytes, then end of stream
   * ```ts
   * import { UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * await a.write(new TextEncoder().encode("bye"));
   * await a.shutdown("write");
   * const buf = new Uint8Array(8);
   * console.log(await b.read(buf), await b.read(buf)); // 3 null
   * a.close();
   * b.close();
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
   * @example Half-close a TCP connection
   * ```ts
   * import { TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using client = await TcpStream.connect(listener.localAddr);
   * await using server = await listener.accept();
   * await client.closeWrite();
   * console.log(await server.read(new Uint8Array(1))); // null
   * console.log(client.remoteAddr.port === listener.localAddr.port); // true: still known
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
   * @example Look before reading
   * ```ts
   * import { UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * await a.write(new TextEncoder().encode("GET /"));
   * const buf = new Uint8Array(4);
   * console.log(await b.peek(buf), await b.read(buf)); // 4 4: the same bytes twice
   * a.close();
   * b.close();
   * ```
   */
  async peek(buf: Uint8Array, options?: SignalOptions): Promise<number | null> {
    return await this.read(buf, { signal: options?.signal, flags: constants.MSG_PEEK });
  }

  /**
   * Writes every byte of `bufs`, in order, with writev(2) calls of up to
   * `ARIO_IOV_MAX` buffers each (a short write goes on with the rest);
   * each call copies the bytes it sends when it is made. Resolves with the
   * total.
   *
   * @example A header and a body in one call
   * ```ts
   * import { UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * const enc = new TextEncoder();
   * console.log(await a.writev([enc.encode("HEAD "), enc.encode("body")])); // 9
   * console.log(await b.read(new Uint8Array(16))); // 9
   * a.close();
   * b.close();
   * ```
   */
  async writev(bufs: readonly Uint8Array[], options?: SignalOptions): Promise<number> {
    this.checkOpen("write", "writev");
    if (!Array.isArray(bufs)) throw new TypeError("Cannot write: expected an array of Uint8Array");
    let rest = bufs.slice(), total = 0;
    const max = iovMax();
    for (;;) {
      while (rest.length && rest[0]?.length === 0) rest.shift();
      if (!rest.length) return total;
      const o = writevOp(this.fd, rest.slice(0, max));
      let n = await runOn(this, o, "write", options?.signal);
      if (n === 0) throw new TypeError("Cannot write: writev wrote 0 bytes of a non-empty list");
      total += n;
      while (rest.length && n >= rest[0].length) n -= rest.shift()!.length;
      if (n) rest = [rest[0].subarray(n), ...rest.slice(1)];
    }
  }

  /**
   * The bytes as they arrive, chunk by chunk, until the peer ends the
   * stream. One multishot receive (RECV_MULTI) into provided buffers of
   * `size` bytes (default 16 KiB) serves the whole iteration: the kernel
   * fills a buffer the reactor's connections share, and each chunk is
   * copied out into its own Uint8Array as it completes, so a chunk is never
   * longer than `size` and stays valid for good. Up to 256 KiB wait in a
   * queue while the loop body runs; past that the receive is cancelled and
   * the rest waits in the socket until the queue drains. Chunks received
   * but not taken when the iteration ends are kept: the next `read` (or
   * iteration) returns them first. Errors throw as `read`'s do; closing the
   * socket ends the iteration.
   *
   * @example Collect what the peer sends
   * ```ts
   * import { TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using client = await TcpStream.connect(listener.localAddr);
   * await using conn = await listener.accept();
   * await client.write(new TextEncoder().encode("hello"));
   * await client.closeWrite();
   * let text = "";
   * for await (const chunk of conn.chunks({ size: 4096 })) text += new TextDecoder().decode(chunk);
   * console.log(text); // hello
   * ```
   */
  async *chunks(options?: ChunkOptions): AsyncGenerator<Uint8Array<ArrayBuffer>, void, undefined> {
    this.checkOpen("receive", "recv");
    const signal = options?.signal, r = this.reactor, lost = this.lostBytes;
    const group = bufferGroup(r, options?.size ?? 16384);
    const q = new Deque<Uint8Array<ArrayBuffer>>();
    let ticket = -1, last: number | undefined, over = false, paused = false, queued = 0;
    let wake: (() => void) | undefined;
    const each = (res: number, more: boolean, flags: number) => {
      if (flags & CQE_F.BUFFER) {
        const chunk = group.take(res, flags);
        if (over) lost.push(chunk); // the iteration ended meanwhile: the next read has it
        else q.push(chunk), queued += res;
      }
      if (!more) { // the last: an end, an error, or (CQ overflow) a chunk, then again
        ticket = -1;
        last = flags & CQE_F.BUFFER ? undefined : res;
      } else if (queued >= CHUNK_QUEUE && !paused) {
        paused = true;
        r.cancel(ticket);
      }
      wake?.();
    };
    const onAbort = () => ticket >= 0 ? r.cancel(ticket) : wake?.();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (let kept; (kept = lost.shift());) yield kept as Uint8Array<ArrayBuffer>;
      for (;;) {
        if (q.length) {
          const chunk = q.shift()!;
          queued -= chunk.length;
          yield chunk;
          continue;
        }
        if (this.closed || last === 0) return;
        if (signal?.aborted) throw signal.reason;
        if (ticket < 0) { // not started, or it ended: why
          const res = last ?? 0;
          const again = res === -constants.ENOBUFS || (paused && res === -constants.ECANCELED);
          if (res < 0 && !again) throw errnoError(res, "recv", "Cannot receive");
          [last, paused] = [undefined, false];
          ticket = this.submitEach(prepRecvMulti(this.entry, this.fd, group.id, 0), each);
        }
        await new Promise<void>((resolve) => wake = resolve);
        wake = undefined;
      }
    } finally {
      over = true;
      signal?.removeEventListener("abort", onAbort);
      while (q.length) lost.push(q.shift()!); // before anything the cancel may bring
      if (ticket >= 0) r.cancel(ticket);
    }
  }

  #local?: Addr;
  #remote?: Addr;

  get #kind(): "tcp" | "unix" {
    return this.transport as "tcp" | "unix";
  }

  /** Keeps the addresses for after the connection ends (getpeername fails then). */
  #remember(): void {
    try {
      this.#local ??= sockName(this.fd, false, this.#kind);
      this.#remote ??= sockName(this.fd, true, this.#kind);
    } catch { /* not connected: the getters say why */ }
  }

  /** The local address (still known after close, as `Deno.Conn`'s). */
  get localAddr(): Addr {
    if (this.#local) return this.#local;
    this.checkOpen("get local address", "getsockname");
    return this.#local = sockName(this.fd, false, this.#kind);
  }

  /** The peer's address (still known after closeWrite and close, as `Deno.Conn`'s). */
  get remoteAddr(): Addr {
    if (this.#remote) return this.#remote;
    this.checkOpen("get peer address", "getpeername");
    return this.#remote = sockName(this.fd, true, this.#kind);
  }
}

/** Bytes `chunks()` queues ahead of its loop body before it pauses the receive. */
const CHUNK_QUEUE = 256 * 1024;

/** Options of {@linkcode StreamSocket.chunks}. */
export interface ChunkOptions extends SignalOptions {
  /** Bytes of each provided buffer, the longest a chunk gets: 1..1 MiB, default 16384. A reactor shares one group of 64 per size, and has 8 sizes at most. */
  size?: number;
}

/** Connections a listener's iteration accepts ahead of its loop body (see `incoming`). */
const ACCEPT_QUEUE = 64;

/**
 * @internal Runs `o` on `s`'s reactor: aborted by `signal`, and cancelled
 * by `s.close()` into a BadResource, as the socket's own ops are.
 */
export async function runOn<T>(
  s: Async,
  o: Operation<T>,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  try {
    return await single(o, { reactor: s.reactor, signal });
  } catch (e) {
    if (s.closed && (e as IoError).code === "ECANCELED") throw closedError(what, o.name, true);
    throw e;
  }
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
   * @example Accept with a deadline
   * ```ts
   * import { TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using client = await TcpStream.connect(listener.localAddr);
   * await using conn = await listener.accept({ signal: AbortSignal.timeout(1000) });
   * console.log(conn.remoteAddr.port === client.localAddr.port); // true
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
   * One multishot accept (ACCEPT_MULTI) serves the whole iteration: the
   * connections the kernel accepts while the loop body runs wait in a
   * queue of up to 64; past that the accept is
   * cancelled and the rest wait in the listen backlog until the queue
   * drains. Connections accepted but not taken when the iteration ends
   * are closed.
   *
   * @example Serve connections as they come
   * ```ts
   * import { TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using client = await TcpStream.connect(listener.localAddr);
   * for await (const conn of listener.incoming({ signal: AbortSignal.timeout(1000) })) {
   *   console.log(conn.remoteAddr.port === client.localAddr.port); // true
   *   conn.close();
   *   break; // one is enough here
   * }
   * ```
   */
  async *incoming(options?: SignalOptions): AsyncGenerator<S, void, undefined> {
    const signal = options?.signal;
    const r = this.reactor, fds = new Deque<number>();
    let ticket = -1, last: number | undefined, over = false, paused = false;
    let wake: (() => void) | undefined;
    const each = (res: number, more: boolean) => {
      if (over) { // the iteration ended meanwhile
        if (res >= 0) closeRaw(res, r);
        return;
      }
      if (res >= 0) fds.push(res); // a last completion may bring one more (a CQ overflow)
      if (!more) {
        ticket = -1;
        last = res;
      } else if (fds.length >= ACCEPT_QUEUE && !paused) {
        paused = true; // the rest wait in the backlog until the queue drains
        r.cancel(ticket);
      }
      wake?.();
    };
    const onAbort = () => ticket >= 0 ? r.cancel(ticket) : wake?.();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (fds.length) {
          yield this.wrap(fds.shift()!);
          continue;
        }
        if (this.closed) return;
        if (signal?.aborted) throw signal.reason;
        if (ticket < 0) { // not started, or it ended: why
          const res = last ?? 0;
          if (res < 0 && !paused && res !== -constants.ECONNABORTED) {
            throw errnoError(res, "accept", "Cannot accept");
          }
          [last, paused] = [undefined, false];
          ticket = this.submitEach(prepAcceptMulti(this.entry, this.fd), each);
        }
        await new Promise<void>((resolve) => wake = resolve);
        wake = undefined;
      }
    } finally {
      over = true;
      signal?.removeEventListener("abort", onAbort);
      if (ticket >= 0) r.cancel(ticket);
      while (fds.length) closeRaw(fds.shift()!, r);
    }
  }

  /**
   * Same as {@linkcode Listener.incoming}: `for await (const conn of listener)`.
   *
   * @example A listener is async iterable
   * ```ts
   * import { UnixListener, UnixStream } from "@ario/ario";
   * const dir = Deno.makeTempDirSync();
   * await using listener = UnixListener.bind(`${dir}/app.sock`);
   * await using client = await UnixStream.connect(`${dir}/app.sock`);
   * for await (const conn of listener) {
   *   await conn.write(new Uint8Array([1]));
   *   conn.close();
   *   break;
   * }
   * console.log(await client.read(new Uint8Array(1))); // 1
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  [Symbol.asyncIterator](): AsyncGenerator<S, void, undefined> {
    return this.incoming();
  }
}

/**
 * What datagram sockets share (UDP and Unix datagram): receiving with the
 * sender's address, and connected send/recv.
 *
 * @example UDP and Unix datagrams alike
 * ```ts
 * import { type DatagramSocket, UnixDatagram } from "@ario/ario";
 * const [a, b] = UnixDatagram.pair();
 * const s: DatagramSocket = b;
 * await a.send(new Uint8Array([1, 2]));
 * const { n, addr } = await s.recvFrom(new Uint8Array(1500));
 * console.log(n, addr.transport); // 2 "unixpacket"
 * a.close();
 * b.close();
 * ```
 */
export class DatagramSocket<A extends Addr | AnyAddr = Addr> extends Async {
  /** @internal sendto(2) through the reactor. */
  protected async sendToAddr(
    buf: Uint8Array,
    to: AnySockAddr,
    options?: IoOptions,
  ): Promise<number> {
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
  protected async connectAddr(to: AnySockAddr, options?: SignalOptions): Promise<void> {
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
   * @example Receive a datagram and its sender, with a deadline
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * await a.sendTo(new Uint8Array([1, 2]), b.localAddr);
   * const signal = AbortSignal.timeout(1000);
   * const { n, addr } = await b.recvFrom(new Uint8Array(1500), { signal });
   * console.log(n, addr.transport === "udp" && addr.port === a.localAddr.port); // 2 true
   * ```
   */
  async recvFrom(buf: Uint8Array, options?: IoOptions): Promise<Received<A>> {
    const bad = badBuffer(buf, "receive");
    if (bad) throw bad;
    const flags = options?.flags ?? 0;
    if (this.lostBytes.length) {
      await undefined; // copied when it settles, as a datagram from C would be
      const bad = badBuffer(buf, "receive");
      if (bad) throw bad;
      if (this.lostBytes.length) {
        const kept = this.lostBytes.take(buf, (flags & constants.MSG_PEEK) !== 0, true);
        return { n: kept.n, addr: (kept.addr as A | undefined) ?? this.unknownSender() };
      }
    }
    // the sender's sockaddr and its length word: the kernel writes both
    const from = senderRegion();
    const decode = () => this.senderOf(from);
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
          from.sa,
          from.saLen,
        );
        n = await this.run(e, RECVFROM_CALL, options?.signal, data ? undefined : buf, data, buf);
      } catch (e) {
        const lost = e as BufferLostError & { addr?: A };
        if (lost instanceof TypeError && lost.received) {
          const addr = lost.addr = decode();
          if (!(flags & constants.MSG_PEEK)) this.lostBytes.setSender(lost.received, addr);
        }
        throw e;
      }
      return { n, addr: decode() };
    } finally {
      ioRelease(from.region);
    }
  }

  /** @internal The sender a RECVFROM wrote, labelled with this socket's transport. */
  protected senderOf(from: SenderRegion): A {
    return from.decode(this.transport as "udp" | "unixpacket") as A;
  }

  /** @internal The sender of bytes kept from a receive that lost its buffer, when none was read. */
  protected unknownSender(): A {
    try {
      return sockName(this.fd, true, this.transport as "udp" | "unixpacket") as A;
    } catch {
      return (this.transport === "udp"
        ? { transport: "udp", hostname: "0.0.0.0", port: 0 }
        : { transport: "unixpacket", path: "" }) as A;
    }
  }

  /**
   * Like {@linkcode DatagramSocket.recvFrom} without consuming the datagram.
   *
   * @example Peek, then receive the same datagram
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * await a.sendTo(new Uint8Array([1, 2, 3]), b.localAddr);
   * const buf = new Uint8Array(16);
   * console.log((await b.peekFrom(buf)).n, (await b.recvFrom(buf)).n); // 3 3
   * ```
   */
  peekFrom(buf: Uint8Array, options?: SignalOptions): Promise<Received<A>> {
    return this.recvFrom(buf, { signal: options?.signal, flags: constants.MSG_PEEK });
  }

  /**
   * Sends a datagram to the connected peer.
   *
   * @example Send to the connected peer
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * await a.connect(b.localAddr);
   * console.log(await a.send(new Uint8Array([1]))); // 1
   * console.log(await b.recv(new Uint8Array(8))); // 1
   * ```
   */
  send(buf: Uint8Array, options?: IoOptions): Promise<number> {
    return this.write(buf, options);
  }

  /**
   * Receives a datagram from the connected peer; resolves with its length
   * (0 for an empty datagram).
   *
   * @example An empty datagram is 0, not the end
   * ```ts
   * import { UnixDatagram } from "@ario/ario";
   * const [a, b] = UnixDatagram.pair();
   * await a.send(new Uint8Array(0));
   * console.log(await b.recv(new Uint8Array(8))); // 0
   * a.close();
   * b.close();
   * ```
   */
  async recv(buf: Uint8Array, options?: IoOptions): Promise<number> {
    return (await this.read(buf, options)) ?? 0;
  }

  /**
   * Peeks at the next datagram from the connected peer.
   *
   * @example Peek, then receive
   * ```ts
   * import { UnixDatagram } from "@ario/ario";
   * const [a, b] = UnixDatagram.pair();
   * await a.send(new Uint8Array([1, 2, 3]));
   * const buf = new Uint8Array(8);
   * console.log(await b.peek(buf), await b.recv(buf)); // 3 3
   * a.close();
   * b.close();
   * ```
   */
  peek(buf: Uint8Array, options?: SignalOptions): Promise<number> {
    return this.recv(buf, { signal: options?.signal, flags: constants.MSG_PEEK });
  }
}
