/**
 * ario: async I/O for Deno on any socket or fd, over a small C reactor with
 * an io_uring-shaped API (batches of ops, links, linked timeouts, cancel).
 *
 * @example Run a batch: a timeout linked to a NOP
 * ```ts
 * import { multi, op } from "@ario/ario";
 * const [fired, after] = await multi([op.timeout(1, { link: "soft" }), op.nop()]);
 * console.log(fired, after);
 * ```
 *
 * @module
 */
export { type Completion, Reactor, type ReactorOptions, sharedReactor } from "./reactor.ts";
export { addressOf, type Bytes, type RawOp } from "./sqe.ts";
export { constants, errnoError, errnoName, type IoError, type IoErrorFields } from "./errors.ts";
export { resolveHost, resolveHostSync, type ResolveOptions } from "./dns.ts";
export {
  type Addr,
  type AnyAddr,
  type AnySockAddr,
  decodeAddr,
  decodeAnyAddr,
  encodeAddr,
  familyOf,
  type InetAddr,
  type IpAddr,
  isUnix,
  type LinkAddr,
  type LinkAddrInit,
  type SockAddr,
  SOCKADDR_MAX,
  type UnixAddr,
  type UnknownAddr,
} from "./addr.ts";
export {
  type FileOptions,
  type FsyncOptions,
  type MsgOptions,
  multi,
  op,
  type OpBuilders,
  type OpenatOptions,
  POLL,
  type Received,
  type Results,
  single,
  SPLICE_F,
  type SpliceOptions,
  type SubmitOptions,
  type TeeOptions,
  type TimeoutOptions,
} from "./submit.ts";
export { type Link, type LinkOptions, Operation, type OpExtras } from "./operation.ts";
export {
  cmsgSpace,
  type ControlMessage,
  encodeControl,
  fdsOf,
  iovMax,
  type MessageReceived,
  type PacketInfo,
  parseControl,
  pktInfoOf,
  type RecvMsgOptions,
  rightsMessage,
  type SendMsgOptions,
  timestampOf,
  ttlOf,
  type VecOptions,
} from "./msg.ts";
export { BACKEND, type BackendName, FSYNC_DATASYNC, POOL_THREADS } from "./ffi/layout.ts";
export { type BufferLostError } from "./iomem.ts";
export { Async, type FromOptions, type IoOptions, type SignalOptions } from "./async.ts";
export type { PipeOptions } from "./net.ts";
export { AsyncFile, type FileIoOptions, type OpenOptions } from "./file.ts";
export { type ChunkOptions, DatagramSocket, Listener, StreamSocket } from "./socket.ts";
export type { BindOptions, ConnectOptions, ListenOptions, TcpAddr } from "./net.ts";
export { type KeepAliveOptions, TcpListener, TcpStream } from "./tcp.ts";
export { type DatagramInfo, type RecvMetadata, UdpSocket } from "./udp.ts";
export { RawSocket, type RawSocketOptions } from "./raw.ts";
export { ChildExit, type ChildExitOptions } from "./child.ts";
export { UnixDatagram, UnixListener, type UnixPath, UnixStream } from "./unix.ts";
export {
  ReactorClock,
  sharedReactorClock,
  Timer,
  type TimerClock,
  TimerEntry,
  type TimerOptions,
  VirtualClock,
  type WaitOptions,
} from "./timer.ts";
export {
  channel,
  type ReceiveOptions,
  Receiver,
  RecvError,
  Sender,
  SendError,
  TryRecvError,
} from "./channel.ts";
export { type LockOptions, Mutex, MutexGuard, RingBuffer, RingBufferClosedError } from "./sync.ts";
export { JoinHandle, runtime, spawn, TaskError, type TaskFn } from "./task.ts";
export { type PoolWorker, poolWorker, WorkerPool, type WorkerPoolOptions } from "./workers.ts";
