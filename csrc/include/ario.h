/*
 * ario.h: the C ABI of the ario reactor, shared by the Deno binding and by
 * firmware. One header, no inline functions: every function here is an
 * exported symbol that Deno's FFI can call.
 *
 * Model (io_uring-shaped): fill submission entries (ario_sqe), hand a batch
 * to ario_submit(), then reap completion entries (ario_cqe) with
 * ario_reap(). Every consumed submission yields exactly one completion whose
 * `res` is the op's result or a negative errno.
 *
 * Memory: the reactor never allocates. ario_init() carves everything out of
 * one caller-provided block of ario_mem_size() bytes (a static array on a
 * microcontroller, a buffer handed in once on a host).
 */
#ifndef ARIO_H
#define ARIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define ARIO_API __declspec(dllexport)
#else
#define ARIO_API __attribute__((visibility("default")))
#endif

/* Bumped whenever a struct layout or a symbol below changes. */
#define ARIO_ABI_VERSION 1

/* ---------------------------------------------------------------- ops -- */

/* Submission opcodes (ario_sqe.op). Field use per op, beyond fd and
 * user_data (a field an op does not list must be 0: -EINVAL otherwise):
 *   NOP          -
 *   READ, WRITE  addr=buffer, len, off=file offset or ARIO_OFF_CURRENT
 *   RECV, SEND   addr=buffer, len, op_flags=MSG_* (platform values)
 *   RECVFROM     addr=buffer, len, addr2=sockaddr out (may be 0),
 *                off=pointer to uint32 address length (in: capacity, out:
 *                actual), op_flags=MSG_*
 *   SENDTO       addr=buffer, len, addr2=sockaddr, off=address length,
 *                op_flags=MSG_*
 *   ACCEPT       addr=sockaddr out (may be 0), addr2=pointer to uint32
 *                length (in/out); the accepted fd is non-blocking and
 *                close-on-exec; res is the new fd
 *   ACCEPT_MULTI -  (multishot ACCEPT: one completion per connection, res
 *                the new fd, flagged ARIO_CQE_F_MORE while the op goes
 *                on; its last completion, without the flag, is an error
 *                (-ECANCELED once cancelled or its fd closed) or, when
 *                completions backed up (io_uring's CQ overflowed), one
 *                more fd: submit it again. No peer address; it may end
 *                a chain but not link on (a link flag: -EINVAL); it
 *                holds its slot until its last completion is reaped)
 *   CONNECT      addr=sockaddr, len=address length
 *   CLOSE        -  (first cancels every pending op on fd with -ECANCELED)
 *   SHUTDOWN     len=how (0 read, 1 write, 2 both)
 *   POLL         op_flags=ARIO_POLL_* mask; res is the ready mask
 *   TIMEOUT      off=nanoseconds (relative, or absolute on the monotonic
 *                clock with ARIO_TIMEOUT_ABS), len=completion count (0 =
 *                pure timer); res -ETIME when the deadline passes, 0 when
 *                the count is reached first; fd is ignored (-1)
 *   LINK_TIMEOUT off=nanoseconds (relative or ARIO_TIMEOUT_ABS); bounds the
 *                op before it, which must carry ARIO_SQE_LINK/HARDLINK
 *   CANCEL       addr=user_data of the target, or fd with ARIO_CANCEL_FD
 *                (addr 0), or neither with ARIO_CANCEL_ANY (addr 0);
 *                op_flags=ARIO_CANCEL_*; res 0 (or the count with
 *                ARIO_CANCEL_ALL), -ENOENT, -EALREADY (the target runs on
 *                the file pool: it completes with its own result)
 *   SPLICE       (Linux; elsewhere -EOPNOTSUPP) moves up to len bytes from
 *                fd_in to fd (fd_out) without a copy through user memory;
 *                one of the two must be a pipe. addr=fd_in (0..INT32_MAX),
 *                addr2=offset in fd_in, off=offset in fd_out (each
 *                ARIO_OFF_CURRENT for none: the file position, and the only
 *                value a pipe or socket takes), len, op_flags=ARIO_SPLICE_F_*;
 *                res is the count moved (0: end of input; a short count
 *                fails a soft link, as in the kernel). Waits for fd_in to be
 *                readable or fd_out writable, whichever blocks it (fds must
 *                be non-blocking, as ario's are). CLOSE and CANCEL with
 *                ARIO_CANCEL_FD find it by either fd (the kernel's cancel
 *                by fd knows only the file it waits on at that moment).
 *                io_uring: one with a link flag may complete -EAGAIN when
 *                what woke it went to another op first (an unlinked one
 *                waits again, as on every readiness backend).
 *                Readiness backends splice a regular-file end in the loop
 *                thread (not the file pool): a disk read may block it.
 *   TEE          (Linux; elsewhere -EOPNOTSUPP) duplicates up to len bytes
 *                of pipe fd_in into pipe fd (fd_out) without consuming
 *                them (tee(2)). addr=fd_in (0..INT32_MAX), len,
 *                op_flags=ARIO_SPLICE_F_*; no offsets (addr2 and off must
 *                be 0: -EINVAL, as io_uring's prep). res is the count
 *                duplicated (0: fd_in is empty and has no writer left; a
 *                short count fails a soft link); -EINVAL unless both ends
 *                are pipes, and distinct ones. Waits, is found by CANCEL
 *                and CLOSE, and behaves on io_uring as SPLICE does.
 *   SOCKET       fd=domain (AF_*), off=type (SOCK_*; SOCK_NONBLOCK and
 *                SOCK_CLOEXEC may be or'ed in where the platform has them,
 *                both are implied), len=protocol (IPPROTO_*, ETH_P_* in
 *                network order for AF_PACKET, or 0), as io_uring's
 *                IORING_OP_SOCKET; res is the new fd, non-blocking and
 *                close-on-exec (SO_NOSIGPIPE where it exists), or the
 *                socket(2) errno (-EAFNOSUPPORT, -EINVAL, -EPROTONOSUPPORT,
 *                -EPERM, -EMFILE...); off above UINT32_MAX, or (Linux)
 *                flag bits in the type other than those two: -EINVAL
 *                before it runs (as io_uring's prep: its chain is
 *                cancelled even through a hard link); -EOPNOTSUPP where
 *                the platform has no sockets (bare MCU)
 *   OPENAT       fd=directory (any value: the platform's AT_FDCWD, see
 *                ario_constant, or ignored for an absolute path), addr=NUL-terminated path,
 *                op_flags=O_* open flags (platform values; O_CLOEXEC is
 *                always added), len=mode (with O_CREAT/O_TMPFILE); res is
 *                the new fd. An empty path: -ENOENT
 *   FSYNC        op_flags=ARIO_FSYNC_* (0: fsync, DATASYNC: fdatasync)
 *   RECV_MULTI   len=buffer group (0..ARIO_BUFFER_GROUPS-1, see
 *                ario_buffers_register), op_flags=MSG_* (as RECV, without
 *                MSG_WAITALL or MSG_PEEK: -EINVAL). Multishot RECV into provided
 *                buffers: each chunk that arrives takes the next buffer of
 *                the group's ring and completes with res = its byte count
 *                and flags ARIO_CQE_F_BUFFER | bid << ARIO_CQE_BUFFER_SHIFT,
 *                plus ARIO_CQE_F_MORE while the op goes on. The buffer is
 *                the caller's until given back (ario_buffers_give). The
 *                last completion, without MORE: 0 at end of stream (no
 *                buffer taken), -ENOBUFS when data came and the ring was
 *                empty (or the group is not registered), -ECANCELED, the
 *                recv errno, or (io_uring, completions backed up) one more
 *                chunk with its buffer: submit it again. Links as
 *                ACCEPT_MULTI: it may end a chain but not link on; it holds
 *                its slot until its last completion is reaped
 *
 * Files. io_uring runs these natively. Readiness backends cannot poll a
 * regular file (epoll answers EPERM, poll calls it always ready and the
 * read would block the loop), so OPENAT, FSYNC, and READ[V]/WRITE[V] on a
 * regular file, block device or directory (fstat at start) run on the
 * loop's file pool: at most ARIO_POOL_THREADS threads, created on the
 * first such op, stopped and joined by ario_deinit(). Completions come
 * back through ario_reap() like any other, so links, linked timeouts and
 * CANCEL apply: a job still queued is cancelled (-ECANCELED), a running
 * one is not (CANCEL answers -EALREADY, as the kernel's for a running
 * io-wq op, and the op completes with its result). CLOSE of an fd a
 * running job uses defers the close(2) (and its completion) until the job
 * finished, so the number is never reused under it; ario_close() waits for
 * that job instead (a file read or write: bounded). Queued jobs on the fd
 * are cancelled either way.
 * A pool OPENAT never waits inside open(2) (a FIFO without a peer): it
 * opens as with O_NONBLOCK (a write-only FIFO without a reader: -ENXIO),
 * then clears O_NONBLOCK unless asked for. POSIX hosts only: on Windows
 * (descriptors are sockets) and MCU builds OPENAT and FSYNC complete with
 * -EOPNOTSUPP.
 *   READV,       addr=ario_iovec array, len=count (at most ARIO_IOV_MAX),
 *   WRITEV       off=file offset or ARIO_OFF_CURRENT; res = bytes (like
 *                READ/WRITE: readiness backends wait for the fd first)
 *   RECVMSG,     addr=ario_msghdr, op_flags=MSG_* (as RECV, without
 *   SENDMSG      MSG_WAITALL: -EINVAL; RECVMSG also takes MSG_CMSG_CLOEXEC,
 *                and received descriptors are close-on-exec whether it is
 *                given or not); res = bytes. RECVMSG writes back namelen,
 *                controllen and flags (MSG_TRUNC, MSG_CTRUNC) as
 *                recvmsg(2). Control messages where the platform has them
 *                (POSIX hosts); on Windows and lwIP a controllen other than
 *                0 fails with -EOPNOTSUPP.
 */
