/**
 * UDP: {@linkcode UdpSocket}, async-io's `Async<UdpSocket>`, with
 * broadcast, TTL and multicast options.
 *
 * @example A datagram between two sockets on loopback
 * ```ts
 * import { UdpSocket } from "@ario/ario";
 * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
 * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
 * await a.sendTo(new TextEncoder().encode("hi"), b.localAddr);
 * const { n, addr } = await b.recvFrom(new Uint8Array(16));
 * console.log(n, addr.transport); // 2 "udp"
 * ```
 *
 * @module
 */
import { ipBytes } from "./addr.ts";
import { isNumericHost } from "./dns.ts";
import { constants } from "./errors.ts";
import type { IoOptions, SignalOptions } from "./async.ts";
import {
  bindIpOf,
  type BindOptions,
  boundSocket,
  fail,
  ipOf,
  ipsOf,
  localFamily,
  mreq4,
  mreq6,
  setBytes,
  setInt,
  sockName,
  type TcpAddr,
  ttlOption,
} from "./net.ts";
import type { Reactor } from "./reactor.ts";
import { DatagramSocket, runOn } from "./socket.ts";
import { type ControlMessage, pktInfoOf, recvmsgOp, timestampOf, ttlOf } from "./msg.ts";

/** What {@linkcode UdpSocket.recvMsg} received: the datagram and what the kernel says of it. */
export interface DatagramInfo {
  /** The bytes received: a view of the buffer passed in. */
  data: Uint8Array;
  /** The sender. */
  addr: Deno.NetAddr;
  /** The datagram's destination address (packet info enabled). */
  localAddr?: string;
  /** Index of the interface it arrived on (packet info enabled). */
  ifIndex?: number;
  /** Its TTL (IPv4) or hop limit (IPv6), if enabled. */
  ttl?: number;
  /** When the kernel received it, ns since the epoch, if enabled. */
  timestamp?: bigint;
  /** The datagram was longer than the buffer: the rest is gone (MSG_TRUNC). */
  truncated: boolean;
  /** Every control message that arrived, parsed. */
  control: ControlMessage[];
}

/** Which receive metadata {@linkcode UdpSocket.recvMsg} reports. */
export interface RecvMetadata {
  /** Destination address and interface (IP_PKTINFO / IPV6_RECVPKTINFO). */
  pktInfo?: boolean;
  /** TTL / hop limit (IP_RECVTTL / IPV6_RECVHOPLIMIT). */
  ttl?: boolean;
  /** Kernel receive timestamps (SO_TIMESTAMPNS; SO_TIMESTAMP where that is missing). */
  timestamp?: boolean;
}

