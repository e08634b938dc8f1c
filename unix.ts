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
import { DatagramSocket, Listener, StreamSocket } from "./socket.ts";

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