enum ario_op {
  ARIO_OP_NOP = 0,
  ARIO_OP_READ = 1,
  ARIO_OP_WRITE = 2,
  ARIO_OP_RECV = 3,
  ARIO_OP_SEND = 4,
  ARIO_OP_RECVFROM = 5,
  ARIO_OP_SENDTO = 6,
  ARIO_OP_ACCEPT = 7,
  ARIO_OP_CONNECT = 8,
  ARIO_OP_CLOSE = 9,
  ARIO_OP_SHUTDOWN = 10,
  ARIO_OP_POLL = 11,
  ARIO_OP_TIMEOUT = 12,
  ARIO_OP_LINK_TIMEOUT = 13,
  ARIO_OP_CANCEL = 14,
  ARIO_OP_SOCKET = 15,
  ARIO_OP_READV = 16,
  ARIO_OP_WRITEV = 17,
  ARIO_OP_RECVMSG = 18,
  ARIO_OP_SENDMSG = 19,
  ARIO_OP_OPENAT = 20,
  ARIO_OP_FSYNC = 21,
  ARIO_OP_SPLICE = 22,
  ARIO_OP_ACCEPT_MULTI = 23,
  ARIO_OP_TEE = 24,
  ARIO_OP_RECV_MULTI = 25,
  ARIO_OP_COUNT_ = 26
};