/** Room for packet info, TTL and a timestamp with margin. */
const META_ROOM = 512;

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
   */
  constructor(fd: number, reactor?: Reactor) {
    super(fd, "udp", reactor);
  }

  /**
   * Binds a UDP socket (port 0: any free port).
   *
   * @example Two sockets sharing one port (SO_REUSEPORT)
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * const options = { reuseAddr: true, reusePort: true };
   * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 }, options);
   * using b = UdpSocket.bind(a.localAddr, options);
   * console.log(a.localAddr.port === b.localAddr.port); // true
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
   * @example Send one datagram
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * const sent = await a.sendTo(new TextEncoder().encode("hello"), b.localAddr);
   * console.log(sent); // 5
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
   * Asks the kernel for metadata with each datagram, reported by
   * {@linkcode UdpSocket.recvMsg}; a field left out is left as it is.
   * Throws an errno error where the platform lacks the option.
   *
   * @example Ask for everything
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using u = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * u.setRecvMetadata({ pktInfo: true, ttl: true, timestamp: true });
   * ```
   */
  setRecvMetadata(what: RecvMetadata): void {
    this.checkOpen("set receive metadata", "setsockopt");
    const v6 = localFamily(this.fd) === constants.AF_INET6;
    const set = (
      level: number,
      name: number | undefined,
      on: boolean | undefined,
      label: string,
    ) => {
      if (on === undefined) return;
      if (name === undefined) {
        throw new TypeError(`Cannot set receive metadata: this platform has no ${label}`);
      }
      const rc = setInt(this.fd, level, name, on ? 1 : 0);
      if (rc < 0) fail(rc, "setsockopt", `Cannot set receive metadata ${label}`);
    };
    const ip = v6 ? constants.IPPROTO_IPV6 : constants.IPPROTO_IP;
    set(
      ip,
      v6 ? constants.IPV6_RECVPKTINFO : constants.IP_PKTINFO ?? constants.IP_RECVDSTADDR,
      what.pktInfo,
      v6 ? "IPV6_RECVPKTINFO" : "IP_PKTINFO",
    );
    set(ip, v6 ? constants.IPV6_RECVHOPLIMIT : constants.IP_RECVTTL, what.ttl, "TTL reports");
    const ts = constants.SO_TIMESTAMPNS ?? constants.SO_TIMESTAMP;
    set(constants.SOL_SOCKET, ts, what.timestamp, "SO_TIMESTAMPNS");
  }

  /**
   * Receives one datagram into `buf` with its metadata: sender, local
   * address and interface, TTL, timestamp (those enabled by
   * {@linkcode UdpSocket.setRecvMetadata}), and whether it was cut.
   *
   * @example The destination address and TTL of a datagram
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * b.setRecvMetadata({ pktInfo: true, ttl: true });
   * await a.sendTo(new Uint8Array([1, 2]), b.localAddr);
   * const m = await b.recvMsg(new Uint8Array(1500));
   * console.log(m.data.length, m.localAddr, m.ttl! > 0); // 2 "127.0.0.1" true
   * ```
   */
  async recvMsg(buf: Uint8Array, options?: SignalOptions): Promise<DatagramInfo> {
    this.checkOpen("receive", "recvmsg");
    const o = recvmsgOp(this.fd, [buf], { controlLen: META_ROOM, transport: "udp" });
    const m = await runOn(this, o, "receive", options?.signal);
    const info = pktInfoOf(m.control);
    return {
      data: buf.subarray(0, m.n),
      addr: m.addr as Deno.NetAddr,
      localAddr: info?.localAddr,
      ifIndex: info?.ifIndex,
      ttl: ttlOf(m.control),
      timestamp: timestampOf(m.control),
      truncated: m.truncated,
      control: m.control,
    };
  }

  /**
   * Sets the default peer: `send`/`recv` then use it, and datagrams from
   * others are dropped.
   *
   * @example Connect, then send without an address
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using a = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * using b = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * await a.connect({ hostname: "127.0.0.1", port: b.localAddr.port });
   * await a.send(new TextEncoder().encode("ping"));
   * console.log(await b.recv(new Uint8Array(8))); // 4
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
   * @example Allow broadcast
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using u = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * u.setBroadcast(true);
   * console.log(u.broadcast); // true
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
   * @example Set the time-to-live
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using u = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * u.setTtl(8);
   * console.log(u.ttl); // 8
   * ```
   */
  setTtl(ttl: number): void {
    const [level, name] = ttlOption(this.fd);
    this.setOption(level, name, ttl);
  }

  /** The unicast time-to-live / hop limit. */
  get ttl(): number {
    const [level, name] = ttlOption(this.fd);
    return this.getOption(level, name);
  }

  /**
   * Joins an IPv4 multicast group on the interface with address `iface`
   * (default any).
   *
   * @example Receive multicast over the loopback interface
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using rx = UdpSocket.bind({ hostname: "239.255.42.3", port: 0 }, { reuseAddr: true });
   * rx.joinMulticastV4("239.255.42.3", "127.0.0.1");
   * using tx = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * tx.setMulticastInterfaceV4("127.0.0.1");
   * await tx.sendTo(new Uint8Array([1]), { hostname: "239.255.42.3", port: rx.localAddr.port });
   * const { n } = await rx.recvFrom(new Uint8Array(8), { signal: AbortSignal.timeout(1000) });
   * console.log(n); // 1
   * ```
   */
  joinMulticastV4(group: string, iface = "0.0.0.0"): void {
    this.#mreq4(group, iface, constants.IP_ADD_MEMBERSHIP, "join");
  }

  /**
   * Leaves an IPv4 multicast group.
   *
   * @example Join, then leave
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using u = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * u.joinMulticastV4("239.255.42.4", "127.0.0.1");
   * u.leaveMulticastV4("239.255.42.4", "127.0.0.1");
   * ```
   */
  leaveMulticastV4(group: string, iface = "0.0.0.0"): void {
    this.#mreq4(group, iface, constants.IP_DROP_MEMBERSHIP, "leave");
  }

  #mreq4(group: string, iface: string, name: number, verb: string): void {
    const what = `${verb} multicast group ${group}`;
    const m = mreq4(group, iface, what);
    this.checkOpen(what, "setsockopt");
    const rc = setBytes(this.fd, constants.IPPROTO_IP, name, m);
    if (rc < 0) fail(rc, "setsockopt", `Cannot ${what}`);
  }

  /**
   * Joins an IPv6 multicast group on interface index `ifIndex` (0: the
   * system's choice).
   *
   * @example Join a link-local group on interface 1 (loopback)
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using u = UdpSocket.bind({ hostname: "::1", port: 0 });
   * u.joinMulticastV6("ff02::1:3", 1);
   * u.leaveMulticastV6("ff02::1:3", 1);
   * ```
   */
  joinMulticastV6(group: string, ifIndex = 0): void {
    this.#mreq6(group, ifIndex, constants.IPV6_JOIN_GROUP ?? constants.IPV6_ADD_MEMBERSHIP, "join");
  }

  /**
   * Leaves an IPv6 multicast group.
   *
   * @example Join, then leave
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using u = UdpSocket.bind({ hostname: "::1", port: 0 });
   * u.joinMulticastV6("ff02::1:4", 1);
   * u.leaveMulticastV6("ff02::1:4", 1);
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
    const m = mreq6(group, ifIndex, what);
    this.checkOpen(what, "setsockopt");
    const rc = setBytes(this.fd, constants.IPPROTO_IPV6, name, m);
    if (rc < 0) fail(rc, "setsockopt", `Cannot ${what}`);
  }

  /**
   * Whether IPv4 multicast sent here loops back to local listeners.
   *
   * @example Hear your own multicast
   * ```ts
   * import { constants, UdpSocket } from "@ario/ario";
   * using u = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * u.setMulticastLoopV4(true);
   * console.log(u.getOption(constants.IPPROTO_IP, constants.IP_MULTICAST_LOOP)); // 1
   * ```
   */
  setMulticastLoopV4(on: boolean): void {
    this.setOption(constants.IPPROTO_IP, constants.IP_MULTICAST_LOOP, on);
  }

  /**
   * Time-to-live of IPv4 multicast sent here.
   *
   * @example Let multicast cross a few routers
   * ```ts
   * import { constants, UdpSocket } from "@ario/ario";
   * using u = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
   * u.setMulticastTtlV4(4);
   * console.log(u.getOption(constants.IPPROTO_IP, constants.IP_MULTICAST_TTL)); // 4
   * ```
   */
  setMulticastTtlV4(ttl: number): void {
    this.setOption(constants.IPPROTO_IP, constants.IP_MULTICAST_TTL, ttl);
  }

  /**
   * Outgoing interface of IPv4 multicast, by its address.
   *
   * @example Send multicast out of loopback
   * ```ts
   * import { UdpSocket } from "@ario/ario";
   * using u = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
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
   * @example Hear your own IPv6 multicast
   * ```ts
   * import { constants, UdpSocket } from "@ario/ario";
   * using u = UdpSocket.bind({ hostname: "::1", port: 0 });
   * u.setMulticastLoopV6(true);
   * console.log(u.getOption(constants.IPPROTO_IPV6, constants.IPV6_MULTICAST_LOOP)); // 1
   * ```
   */
  setMulticastLoopV6(on: boolean): void {
    this.setOption(constants.IPPROTO_IPV6, constants.IPV6_MULTICAST_LOOP, on);
  }

  /**
   * Outgoing interface of IPv6 multicast, by index.
   *
   * @example Send IPv6 multicast out of interface 1 (loopback)
   * ```ts
   * import { constants, UdpSocket } from "@ario/ario";
   * using u = UdpSocket.bind({ hostname: "::1", port: 0 });
   * u.setMulticastInterfaceV6(1);
   * console.log(u.getOption(constants.IPPROTO_IPV6, constants.IPV6_MULTICAST_IF)); // 1
   * ```
   */
  setMulticastInterfaceV6(ifIndex: number): void {
    this.setOption(constants.IPPROTO_IPV6, constants.IPV6_MULTICAST_IF, ifIndex);
  }
}
