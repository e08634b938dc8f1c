/**
 * Unix sockets: {@linkcode UnixStream}, {@linkcode UnixListener} and
 * {@linkcode UnixDatagram} (what `Deno.connect` lacks: Unix datagrams,
 * socket pairs, abstract names on Linux).
 *
 * @example A datagram pair, as socketpair(2) makes
 * ```ts
 * import { UnixDatagram } from "@ario/ario";
 * const [a, b] = UnixDatagram.pair();
 * await a.send(new Uint8Array([1, 2, 3]));
 * console.log(await b.recv(new Uint8Array(8))); // 3
 * a.close();
 * b.close();
 * ```
 *
 * @module
 */
import { constants } from "./errors.ts";
import type { FromOptions, IoOptions, SignalOptions } from "./async.ts";
import {
  type BindOptions,
  boundSocket,
  closeRaw,
  type ConnectOptions,
  connectSocket,
  listening,
  type ListenOptions,
  newSocket,
  socketPair,
  sockName,
  unixOf,
} from "./net.ts";
import type { Reactor } from "./reactor.ts";
import { DatagramSocket, Listener, runOn, StreamSocket } from "./socket.ts";
import { cmsgSpace, fdsOf, recvmsgOp, rightsMessage, sendmsgOp } from "./msg.ts";