/* ario_sqe.flags */
#define ARIO_SQE_LINK 0x01u     /* next op runs only if this one succeeds */
#define ARIO_SQE_HARDLINK 0x02u /* next op runs whatever this one returns */

/* ario_sqe.off for READ/WRITE: use (and advance) the file position. */
#define ARIO_OFF_CURRENT UINT64_MAX

/* op_flags of POLL, and its result (Linux poll(2) values on every target). */
#define ARIO_POLL_IN 0x001u
#define ARIO_POLL_PRI 0x002u
#define ARIO_POLL_OUT 0x004u
#define ARIO_POLL_ERR 0x008u
#define ARIO_POLL_HUP 0x010u

/* op_flags of TIMEOUT and LINK_TIMEOUT */
#define ARIO_TIMEOUT_ABS 0x01u /* off is a CLOCK_MONOTONIC deadline in ns */

/* op_flags of CANCEL */
#define ARIO_CANCEL_ALL 0x01u /* every match, res = how many */
#define ARIO_CANCEL_FD 0x02u  /* match on fd instead of user_data */
#define ARIO_CANCEL_ANY 0x04u /* match any op */

/* op_flags of SPLICE and TEE (Linux's SPLICE_F_* values on every target). NONBLOCK
 * changes nothing: ario always splices without blocking its thread. */
#define ARIO_SPLICE_F_MOVE 0x01u     /* a hint: move pages instead of copying */
#define ARIO_SPLICE_F_NONBLOCK 0x02u /* accepted; always in effect */
#define ARIO_SPLICE_F_MORE 0x04u     /* more data follows (TCP_CORK-like) */

/* op_flags of FSYNC (IORING_FSYNC_DATASYNC) */
#define ARIO_FSYNC_DATASYNC 0x01u /* fdatasync: data, not every metadata change */

/* Threads a loop's file pool runs at most (readiness backends, hosts). */
#define ARIO_POOL_THREADS 4u

/* ario_cqe.flags (io_uring's IORING_CQE_F_* values) */
#define ARIO_CQE_F_BUFFER 0x01u /* the high 16 bits name the provided buffer used */
#define ARIO_CQE_F_MORE 0x02u   /* a multishot op goes on: more completions follow */
#define ARIO_CQE_BUFFER_SHIFT 16

/* Submission entry: 48 bytes, naturally aligned, same on every target.
 * Addresses are carried in 64-bit fields so the layout does not depend on
 * the pointer size. */
typedef struct ario_sqe {
  uint8_t op;        /*  0 enum ario_op */
  uint8_t flags;     /*  1 ARIO_SQE_* */
  uint16_t reserved; /*  2 must be 0 */
  int32_t fd;        /*  4 descriptor, or -1 where none */
  uint64_t addr;     /*  8 buffer or sockaddr address */
  uint64_t addr2;    /* 16 second address (see the op table) */
  uint32_t len;      /* 24 buffer or address length, count, how */
  uint32_t op_flags; /* 28 per-op flags */
  uint64_t off;      /* 32 offset, nanoseconds, length pointer */
  uint64_t user_data; /* 40 returned untouched in the completion */
} ario_sqe;

