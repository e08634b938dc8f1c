/**
 * TCP: {@linkcode TcpStream} (async-io's `Async<TcpStream>`, shaped like
 * `Deno.TcpConn`) and {@linkcode TcpListener} (shaped like
 * `Deno.TcpListener`), with the socket options Deno does not offer.
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
import { constants, type IoError } from "./errors.ts";
import {
  bindIpOf,
  type ConnectOptions,
  connectSocket,
  ipsOf,
  listening,
  type ListenOptions,
  sockName,
  type TcpAddr,
  ttlOption,
} from "./net.ts";
import type { Reactor } from "./reactor.ts";
import { Listener, StreamSocket } from "./socket.ts";

/** TCP keepalive settings; times in whole seconds. */
export interface KeepAliveOptions {
  /** Idle time before the first probe (TCP_KEEPIDLE), seconds. */
  idle?: number;
  /** Time between probes (TCP_KEEPINTVL), seconds. */
  interval?: number;
  /** Unanswered probes before the connection drops (TCP_KEEPCNT). */
  count?: number;
}

/**
 * A TCP connection: async-io's `Async<TcpStream>`, shaped like `Deno.TcpConn`.
 *
 * @example Connect, turn off Nagle, send a request
 * ```ts
 * import { TcpListener, TcpStream } from "@ario/ario";
 * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
 * await using conn = await TcpStream.connect(listener.localAddr, { timeout: 1000 });
 * conn.setNoDelay(true);
 * await conn.writeAll(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 * ```
 */
export class TcpStream extends StreamSocket {
  /**
   * Wraps a connected TCP socket fd (taking ownership).
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
   * @example Connect within a timeout; a closed port refuses
   * ```ts
   * import { TcpListener, TcpStream } from "@ario/ario";
   * const listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * const addr = listener.localAddr;
   * await using conn = await TcpStream.connect(addr, { timeout: 500 });
   * console.log(conn.remoteAddr.port === addr.port); // true
   * listener.close();
   * await TcpStream.connect(addr).catch((e) => console.log(e.code)); // "ECONNREFUSED"
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
   * @example Disable Nagle's algorithm
   * ```ts
   * import { TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using conn = await TcpStream.connect(listener.localAddr);
   * conn.setNoDelay(true);
   * console.log(conn.noDelay); // true
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
   * @example Keepalive with its timing
   * ```ts
   * import { TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using conn = await TcpStream.connect(listener.localAddr);
   * conn.setKeepAlive({ idle: 60, interval: 10, count: 5 });
   * console.log(conn.keepAlive); // { enabled: true, idle: 60, interval: 10, count: 5 }
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
   * @example Set the time-to-live
   * ```ts
   * import { TcpListener, TcpStream } from "@ario/ario";
   * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
   * await using conn = await TcpStream.connect(listener.localAddr);
   * conn.setTtl(64);
   * console.log(conn.ttl); // 64
   * ```
   */
  setTtl(ttl: number): void {
    const [level, name] = ttlOption(this.fd);
    this.setOption(level, name, ttl);
  }

  /** The IP time-to-live / hop limit. */
  get ttl(): number {
    const [level, name] = ttlOption(this.fd);
    return this.getOption(level, name);
  }
}

/**
 * A TCP listener: async-io's `Async<TcpListener>`, shaped like
 * `Deno.TcpListener` (`accept()`, `for await`, `addr`).
 *
 * @example An echo server
 * ```ts
 * import { TcpListener, TcpStream } from "@ario/ario";
 * await using listener = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { backlog: 1024 });
 * await using client = await TcpStream.connect(listener.localAddr);
 * for await (const conn of listener) {
 *   conn.readable.pipeTo(conn.writable); // echoes, then closes conn
 *   break; // one client is enough here
 * }
 * await client.write(new TextEncoder().encode("hi"));
 * await client.closeWrite();
 * const buf = new Uint8Array(8);
 * console.log(await client.read(buf), await client.read(buf)); // 2 null: echoed, then closed
 * ```
 */
export class TcpListener extends Listener<TcpStream> {
  /**
   * Wraps a listening TCP socket fd (taking ownership).
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
