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
import { type Addr, encodeAddr, senderRegion, type SockAddr } from "./addr.ts";
import { constants, type IoError } from "./errors.ts";
import {
  ACCEPT_CALL,
  Async,
  badBuffer,
  type IoOptions,
  RECVFROM_CALL,
  SHUTDOWN_CALL,
  type SignalOptions,
} from "./async.ts";
import { fmt, sockName } from "./net.ts";
import { prepAccept, prepConnect, prepRecvFrom, prepSendTo, prepShutdown } from "./sqe.ts";
import type { Received } from "./submit.ts";
import { type BufferLostError, inPlace, ioAcquire, ioCopyIn, ioRelease } from "./iomem.ts";

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
    const from = senderRegion();
    const decode = () => from.decode(this.transport!);
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
        const lost = e as BufferLostError & { addr?: Addr };
        if (lost instanceof TypeError && lost.received) {
          const addr = lost.addr = decode();
          if (!(flags & constants.MSG_PEEK)) this.stashSender(lost.received, addr);
        }
        throw e;
      }
      return { n, addr: decode() };
    } finally {
      ioRelease(from.region);
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