/* One buffer of READV/WRITEV/RECVMSG/SENDMSG: 16 bytes, LP64 Linux's
 * struct iovec. */
typedef struct ario_iovec {
  uint64_t base; /* 0 address */
  uint64_t len;  /* 8 bytes */
} ario_iovec;

/* RECVMSG/SENDMSG's message: 56 bytes, laid out as LP64 Linux's struct
 * msghdr (64-bit io_uring hands it to the kernel as is; other targets
 * convert it on the stack). Pads are ignored. */
typedef struct ario_msghdr {
  uint64_t name;       /*  0 sockaddr: RECVMSG's sender out (may be 0), SENDMSG's destination */
  uint32_t namelen;    /*  8 in: capacity or length; out (RECVMSG): the sender's length */
  uint32_t pad0;       /* 12 */
  uint64_t iov;        /* 16 ario_iovec array */
  uint64_t iovlen;     /* 24 count, at most ARIO_IOV_MAX */
  uint64_t control;    /* 32 control messages (struct cmsghdr, the platform's layout) */
  uint64_t controllen; /* 40 in: capacity or length; out (RECVMSG): bytes written */
  int32_t flags;       /* 48 out (RECVMSG): MSG_TRUNC, MSG_CTRUNC, MSG_EOR, MSG_OOB */
  uint32_t pad1;       /* 52 */
} ario_msghdr;

/* Most iovecs one op takes (more: -EINVAL on every backend). Readiness
 * backends and 32-bit targets convert the array on the stack (16 B each
 * on hosts, 1 KiB for 64): far below the kernel's UIO_MAXIOV (1024), which
 * would cost 16 KiB of stack, and above what a vectored write of headers
 * and body needs. MCU builds, with small stacks, take 8. */
#if defined(ARIO_BARE) || defined(ARIO_LWIP)
#define ARIO_IOV_MAX 8u
#else
#define ARIO_IOV_MAX 64u
#endif

/* Completion entry: 16 bytes. */
typedef struct ario_cqe {
  uint64_t user_data; /*  0 from the submission */
  int32_t res;        /*  8 result, or -errno */
  uint32_t flags;     /* 12 ARIO_CQE_F_* */
} ario_cqe;

/* ------------------------------------------------------------- the loop -- */

/* Backends (ario_params.backend, ario_backend()). */
enum ario_backend_id {
  ARIO_BACKEND_DEFAULT = 0, /* the build's choice; ARIO_BACKEND env overrides */
  ARIO_BACKEND_IO_URING = 1,
  ARIO_BACKEND_EPOLL = 2,
  ARIO_BACKEND_POLL = 3,
  ARIO_BACKEND_SELECT = 4,
  ARIO_BACKEND_KQUEUE = 5,
  ARIO_BACKEND_WINDOWS = 6,
  ARIO_BACKEND_SIM = 7, /* deterministic simulation over poll (host builds; backend/sim.c) */
  ARIO_BACKEND_BARE = 8 /* ARIO_BARE builds only: the firmware's own readiness backend
                           (ario__backend_bare; the MCU tests' is tests/mcu/bare/pipe_dev.c) */
};

/* Loop parameters: 16 bytes. */
typedef struct ario_params {
  uint32_t entries; /* 0 in-flight op capacity (ops, timers, fds alike), 1..ARIO_ENTRIES_MAX */
  uint32_t backend; /* 4 enum ario_backend_id */
  uint32_t flags;   /* 8 reserved, 0 */
  uint32_t reserved; /* 12 reserved, 0 */
} ario_params;

typedef struct ario_loop ario_loop;

/* Op-table slots beyond `entries` that only CANCEL and CLOSE may take, so a
 * table full of idle ops never blocks them (see ario_submit), and the
 * largest `entries` (op indexes are 16-bit on hosts, 8-bit on MCU builds). */
#if defined(ARIO_BARE) || defined(ARIO_LWIP)
#define ARIO_RESERVED_SLOTS 2u
#define ARIO_ENTRIES_MAX 128u
#else
#define ARIO_RESERVED_SLOTS 16u
#define ARIO_ENTRIES_MAX (65534u - ARIO_RESERVED_SLOTS) /* 65518 */
#endif

/* Bytes of memory ario_init() needs for these parameters (0 if invalid). */
ARIO_API size_t ario_mem_size(const ario_params *params);

/* Initialises a loop in `mem` (aligned to 16 bytes, ario_mem_size() long).
 * Returns 0 or -errno (-EINVAL bad parameters, -ENOMEM block too small,
 * -ENOSYS backend not built in, or the backend's own error). */
ARIO_API int ario_init(void *mem, size_t mem_len, const ario_params *params);