/** A Unix socket address: a path, or (Linux) an abstract name starting with "\0". */
export type UnixPath = string | { path: string };

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
   */
  constructor(fd: number, reactor?: Reactor) {
    super(fd, "unix", reactor);
  }

  /**
   * Connects to a socket path (or "\0name": Linux abstract namespace).
   *
   * @example Connect to a socket path
   * ```ts
   * import { UnixListener, UnixStream } from "@ario/ario";
   * const dir = Deno.makeTempDirSync();
   * const path = `${dir}/app.sock`;
   * await using listener = UnixListener.bind(path);
   * await using s = await UnixStream.connect(path, { timeout: 1000 });
   * console.log(s.remoteAddr.path === path); // true
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  static async connect(path: UnixPath, options: ConnectOptions = {}): Promise<UnixStream> {
    const fd = await connectSocket(unixOf(path), constants.SOCK_STREAM, options);
    return new UnixStream(fd, options.reactor);
  }

  /**
   * Two connected streams (socketpair(2)).
   *
   * @example Either end can write
   * ```ts
   * import { UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * await b.write(new Uint8Array([1, 2]));
   * console.log(await a.read(new Uint8Array(2))); // 2
   * a.close();
   * b.close();
   * ```
   */
  static pair(options: FromOptions = {}): [UnixStream, UnixStream] {
    const [a, b] = socketPair(constants.SOCK_STREAM, "Unix stream");
    return [new UnixStream(a, options.reactor), new UnixStream(b, options.reactor)];
  }

  /**
   * Passes descriptors to the peer (SCM_RIGHTS) with `data` (default one
   * zero byte: a stream carries descriptors only with bytes). They stay
   * open here. Resolves with the bytes sent; sent once, never retried.
   *
   * @example Hand the peer a pipe's write end
   * ```ts
   * import { Async, UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * const [r, w] = Async.pipe();
   * console.log(await a.sendFds([w.fd])); // 1
   * const { fds } = await b.recvFds();
   * console.log(fds.length); // 1
   * for (const x of [a, b, r, w, new Async(fds[0])]) x.close();
   * ```
   */
  async sendFds(
    fds: readonly number[],
    data?: Uint8Array,
    options?: SignalOptions,
  ): Promise<number> {
    this.checkOpen("send descriptors", "sendmsg");
    const bytes = data ?? new Uint8Array(1);
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
      throw new TypeError("Cannot send descriptors: data must be a non-empty Uint8Array");
    }
    const o = sendmsgOp(this.fd, [bytes], { control: [rightsMessage(fds)] });
    return await runOn(this, o, "send descriptors", options?.signal);
  }

  /**
   * Receives descriptors the peer passed (SCM_RIGHTS), close-on-exec, with
   * the bytes that carried them (into `options.buf`, default one byte).
   * `n` 0 and no fds: end of stream. If more arrived than `maxFds`
   * (default 16) leave room for (MSG_CTRUNC), the ones that did arrive are
   * closed and it throws.
   *
   * @example Receive a descriptor and use it
   * ```ts
   * import { Async, UnixStream } from "@ario/ario";
   * const [a, b] = UnixStream.pair();
   * const [r, w] = Async.pipe();
   * await a.sendFds([w.fd], new TextEncoder().encode("!"));
   * const { fds, n } = await b.recvFds();
   * const w2 = new Async(fds[0]);
   * await w2.write(new TextEncoder().encode("hi"));
   * console.log(n, await r.read(new Uint8Array(2))); // 1 2
   * for (const x of [a, b, r, w, w2]) x.close();
   * ```
   */
  async recvFds(
    options: SignalOptions & { buf?: Uint8Array; maxFds?: number } = {},
  ): Promise<{ fds: number[]; n: number }> {
    this.checkOpen("receive descriptors", "recvmsg");
    const max = options.maxFds ?? 16;
    if (!Number.isInteger(max) || max < 1 || max > 253) {
      throw new RangeError(`Cannot receive descriptors: maxFds must be in 1..253, got ${max}`);
    }
    const buf = options.buf ?? new Uint8Array(1);
    const o = recvmsgOp(this.fd, [buf], { controlLen: cmsgSpace(4 * max), transport: "unix" });
    const m = await runOn(this, o, "receive descriptors", options.signal);
    const fds = fdsOf(m.control);
    if (m.controlTruncated) {
      for (const fd of fds) closeRaw(fd, this.reactor);
      throw new RangeError(
        `Cannot receive descriptors: more arrived than maxFds (${max}) leaves room for (MSG_CTRUNC); the ${fds.length} that fit were closed`,
      );
    }
    return { fds, n: m.n };
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
 * @example An echo server on an abstract name (Linux)
 * ```ts
 * import { UnixListener, UnixStream } from "@ario/ario";
 * const name = `\0ario-echo-${crypto.randomUUID()}`;
 * await using l = UnixListener.bind(name);
 * await using client = await UnixStream.connect(name);
 * for await (const conn of l) {
 *   conn.readable.pipeTo(conn.writable); // echoes, then closes conn
 *   break; // one client is enough here
 * }
 * await client.write(new TextEncoder().encode("hi"));
 * await client.closeWrite();
 * const buf = new Uint8Array(8);
 * console.log(await client.read(buf), await client.read(buf)); // 2 null: echoed, then closed
 * ```
 */
export class UnixListener extends Listener<UnixStream> {
  /**
   * Wraps a listening Unix socket fd (taking ownership).
   */
  constructor(fd: number, reactor?: Reactor) {
    super(fd, "unix", reactor);
  }

  /**
   * Binds to a path (which must not exist) or an abstract name ("\0name")
   * and listens.
   *
   * @example Listen on a path
   * ```ts
   * import { UnixListener } from "@ario/ario";
   * const dir = Deno.makeTempDirSync();
   * using l = UnixListener.bind(`${dir}/app.sock`, { backlog: 64 });
   * console.log(l.localAddr.path === `${dir}/app.sock`); // true
   * Deno.removeSync(dir, { recursive: true });
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
   */
  constructor(fd: number, reactor?: Reactor) {
    super(fd, "unixpacket", reactor);
  }

  /**
   * A datagram socket bound to a path or abstract name.
   *
   * @example Bind a datagram socket to a path
   * ```ts
   * import { UnixDatagram } from "@ario/ario";
   * const dir = Deno.makeTempDirSync();
   * using d = UnixDatagram.bind(`${dir}/log.sock`);
   * console.log(d.localAddr); // { transport: "unixpacket", path: ".../log.sock" }
   * Deno.removeSync(dir, { recursive: true });
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
   * @example Send from an unbound socket
   * ```ts
   * import { UnixDatagram } from "@ario/ario";
   * const dir = Deno.makeTempDirSync();
   * using sink = UnixDatagram.bind(`${dir}/log.sock`);
   * using d = UnixDatagram.unbound();
   * await d.sendTo(new TextEncoder().encode("up"), `${dir}/log.sock`);
   * console.log(await sink.recv(new Uint8Array(64))); // 2
   * Deno.removeSync(dir, { recursive: true });
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
   * @example Datagrams keep their boundaries
   * ```ts
   * import { UnixDatagram } from "@ario/ario";
   * const [a, b] = UnixDatagram.pair();
   * await a.send(new Uint8Array([1, 2]));
   * await a.send(new Uint8Array([3]));
   * const buf = new Uint8Array(8);
   * console.log(await b.recv(buf), await b.recv(buf)); // 2 1
   * a.close();
   * b.close();
   * ```
   */
  static pair(options: FromOptions = {}): [UnixDatagram, UnixDatagram] {
    const [a, b] = socketPair(constants.SOCK_DGRAM, "Unix datagram");
    return [new UnixDatagram(a, options.reactor), new UnixDatagram(b, options.reactor)];
  }

  /**
   * Sends one datagram to a path or abstract name.
   *
   * @example Send a log line to a path
   * ```ts
   * import { UnixDatagram } from "@ario/ario";
   * const dir = Deno.makeTempDirSync();
   * using sink = UnixDatagram.bind(`${dir}/log.sock`);
   * using d = UnixDatagram.unbound();
   * console.log(await d.sendTo(new TextEncoder().encode("log line"), `${dir}/log.sock`)); // 8
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  sendTo(buf: Uint8Array, to: UnixPath, options?: IoOptions): Promise<number> {
    return this.sendToAddr(buf, unixOf(to), options);
  }

  /**
   * Sets the default peer for `send`/`recv`.
   *
   * @example Connect, then send and receive
   * ```ts
   * import { UnixDatagram } from "@ario/ario";
   * const dir = Deno.makeTempDirSync();
   * using sink = UnixDatagram.bind(`${dir}/log.sock`);
   * using d = UnixDatagram.unbound();
   * await d.connect(`${dir}/log.sock`);
   * await d.send(new TextEncoder().encode("log line"));
   * console.log(await sink.recv(new Uint8Array(64))); // 8
   * Deno.removeSync(dir, { recursive: true });
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
