/**
 * Layouts and constants of `csrc/include/ario.h`: the one TypeScript copy,
 * checked against the header by `tests/abi_test.ts`.
 *
 * @module
 */

/** ABI version this binding was written for (`ARIO_ABI_VERSION`). */
export const ABI_VERSION = 1;

/** `ario_sqe`: 48 bytes. Byte offsets of its fields. */
export const SQE = {
  size: 48,
  op: 0,
  flags: 1,
  reserved: 2,
  fd: 4,
  addr: 8,
  addr2: 16,
  len: 24,
  op_flags: 28,
  off: 32,
  user_data: 40,
} as const;

/** `ario_cqe`: 16 bytes. */
export const CQE = { size: 16, user_data: 0, res: 8, flags: 12 } as const;

/** `ARIO_CQE_F_*` flags. */
export const CQE_F = { BUFFER: 0x01, MORE: 0x02 } as const;

/** `ARIO_CQE_BUFFER_SHIFT`: a completion's provided-buffer id is `flags >>> 16`. */
export const CQE_BUFFER_SHIFT = 16;

/** `ario_buf`: 16 bytes, one entry of a provided-buffer ring. */
export const BUF = { size: 16, addr: 0, len: 8, bid: 12, resv: 14 } as const;

/** `ARIO_BUFFER_GROUPS` (hosts) and `ARIO_BUFFER_RING_MAX`. */
export const BUFFER_GROUPS = 8;
/** The most entries one provided-buffer ring has (`ARIO_BUFFER_RING_MAX`). */
export const BUFFER_RING_MAX = 32768;

/** `ario_params`: 16 bytes. */
export const PARAMS = {
  size: 16,
  entries: 0,
  backend: 4,
  flags: 8,
  reserved: 12,
} as const;

/** `ario_link_addr`: 20 bytes, a link-layer (AF_PACKET) address in host byte order. */
export const LINK_ADDR = {
  size: 20,
  ifindex: 0,
  protocol: 4,
  hatype: 6,
  pkttype: 8,
  halen: 9,
  addr: 10,
  reserved: 18,
} as const;

/** `enum ario_op`. */
export const OP = {
  NOP: 0,
  READ: 1,
  WRITE: 2,
  RECV: 3,
  SEND: 4,
  RECVFROM: 5,
  SENDTO: 6,
  ACCEPT: 7,
  CONNECT: 8,
  CLOSE: 9,
  SHUTDOWN: 10,
  POLL: 11,
  TIMEOUT: 12,
  LINK_TIMEOUT: 13,
  CANCEL: 14,
  SOCKET: 15,
  READV: 16,
  WRITEV: 17,
  RECVMSG: 18,
  SENDMSG: 19,
  OPENAT: 20,
  FSYNC: 21,
  SPLICE: 22,
  ACCEPT_MULTI: 23,
  TEE: 24,
  RECV_MULTI: 25,
} as const;

/** `ario_iovec`: 16 bytes (LP64 Linux's struct iovec). */
export const IOVEC = { size: 16, base: 0, len: 8 } as const;

/** `ario_msghdr`: 56 bytes (LP64 Linux's struct msghdr). */
export const MSGHDR = {
  size: 56,
  name: 0,
  namelen: 8,
  iov: 16,
  iovlen: 24,
  control: 32,
  controllen: 40,
  flags: 48,
} as const;

/** `ARIO_SQE_*` flags. */
export const SQE_FLAG = { LINK: 0x01, HARDLINK: 0x02 } as const;

/** `ARIO_POLL_*` masks. */
export const POLL = {
  IN: 0x001,
  PRI: 0x002,
  OUT: 0x004,
  ERR: 0x008,
  HUP: 0x010,
} as const;

/** `ARIO_TIMEOUT_*` and `ARIO_CANCEL_*` op flags. */
export const TIMEOUT_ABS = 0x01;
/** `ARIO_CANCEL_*` flags. */
export const CANCEL = { ALL: 0x01, FD: 0x02, ANY: 0x04 } as const;

/** `ARIO_SPLICE_F_*` op flags of SPLICE and TEE (Linux's `SPLICE_F_*`). */
export const SPLICE_F = { MOVE: 0x01, NONBLOCK: 0x02, MORE: 0x04 } as const;

/** `ARIO_FSYNC_DATASYNC`: FSYNC as fdatasync. */
export const FSYNC_DATASYNC = 0x01;

/** `ARIO_POOL_THREADS`: the most threads a loop's file pool runs (readiness backends). */
export const POOL_THREADS = 4;

/** `ARIO_OFF_CURRENT`: READ/WRITE at the file position; SPLICE: no offset. */
export const OFF_CURRENT = 0xFFFF_FFFF_FFFF_FFFFn;

/** `enum ario_backend_id`. */
export const BACKEND = {
  default: 0,
  io_uring: 1,
  epoll: 2,
  poll: 3,
  select: 4,
  kqueue: 5,
  windows: 6,
  /** Deterministic simulation over poll, driven by `ARIO_SIM_SEED` / `ARIO_SIM_FAULTS` (hosts). */
  sim: 7,
  /** `ARIO_BARE` builds only: the firmware's own readiness backend (never on a host). */
  bare: 8,
} as const;

/** Name of a backend. */
export type BackendName = Exclude<keyof typeof BACKEND, "default">;