/* Static loop memory for microcontroller builds (compiled with ARIO_BARE or
 * ARIO_LWIP, which use compact tables: at most 128 entries, descriptors
 * below 32768). ARIO_MEM_SIZE(entries) is a compile-time upper bound of
 * ario_mem_size() (the core checks its constants at compile time; the
 * backend's share is ARIO_BACKEND_MEM, which ario_init() checks with
 * -ENOMEM). No heap, nothing to free:
 *
 *   ARIO_LOOP_STATIC(loop_mem, 16);   // static, zero-initialised, in .bss
 *   ario_params p = {.entries = 16};
 *   int rc = ario_init(loop_mem, sizeof loop_mem, &p);
 *   ario_loop *loop = (ario_loop *)loop_mem;
 */
#if defined(ARIO_BARE) || defined(ARIO_LWIP)
#ifndef ARIO_BACKEND_MEM
#if defined(ARIO_LWIP)
#define ARIO_BACKEND_MEM 128 /* select backend: 9 fd_sets of FD_SETSIZE 64 */
#else
#define ARIO_BACKEND_MEM 0 /* the bare harness keeps interest in the core */
#endif
#endif
#if defined(ARIO_LWIP) /* + the doorbell's state */
#define ARIO_MEM_LOOP_BYTES (80u + 10u * sizeof(void *)) /* 120 B on 32-bit, 160 B on 64-bit */
#else
#define ARIO_MEM_LOOP_BYTES (56u + 13u * sizeof(void *)) /* 108 B on 32-bit, 160 B on 64-bit */
#endif
#define ARIO_MEM_OP_BYTES (32u + 4u * sizeof(void *))
#define ARIO_MEM_FD_BYTES 8u
#define ARIO_MEM_CQE_BYTES 8u
#define ARIO__A16(n) (((n) + 15u) & ~(size_t)15u)
#define ARIO__S1(x) ((x) | ((x) >> 1))
#define ARIO__S2(x) (ARIO__S1(x) | (ARIO__S1(x) >> 2))
#define ARIO__S4(x) (ARIO__S2(x) | (ARIO__S2(x) >> 4))
#define ARIO__P2(n) (ARIO__S4((size_t)(n) - 1u) + 1u) /* n <= 256 */
#define ARIO__NSLOTS(entries) ((size_t)(entries) + ARIO_RESERVED_SLOTS)
#define ARIO_MEM_SIZE(entries)                                            \
  (ARIO__A16(ARIO_MEM_LOOP_BYTES) +                                       \
   ARIO__A16(ARIO__NSLOTS(entries) * ARIO_MEM_OP_BYTES) +                  \
   ARIO__A16(ARIO__P2(ARIO__NSLOTS(entries)) * ARIO_MEM_FD_BYTES) +        \
   ARIO__A16(ARIO__P2(ARIO__NSLOTS(entries) + 1u) * ARIO_MEM_CQE_BYTES) +  \
   ARIO__A16(ARIO__NSLOTS(entries)) + ARIO__A16((size_t)ARIO_BACKEND_MEM))
#if defined(__GNUC__) || defined(__clang__)
#define ARIO_LOOP_STATIC(name, entries) \
  static unsigned char name[ARIO_MEM_SIZE(entries)] __attribute__((aligned(16)))
#else
#define ARIO_LOOP_STATIC(name, entries) \
  static _Alignas(16) unsigned char name[ARIO_MEM_SIZE(entries)]
#endif
#endif

/* Stops the waiter thread if one runs, completes nothing further, and
 * releases the backend's descriptors. Pending ops are dropped. */
ARIO_API void ario_deinit(ario_loop *loop);

/* The backend this loop runs (enum ario_backend_id). */
ARIO_API int ario_backend(const ario_loop *loop);

/* Consumes up to n entries. Each consumed entry yields exactly one
 * completion. Stops early, before a whole chain, when the op table cannot
 * hold it. Returns how many were consumed (0..n).
 *
 * Capacity: at most `entries` ops other than CANCEL and CLOSE are in
 * flight (consumed, not yet reaped). CANCEL and CLOSE may also take the
 * ARIO_RESERVED_SLOTS slots kept for them, so with `entries` idle ops
 * pending a CANCEL (by user_data, by fd, ANY, ALL) or CLOSE at the head of
 * a batch is always consumed while fewer than ARIO_RESERVED_SLOTS of them
 * await reaping (a chain made only of CANCEL and CLOSE counts the same).
 * Entries after one that does not fit are not consumed: put cancels first.
 *
 * Validation (the entry completes with the errno, its chain with
 * -ECANCELED): unknown op, flags or per-op op_flags, reserved != 0, or a
 * field the op does not read (the table above) that is not 0: -EINVAL; the
 * fd of an op that takes none (NOP, TIMEOUT, LINK_TIMEOUT, CANCEL without
 * ARIO_CANCEL_FD) is ignored (SOCKET's fd is its domain). READ/WRITE off
 * above INT64_MAX other than ARIO_OFF_CURRENT, a buffer len above
 * INT32_MAX, a CONNECT len or SENDTO off above 128 (sockaddr_storage),
 * RECV/SEND/RECVFROM/SENDTO op_flags beyond MSG_OOB, PEEK, DONTROUTE,
 * DONTWAIT, WAITALL, TRUNC, NOSIGNAL, MORE, EOR, CONFIRM (MSG_ERRQUEUE
 * would poll readable and never succeed), CANCEL with both FD and ANY,
 * TIMEOUT/LINK_TIMEOUT off above INT64_MAX, SOCKET off above UINT32_MAX
 * and (Linux) a SOCKET type with flag bits other than SOCK_NONBLOCK and
 * SOCK_CLOEXEC, READV/WRITEV/RECVMSG/SENDMSG with more than ARIO_IOV_MAX
 * iovecs or more than INT32_MAX bytes in all, RECVMSG/SENDMSG with
 * MSG_WAITALL, RECV_MULTI with MSG_WAITALL or MSG_PEEK or a group of
 * ARIO_BUFFER_GROUPS or more: -EINVAL. A relative timeout that passes INT64_MAX ns
 * when added to now saturates (it never fires).
 * A NULL buffer with a length, CONNECT without an address, SENDTO without
 * addr2, ACCEPT with an address but no length pointer, RECVMSG/SENDMSG
 * without a msghdr, an iovec array of 0 with a count, an iovec base of 0
 * with a length: -EFAULT. A missing
 * fd: -EBADF. */
ARIO_API int ario_submit(ario_loop *loop, const ario_sqe *sqes, uint32_t n);

/* Runs the loop once: waits at most timeout_ns (0: do not block, <0: until
 * something completes) for I/O or timers, performs the ready I/O, then
 * copies up to `max` completions to `out`. Returns the count, or -errno. */
ARIO_API int ario_reap(ario_loop *loop, ario_cqe *out, uint32_t max,
                       int64_t timeout_ns);

/* Ops consumed and not yet reaped. */
ARIO_API uint32_t ario_inflight(const ario_loop *loop);

/* Nanoseconds on the monotonic clock the loop uses for deadlines. */
ARIO_API int64_t ario_now(void);

/* -------------------------------------------------- waking another thread -- */

/* Blocks until the loop probably has work (ready I/O, a due timer, a
 * completion waiting to be reaped) or ario_wake() is called, at most
 * timeout_ns (<0: no limit). Safe to call from one other thread while the
 * owner thread submits. Returns 1 when woken by work or ario_wake(), 0 on
 * timeout. Does not perform I/O. */
ARIO_API int ario_wait(ario_loop *loop, int64_t timeout_ns);

/* Makes ario_wait() (and the doorbell) return `lead_ns` before the earliest
 * timer is due, so the owner can wait the rest itself (ario_reap with the
 * ario_timer_due_in() bound) instead of paying a thread hop after the
 * deadline. 0 (the default): at the deadline. Owner thread. Hosts only
 * (elsewhere it does nothing). */
ARIO_API void ario_set_timer_lead(ario_loop *loop, int64_t lead_ns);

/* Nanoseconds until the loop's earliest timer is due (0: due now);
 * INT64_MAX without timers. This and ario_set_timer_lead() come with the
 * doorbell (bell.c): hosts and lwIP, not bare builds. */
ARIO_API int64_t ario_timer_due_in(const ario_loop *loop);

/* Asks for precise timed waits on the calling thread: on Linux, a timer
 * slack of 1 ns instead of the 50 us the kernel adds to a sleeping thread's
 * deadline by default. Nothing elsewhere. */
ARIO_API void ario_precise_waits(void);

/* Interrupts ario_wait() from any thread. */
ARIO_API void ario_wake(ario_loop *loop);

/* Doorbell thread (hosts with threads): a thread that, each time the loop is
 * armed, waits like ario_wait() and then calls `bell` once. Returns 0 or
 * -errno. `bell` must be quick (set a flag, return). */
ARIO_API int ario_bell_start(ario_loop *loop, void (*bell)(void));

/* Asks for one ring of the doorbell when work is ready (or at once if some
 * is). Call after reaping everything. */
ARIO_API void ario_bell_arm(ario_loop *loop);

/* Stops and joins the doorbell thread; after it returns, bell() is never
 * called again. Safe to call twice. Waits up to 50 ms for a thread leaving
 * bell(); returns 0, or -EBUSY if the thread is still blocked inside `bell`
 * (its owner has not run it: let the owner run, then call again). */
ARIO_API int ario_bell_stop(ario_loop *loop);

/* The process is about to exit with `status` because of an uncaught error
 * (the owner cannot run bell() any more; -1 withdraws). Until withdrawn, no
 * doorbell thread enters bell() (an armed one rings after the withdrawal),
 * nor does any once exit() has begun. Returns how many doorbell threads are
 * inside bell(), or committed to entering it, now: if none, the owner's own
 * teardown is safe; if some, the owner must leave another way (Deno.exit),
 * and should the process reach exit() anyway it ends with _exit(status)
 * instead of tearing down under them. */
ARIO_API int ario_bell_exiting(int status);

/* --------------------------------------------------- provided buffers -- */
/* A buffer group (io_uring's provided-buffer ring): a ring of `entries`
 * ario_buf descriptors in caller memory (entries * 16 bytes, aligned to
 * 4096 on Linux, where the kernel reads it: ario_mem_alloc of 4096 bytes or
 * more is), into which the caller gives buffers and from which RECV_MULTI
 * takes one per chunk, in the order given. A buffer taken is named in its
 * completion (ARIO_CQE_F_BUFFER, bid) and belongs to the caller until
 * given back. The ring and every buffer in it must stay valid until the
 * group is unregistered. Owner thread only, like ario_submit. */
#if defined(ARIO_BARE) || defined(ARIO_LWIP)
#define ARIO_BUFFER_GROUPS 1u
#else
#define ARIO_BUFFER_GROUPS 8u
#endif
#define ARIO_BUFFER_RING_MAX 32768u /* entries of one ring, at most (a power of two) */

/* One ring entry: 16 bytes, io_uring's struct io_uring_buf. The first
 * entry's `resv` holds the ring's tail (written by ario_buffers_give). */
typedef struct ario_buf {
  uint64_t addr; /*  0 buffer */
  uint32_t len;  /*  8 its size */
  uint16_t bid;  /* 12 the id its completion carries */
  uint16_t resv; /* 14 (entry 0: the tail) */
} ario_buf;

/* Registers group `group` (0..ARIO_BUFFER_GROUPS-1) over `ring`, empty.
 * 0, or -EINVAL (group out of range, entries not a power of two in
 * 1..ARIO_BUFFER_RING_MAX, ring NULL or misaligned), -EEXIST (registered
 * already), or the kernel's errno (io_uring). */
ARIO_API int ario_buffers_register(ario_loop *loop, uint32_t group, ario_buf *ring,
                                   uint32_t entries);

/* Unregisters a group: 0, -ENOENT (not registered), -EBUSY while a
 * RECV_MULTI on it is in flight (so nothing writes into its buffers after
 * this returns 0). */
ARIO_API int ario_buffers_unregister(ario_loop *loop, uint32_t group);

/* Gives a buffer to a group's ring (at its tail: RECV_MULTI uses buffers
 * in the order given): 0, -ENOENT, or -EINVAL (addr 0, len 0 or above
 * INT32_MAX, bid above 0xFFFF). At most `entries` may be in the ring at
 * once: each buffer is given once, and again only after its completion
 * (more would overwrite one not yet used). */
ARIO_API int ario_buffers_give(ario_loop *loop, uint32_t group, uint64_t addr, uint32_t len,
                               uint32_t bid);

/* ------------------------------------------------------ host memory -- */
/* Memory a binding hands to C that its own runtime can never free, move or
 * shrink (a garbage-collected runtime may do all three to its buffers, and
 * a terminated Worker frees them while the kernel may still write). Hosts
 * only; the core itself never allocates. ario_mem_alloc returns `size`
 * zeroed bytes aligned to 64 (to 4096 from 4096 bytes up), or NULL; ario_mem_free(NULL) does nothing. */
ARIO_API void *ario_mem_alloc(size_t size);
ARIO_API void ario_mem_free(void *mem);

/* ------------------------------------------------------- plain calls -- */
/* Thin wrappers over the platform's sockets API so a binding needs no libc
 * of its own. Each returns the result or -errno. */

ARIO_API int ario_socket(int domain, int type, int protocol); /* non-blocking, cloexec */
ARIO_API int ario_socketpair(int domain, int type, int protocol, int32_t fds[2]);
ARIO_API int ario_bind(int fd, const void *addr, uint32_t addrlen);
ARIO_API int ario_listen(int fd, int backlog);
ARIO_API int ario_getsockname(int fd, void *addr, uint32_t *addrlen);
ARIO_API int ario_getpeername(int fd, void *addr, uint32_t *addrlen);
ARIO_API int ario_setsockopt(int fd, int level, int name, const void *val,
                             uint32_t len);
ARIO_API int ario_getsockopt(int fd, int level, int name, void *val,
                             uint32_t *len);
/* Closes fd after dropping it from `loop` (may be NULL): ops waiting on it
 * complete with -ECANCELED (a file pool job running on it is waited for). Close watched fds this way or with CLOSE, never
 * behind the loop's back (as with epoll, a reused number would confuse it). */
ARIO_API int ario_close(ario_loop *loop, int fd);
ARIO_API int ario_set_nonblocking(int fd, int on);
ARIO_API int ario_pipe(int32_t fds[2]); /* non-blocking, cloexec */
/* Sets the capacity of pipe fd (Linux F_SETPIPE_SZ; the kernel rounds it up
 * to a power of two pages). Returns the new capacity, or -errno (-EPERM
 * above /proc/sys/fs/pipe-max-size unprivileged); -EOPNOTSUPP elsewhere. */
ARIO_API int ario_pipe_size(int fd, uint32_t size);
/* A pidfd for process `pid` (Linux 5.3+: pidfd_open), close-on-exec: it
 * polls readable (POLL with ARIO_POLL_IN) once the process has exited.
 * Never waits for or reaps the process. -ENOSYS elsewhere. Sound only
 * while `pid` is the caller's unreaped child: once reaped, the number may
 * name another process. */
ARIO_API int ario_pidfd_open(int pid);

/* Builds a sockaddr for a numeric IPv4/IPv6 address (scope id for IPv6
 * link-local). Returns its length, or -EINVAL. */
ARIO_API int ario_sockaddr_ip(void *out, uint32_t cap, const char *ip,
                              uint32_t port, uint32_t scope_id);
/* Builds a sockaddr_un; a leading NUL byte in path names an abstract socket
 * (Linux). Returns its length, or -EINVAL / -ENAMETOOLONG. */
ARIO_API int ario_sockaddr_unix(void *out, uint32_t cap, const uint8_t *path,
                                uint32_t path_len);
/* Decodes a sockaddr: writes the family's text form (numeric IP, or unix
 * path bytes) to `text`, the port (for unix: the name's length) to *port.
 * Returns the platform's address family, or -EAFNOSUPPORT for a family it
 * has no text form for (*port is then that family's number). */
ARIO_API int ario_sockaddr_decode(const void *addr, uint32_t addrlen,
                                  char *text, uint32_t text_cap,
                                  uint32_t *port);

/* A link-layer address (Linux's sockaddr_ll, AF_PACKET) in a portable
 * shape: 20 bytes, host byte order throughout. */
typedef struct ario_link_addr {
  int32_t ifindex;   /*  0 interface index (0: any, when binding) */
  uint16_t protocol; /*  4 ETH_P_* (host order; C swaps it) */
  uint16_t hatype;   /*  6 ARPHRD_* */
  uint8_t pkttype;   /*  8 PACKET_HOST, PACKET_BROADCAST, ... */
  uint8_t halen;     /*  9 bytes of addr in use, 0..8 */
  uint8_t addr[8];   /* 10 hardware (MAC) address */
  uint16_t reserved; /* 18 must be 0 */
} ario_link_addr;

/* Builds a sockaddr_ll from `la`. Returns its length, or -EINVAL (halen
 * above 8, reserved != 0, cap too small) / -EAFNOSUPPORT (no AF_PACKET on
 * this platform). */
ARIO_API int ario_sockaddr_link(void *out, uint32_t cap, const ario_link_addr *la);
/* Decodes a sockaddr_ll into `la`. Returns AF_PACKET, or -EAFNOSUPPORT for
 * another family (or a platform without AF_PACKET), -EINVAL if short. */
ARIO_API int ario_sockaddr_link_decode(const void *addr, uint32_t addrlen,
                                       ario_link_addr *la);

/* Resolves a host name (or numeric address; NUL-terminated) with the
 * system's resolver (getaddrinfo: the hosts file, DNS, per nsswitch.conf).
 * Blocks: a binding calls it off its event loop thread. family: 0 for any,
 * AF_INET or AF_INET6. Writes one record of ARIO_RESOLVE_RECORD bytes per
 * address, in the resolver's order: a uint32 sockaddr length, then the
 * sockaddr (port 0). Returns how many fit in `cap` bytes, or -errno
 * (-ENOENT: no such name, -EAGAIN: try again later). Hosts only. */
#define ARIO_RESOLVE_RECORD 32u
ARIO_API int ario_resolve(const char *host, int family, uint8_t *out, uint32_t cap);

/* Platform value of a named constant ("AF_INET", "SOL_SOCKET",
 * "SO_REUSEADDR", "TCP_NODELAY", "MSG_WAITALL", "EAGAIN", ...). Returns 0
 * and sets *value, or -ENOENT for a name this platform lacks. */
ARIO_API int ario_constant(const char *name, int64_t *value);

/* Name of a (positive) errno value, "EUNKNOWN" for others. */
ARIO_API const char *ario_errno_name(int err);

#ifdef __cplusplus
}
#endif
#endif /* ARIO_H */
