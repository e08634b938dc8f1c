/*
 * backend/io_uring.c: Linux completion backend on the raw kernel ABI
 * (io_uring_setup/io_uring_enter/io_uring_register through syscall(), rings
 * mmap'd by hand, <linux/io_uring.h>; no liburing).
 *
 * The core validates each chain and takes its slots; submit() translates
 * the chain op by op into SQEs (user_data = slot | generation << 16, with
 * AUX_BIT on the helper SQEs an op may need) carrying the kernel's own link
 * flags, so links, linked timeouts, counted timeouts and cancel run in the
 * kernel. flush() makes one io_uring_enter per ario_submit(); poll() reaps
 * the CQ ring into the core's completion ring with ario__post() and enters
 * the kernel only when it has to wait.
 *
 * Op map (ario -> kernel):
 *   NOP NOP | READ/WRITE READ/WRITE (off -1 = file position) | RECV RECV |
 *   SEND SEND|MSG_NOSIGNAL | RECVFROM RECVMSG, SENDTO SENDMSG (msghdr and
 *   iovec per slot) | ACCEPT ACCEPT (SOCK_NONBLOCK|SOCK_CLOEXEC) |
 *   READV/WRITEV READV/WRITEV, RECVMSG RECVMSG|MSG_CMSG_CLOEXEC, SENDMSG
 *   SENDMSG|MSG_NOSIGNAL (ario_msghdr and ario_iovec as they are; converted
 *   per slot on 32-bit targets) |
 *   CONNECT CONNECT | CLOSE ASYNC_CANCEL(fd, FD|ALL) hard-linked to CLOSE |
 *   SHUTDOWN SHUTDOWN | OPENAT OPENAT (| O_CLOEXEC) | FSYNC FSYNC |
 *   POLL POLL_ADD | ACCEPT_MULTI ACCEPT with IORING_ACCEPT_MULTISHOT (its
 *   F_MORE CQEs post as they come) | RECV_MULTI RECV with
 *   IORING_RECV_MULTISHOT and IOSQE_BUFFER_SELECT from the group's
 *   registered ring (bufring.c: ario_buf is struct io_uring_buf) | TIMEOUT TIMEOUT (count in off,
 *   timespec per slot) | LINK_TIMEOUT LINK_TIMEOUT | SOCKET SOCKET
 *   (SOCK_NONBLOCK|SOCK_CLOEXEC added to the type) | CANCEL ASYNC_CANCEL:
 *   by fd and "any" directly; by user_data, one SQE per matching slot (the
 *   kernel only knows slot tags), hard-linked, results summed |
 *   SPLICE POLL_ADD(fd_in, IN) -> POLL_ADD(fd_out, OUT) -> SPLICE, linked,
 *   all three with the op's tag (the kernel's SPLICE on a non-blocking
 *   socket answers -EAGAIN instead of waiting; the armed poll is what a
 *   CANCEL by tag finds); CLOSE of either fd also cancels it by tag |
 *   TEE as SPLICE, with TEE last (the kernel's answers -EAGAIN at once too).
 *
 * init() fails (and the core falls back to epoll) when io_uring_setup is
 * refused, or the kernel lacks an op or feature used here (probed).
 */
#include "../ario_internal.h"
#include "../sys.h"

#if defined(ARIO_HAVE_IO_URING)
#include <linux/io_uring.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define AUX_BIT (1ull << 32)
#define MAX_SQ 32768u

/* READV, WRITEV, RECVMSG, SENDMSG: on 64-bit targets ario_iovec and
 * ario_msghdr are the kernel's iovec and msghdr, handed over as they are;
 * a 32-bit target converts them into its slot (ARIO_IOV_MAX iovecs). */
#if UINTPTR_MAX > 0xFFFFFFFFu
#define VEC_IN_SLOT 0
_Static_assert(sizeof(struct iovec) == sizeof(ario_iovec) &&
                   offsetof(struct iovec, iov_base) == offsetof(ario_iovec, base) &&
                   offsetof(struct iovec, iov_len) == offsetof(ario_iovec, len),
               "ario_iovec is struct iovec");
_Static_assert(sizeof(struct msghdr) == sizeof(ario_msghdr) &&
                   offsetof(struct msghdr, msg_name) == offsetof(ario_msghdr, name) &&
                   offsetof(struct msghdr, msg_namelen) == offsetof(ario_msghdr, namelen) &&
                   offsetof(struct msghdr, msg_iov) == offsetof(ario_msghdr, iov) &&
                   offsetof(struct msghdr, msg_iovlen) == offsetof(ario_msghdr, iovlen) &&
                   offsetof(struct msghdr, msg_control) == offsetof(ario_msghdr, control) &&
                   offsetof(struct msghdr, msg_controllen) == offsetof(ario_msghdr, controllen) &&
                   offsetof(struct msghdr, msg_flags) == offsetof(ario_msghdr, flags),
               "ario_msghdr is struct msghdr");
#else
#define VEC_IN_SLOT 1
#endif

typedef struct uslot {
  union {
    struct __kernel_timespec ts; /* TIMEOUT, LINK_TIMEOUT */
    struct {
      struct msghdr msg; /* RECVFROM, SENDTO (32-bit: RECVMSG, SENDMSG) */
      struct iovec iov[VEC_IN_SLOT ? ARIO_IOV_MAX : 1]; /* (32-bit: READV, WRITEV) */
    } m;
  } u;
  int32_t res;      /* the main SQE's result, kept until the helpers are in */
  uint32_t pending; /* SQEs of this op the kernel has not completed */
  uint32_t found;   /* CANCEL by user_data: targets the kernel cancelled; SPLICE, TEE: polls */
  uint16_t gen;     /* tag generation, so a stale CQE cannot hit a reused slot */
  uint8_t multi;    /* CANCEL by user_data (1): results are summed; by fd with SPLICE helpers
                     * (2): the helpers' successes are added to an ALL count */
  uint8_t parked;   /* cancelled, completion held until its cancel's */
  uint8_t doomed;   /* a cancel already names it: a later cancel by fd looks past it */
  uint16_t held_by; /* 1 + slot of the CANCEL (ALL, by user_data) naming it */
} uslot;

typedef struct uring {
  int fd;
  uint32_t sq_entries, sq_mask, cq_mask;
  uint32_t tail; /* SQEs written (local copy of the SQ tail) */
  unsigned *sq_head, *sq_tail, *cq_head, *cq_tail;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  void *ring;
  size_t ring_len, sqes_len;
  uslot *slots;
} uring;

static int sys_setup(unsigned entries, struct io_uring_params *p) {
  return (int)syscall(__NR_io_uring_setup, entries, p);
}
static int sys_enter(int fd, unsigned submit, unsigned min, unsigned flags,
                     void *arg, size_t argsz) {
  return (int)syscall(__NR_io_uring_enter, fd, submit, min, flags, arg, argsz);
}
static int sys_register(int fd, unsigned op, void *arg, unsigned n) {
  return (int)syscall(__NR_io_uring_register, fd, op, arg, n);
}

#define B(l) (&(l)->bs.io_uring)
static uring *U(ario_loop *l) { return (uring *)B(l)->mem; }

static size_t uring_mem_size(uint32_t fd_cap) {
  return ((sizeof(uring) + 15u) & ~(size_t)15u) + (fd_cap / 2) * sizeof(uslot);
}

static uint32_t pow2(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

static const uint8_t needed_ops[] = {
    IORING_OP_NOP,        IORING_OP_READ,         IORING_OP_WRITE,
    IORING_OP_RECV,       IORING_OP_SEND,         IORING_OP_RECVMSG,
    IORING_OP_SENDMSG,    IORING_OP_ACCEPT,       IORING_OP_CONNECT,
    IORING_OP_CLOSE,      IORING_OP_SHUTDOWN,     IORING_OP_POLL_ADD,
    IORING_OP_TIMEOUT,    IORING_OP_LINK_TIMEOUT, IORING_OP_ASYNC_CANCEL,
    IORING_OP_OPENAT,     IORING_OP_FSYNC,        IORING_OP_READV,
    IORING_OP_WRITEV,     IORING_OP_SPLICE,       IORING_OP_TEE,
    IORING_OP_SOCKET,  /* 5.19 */
    IORING_OP_SEND_ZC, /* 6.0: stands for ASYNC_CANCEL_FD/ALL/ANY (5.19) and
                          REGISTER_SYNC_CANCEL (6.0), which cannot be probed */
};

/* Every op ario maps must be there; otherwise the whole loop falls back. */
static int probe(int fd) {
  uint64_t buf[(sizeof(struct io_uring_probe) +
                256 * sizeof(struct io_uring_probe_op)) / 8 + 1];
  struct io_uring_probe *pr = (struct io_uring_probe *)buf;
  memset(buf, 0, sizeof buf);
  if (sys_register(fd, IORING_REGISTER_PROBE, pr, 256) < 0) return -errno;
  for (size_t i = 0; i < sizeof needed_ops; i++) {
    uint8_t op = needed_ops[i];
    if (op > pr->last_op || !(pr->ops[op].flags & IO_URING_OP_SUPPORTED))
      return -ENOSYS;
  }
  return 0;
}

static void uring_deinit(ario_loop *l) {
  uring *u = U(l);
  if (u->sqes) munmap(u->sqes, u->sqes_len);
  if (u->ring) munmap(u->ring, u->ring_len);
  if (u->fd >= 0) close(u->fd);
  if (B(l)->wake >= 0) close(B(l)->wake);
  u->fd = -1;
}

static int uring_init(ario_loop *l, void *mem) {
  uring *u = (uring *)mem;
  struct io_uring_params p;
  uint32_t want = pow2(ARIO__SLOTS(l) * 4u + 4u);
  int e;
  B(l)->mem = u;
  B(l)->wake = -1;
  u->fd = -1;
  u->slots = (uslot *)((char *)mem + ((sizeof(uring) + 15u) & ~(size_t)15u));
  if (want > MAX_SQ) want = MAX_SQ;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CLAMP | IORING_SETUP_CQSIZE;
  p.cq_entries = want * 2;
  u->fd = sys_setup(want, &p);
  if (u->fd < 0) {
    e = -errno;
    u->fd = -1;
    return e ? e : -ENOSYS;
  }
  uint32_t need = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG;
  if ((p.features & need) != need || (e = probe(u->fd)) < 0) {
    uring_deinit(l);
    return -ENOSYS;
  }
  size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  u->ring_len = sq_len > cq_len ? sq_len : cq_len;
  u->ring = mmap(0, u->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                 u->fd, IORING_OFF_SQ_RING);
  if (u->ring == MAP_FAILED) goto fail;
  u->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
  u->sqes = (struct io_uring_sqe *)mmap(0, u->sqes_len, PROT_READ | PROT_WRITE,
                                        MAP_SHARED | MAP_POPULATE, u->fd,
                                        IORING_OFF_SQES);
  if (u->sqes == MAP_FAILED) {
    u->sqes = 0;
    goto fail;
  }
  char *r = (char *)u->ring;
  u->sq_entries = p.sq_entries;
  u->sq_mask = *(unsigned *)(r + p.sq_off.ring_mask);
  u->cq_mask = *(unsigned *)(r + p.cq_off.ring_mask);
  u->sq_head = (unsigned *)(r + p.sq_off.head);
  u->sq_tail = (unsigned *)(r + p.sq_off.tail);
  u->cq_head = (unsigned *)(r + p.cq_off.head);
  u->cq_tail = (unsigned *)(r + p.cq_off.tail);
  u->cqes = (struct io_uring_cqe *)(r + p.cq_off.cqes);
  unsigned *array = (unsigned *)(r + p.sq_off.array);
  for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i; /* identity */
  u->tail = *u->sq_tail;
  B(l)->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (B(l)->wake < 0) goto fail;
  return 0;
fail:
  e = errno ? -errno : -ENOMEM;
  if (u->ring == MAP_FAILED) u->ring = 0;
  uring_deinit(l);
  return e;
}

/* ------------------------------------------------------------ submit -- */

static uint32_t sq_free(const uring *u) {
  return u->sq_entries - (u->tail - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE));
}

static void uring_flush(ario_loop *l) {
  uring *u = U(l);
  uint32_t n = u->tail - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
  if (!n) return;
  __atomic_store_n(u->sq_tail, u->tail, __ATOMIC_RELEASE);
  /* SUBMIT_ALL: the kernel takes every SQE or none (-EBUSY with a CQ
   * backlog, -EINTR); poll() tries again. */
  while (sys_enter(u->fd, n, 0, 0, 0, 0) < 0 && errno == EINTR) {
  }
}

static struct io_uring_sqe *next_sqe(uring *u, uint64_t tag, uint8_t opcode,
                                     int fd) {
  struct io_uring_sqe *q = &u->sqes[u->tail++ & u->sq_mask];
  memset(q, 0, sizeof *q);
  q->opcode = opcode;
  q->fd = fd;
  q->user_data = tag;
  return q;
}

static uint64_t tag_of(const uring *u, ario__idx i) {
  return (uint64_t)i | (uint64_t)u->slots[i].gen << 16;
}

/* The kernel submissions op i needs: helpers plus itself. */
static int cancel_by_ud(const ario__op *op) {
  return !(op->op_flags & (ARIO_CANCEL_FD | ARIO_CANCEL_ANY));
}

/* Ops a CANCEL by user_data may target: sent to the kernel, not finished,
 * not a linked timeout (the kernel cannot cancel those by key either). */
static int targetable(const ario_loop *l, ario__idx k, uint64_t key) {
  const ario__op *t = &l->ops[k];
  return t->state == ARIO__WAITING && t->op != ARIO_OP_LINK_TIMEOUT &&
         t->user_data == key;
}

static void set_ts(struct __kernel_timespec *ts, uint64_t ns) {
  ts->tv_sec = (long long)(ns / 1000000000u);
  ts->tv_nsec = (long long)(ns % 1000000000u);
}

static uint8_t link_flags(const ario__op *op) {
  return (uint8_t)((op->flags & ARIO_SQE_LINK ? IOSQE_IO_LINK : 0) |
                   (op->flags & ARIO_SQE_HARDLINK ? IOSQE_IO_HARDLINK : 0));
}

#if VEC_IN_SLOT
/* 32-bit: an ario_iovec array, or a whole ario_msghdr, as the kernel's in
 * the slot (validate.c checked the count and that addresses fit). */
static uint64_t slot_iov(uslot *s, uint64_t iov, uint64_t n) {
  const ario_iovec *v = (const ario_iovec *)(uintptr_t)iov;
  for (uint64_t k = 0; k < n && k < ARIO_IOV_MAX; k++) {
    s->u.m.iov[k].iov_base = (void *)(uintptr_t)v[k].base;
    s->u.m.iov[k].iov_len = (size_t)v[k].len;
  }
  return (uint64_t)(uintptr_t)s->u.m.iov;
}

static uint64_t slot_msg(uslot *s, uint64_t addr) {
  const ario_msghdr *am = (const ario_msghdr *)(uintptr_t)addr;
  struct msghdr *m = &s->u.m.msg;
  memset(m, 0, sizeof *m);
  m->msg_name = (void *)(uintptr_t)am->name;
  m->msg_namelen = (socklen_t)am->namelen;
  m->msg_iov = (struct iovec *)(uintptr_t)slot_iov(s, am->iov, am->iovlen);
  m->msg_iovlen = (size_t)(am->iovlen < ARIO_IOV_MAX ? am->iovlen : ARIO_IOV_MAX);
  m->msg_control = (void *)(uintptr_t)am->control;
  m->msg_controllen = (size_t)am->controllen;
  return (uint64_t)(uintptr_t)m;
}
#define VEC_ADDR(s, op) \
  ((op)->op == ARIO_OP_READV || (op)->op == ARIO_OP_WRITEV ? slot_iov(s, (op)->addr, (op)->len) \
                                                            : slot_msg(s, (op)->addr))
#else
#define VEC_ADDR(s, op) ((uint64_t)(op)->addr)
#endif

/* Whether waiting SPLICE or TEE k reads or writes fd (CLOSE cancels it by tag). */
static int splices_fd(const ario_loop *l, uint32_t k, int32_t fd) {
  const ario__op *t = &l->ops[k];
  return ARIO__TWO_FDS(t->op) && t->state == ARIO__WAITING &&
         (t->fd == fd || (int32_t)t->addr == fd);
}

/* A listening socket: never writable; a SPLICE into it fails (-EPIPE) once
 * its input has something. */
static int is_listener(int fd, const struct stat *st) {
  int on = 0;
  socklen_t sl = sizeof on;
  return S_ISSOCK(st->st_mode) && getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &sl) == 0 && on;
}

/* The polls a SPLICE waits on before the kernel runs it, as the readiness
 * backends would wait: SPLICE_POLL_IN on fd_in, SPLICE_POLL_OUT on fd_out
 * (not a listener: it never reports OUT). None for one the kernel fails at
 * once whatever the fds' state (a bad fd, an end open the wrong way,
 * neither end a pipe, an offset on a pipe; for a TEE, either end not a
 * pipe, or both ends of one) or with nothing to move (len 0): a poll would
 * wait for nothing, or for ever. */
#define SPLICE_POLL_IN 1u
#define SPLICE_POLL_OUT 2u
static unsigned splice_polls(const ario__op *op) {
  struct stat in, out;
  int fd_in = (int)op->addr, fl_in, fl_out;
  if (!op->len || fstat(fd_in, &in) < 0 || fstat(op->fd, &out) < 0 ||
      (fl_in = fcntl(fd_in, F_GETFL)) < 0 || (fl_out = fcntl(op->fd, F_GETFL)) < 0)
    return 0;
  if ((fl_in & O_ACCMODE) == O_WRONLY || (fl_out & O_ACCMODE) == O_RDONLY) return 0;
  int pin = S_ISFIFO(in.st_mode), pout = S_ISFIFO(out.st_mode);
  if (op->op == ARIO_OP_TEE)
    return pin && pout && (in.st_ino != out.st_ino || in.st_dev != out.st_dev)
               ? SPLICE_POLL_IN | SPLICE_POLL_OUT
               : 0;
  if ((!pin && !pout) || (pin && op->addr2 != ARIO_OFF_CURRENT) ||
      (pout && op->off != ARIO_OFF_CURRENT))
    return 0;
  return SPLICE_POLL_IN | (is_listener(op->fd, &out) ? 0 : SPLICE_POLL_OUT);
}

static void emit(ario_loop *l, uring *u, ario__idx i, uint32_t room) {
  ario__op *op = &l->ops[i];
  uslot *s = &u->slots[i];
  uint64_t tag = tag_of(u, i);
  struct io_uring_sqe *q;
  s->pending = 1;
  s->parked = 0;
  s->held_by = 0;
  s->res = 0;
  s->found = 0;
  s->multi = 0;
  s->doomed = 0;
  switch (op->op) {
  case ARIO_OP_NOP: q = next_sqe(u, tag, IORING_OP_NOP, -1); break;
  case ARIO_OP_READ:
  case ARIO_OP_WRITE:
    q = next_sqe(u, tag, op->op == ARIO_OP_READ ? IORING_OP_READ : IORING_OP_WRITE, op->fd);
    q->addr = (uint64_t)op->addr;
    q->len = op->len;
    q->off = op->off; /* ARIO_OFF_CURRENT is the kernel's -1 */
    break;
  case ARIO_OP_RECV:
  case ARIO_OP_SEND:
    q = next_sqe(u, tag, op->op == ARIO_OP_RECV ? IORING_OP_RECV : IORING_OP_SEND, op->fd);
    q->addr = (uint64_t)op->addr;
    q->len = op->len;
    q->msg_flags = op->op_flags | (op->op == ARIO_OP_SEND ? MSG_NOSIGNAL : 0);
    break;
  case ARIO_OP_RECVFROM:
  case ARIO_OP_SENDTO: {
    struct msghdr *m = &s->u.m.msg;
    memset(m, 0, sizeof *m);
    s->u.m.iov[0].iov_base = (void *)op->addr;
    s->u.m.iov[0].iov_len = op->len;
    m->msg_iov = s->u.m.iov;
    m->msg_iovlen = 1;
    m->msg_name = (void *)op->addr2;
    if (op->op == ARIO_OP_SENDTO) {
      m->msg_namelen = (socklen_t)op->off;
    } else {
      uint32_t *lenp = (uint32_t *)(uintptr_t)op->off;
      m->msg_namelen = op->addr2 && lenp ? (socklen_t)*lenp : 0;
      if (!m->msg_namelen) m->msg_name = 0;
    }
    q = next_sqe(u, tag, op->op == ARIO_OP_RECVFROM ? IORING_OP_RECVMSG : IORING_OP_SENDMSG, op->fd);
    q->addr = (uint64_t)(uintptr_t)m;
    q->len = 1;
    q->msg_flags = op->op_flags | (op->op == ARIO_OP_SENDTO ? MSG_NOSIGNAL : 0);
    break;
  }
  case ARIO_OP_READV:
  case ARIO_OP_WRITEV:
    q = next_sqe(u, tag, op->op == ARIO_OP_READV ? IORING_OP_READV : IORING_OP_WRITEV, op->fd);
    q->addr = VEC_ADDR(s, op);
    q->len = op->len;
    q->off = op->off;
    break;
  case ARIO_OP_RECVMSG:
  case ARIO_OP_SENDMSG:
    q = next_sqe(u, tag, op->op == ARIO_OP_RECVMSG ? IORING_OP_RECVMSG : IORING_OP_SENDMSG, op->fd);
    q->addr = VEC_ADDR(s, op);
    q->len = 1;
    /* received descriptors are close-on-exec; a send raises no SIGPIPE */
    q->msg_flags = op->op_flags | (op->op == ARIO_OP_SENDMSG ? MSG_NOSIGNAL : MSG_CMSG_CLOEXEC);
    break;
  case ARIO_OP_ACCEPT:
    q = next_sqe(u, tag, IORING_OP_ACCEPT, op->fd);
    q->addr = (uint64_t)op->addr;
    q->addr2 = op->addr ? (uint64_t)op->addr2 : 0;
    q->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    break;
  case ARIO_OP_ACCEPT_MULTI:
    q = next_sqe(u, tag, IORING_OP_ACCEPT, op->fd);
    q->ioprio = IORING_ACCEPT_MULTISHOT;
    q->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    break;
  case ARIO_OP_RECV_MULTI:
    q = next_sqe(u, tag, IORING_OP_RECV, op->fd);
    q->ioprio = IORING_RECV_MULTISHOT;
    q->flags = IOSQE_BUFFER_SELECT;
    q->buf_group = (uint16_t)op->len;
    q->msg_flags = op->op_flags;
    break;
  case ARIO_OP_CONNECT:
    q = next_sqe(u, tag, IORING_OP_CONNECT, op->fd);
    q->addr = (uint64_t)op->addr;
    q->off = op->len;
    break;
  case ARIO_OP_CLOSE:
    /* the library's CLOSE first cancels what is pending on the fd */
    q = next_sqe(u, tag | AUX_BIT, IORING_OP_ASYNC_CANCEL, op->fd);
    q->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
    q->flags = IOSQE_IO_HARDLINK;
    s->pending++;
    for (uint32_t k = 0; l->splices && k < ARIO__SLOTS(l); k++)
      if (k != i && splices_fd(l, k, op->fd)) {
        u->slots[k].doomed = 1;
        q = next_sqe(u, tag | AUX_BIT, IORING_OP_ASYNC_CANCEL, -1);
        q->addr = tag_of(u, (ario__idx)k);
        q->flags = IOSQE_IO_HARDLINK;
        s->pending++;
      }
    q = next_sqe(u, tag, IORING_OP_CLOSE, op->fd);
    break;
  case ARIO_OP_SPLICE:
  case ARIO_OP_TEE:
    s->found = splice_polls(op); /* they complete at once when their side is ready */
    for (unsigned side = SPLICE_POLL_IN; side <= SPLICE_POLL_OUT; side <<= 1) {
      if (!(s->found & side)) continue;
      q = next_sqe(u, tag, IORING_OP_POLL_ADD, side == SPLICE_POLL_IN ? (int)op->addr : op->fd);
      q->poll32_events = side == SPLICE_POLL_IN ? POLLIN : POLLOUT;
      q->flags = IOSQE_IO_LINK;
      s->pending++;
    }
    q = next_sqe(u, tag, op->op == ARIO_OP_TEE ? IORING_OP_TEE : IORING_OP_SPLICE, op->fd);
    q->splice_fd_in = (int32_t)op->addr;
    q->splice_off_in = op->addr2; /* ARIO_OFF_CURRENT is the kernel's -1; TEE: 0, as off */
    q->off = op->off;
    q->len = op->len;
    q->splice_flags = op->op_flags;
    break;
  case ARIO_OP_OPENAT:
    q = next_sqe(u, tag, IORING_OP_OPENAT, op->fd); /* AT_FDCWD as it is */
    q->addr = (uint64_t)op->addr;
    q->len = op->len; /* mode */
    q->open_flags = op->op_flags | O_CLOEXEC;
    break;
  case ARIO_OP_FSYNC:
    q = next_sqe(u, tag, IORING_OP_FSYNC, op->fd);
    q->fsync_flags = op->op_flags & ARIO_FSYNC_DATASYNC ? IORING_FSYNC_DATASYNC : 0;
    break;
  case ARIO_OP_SHUTDOWN:
    q = next_sqe(u, tag, IORING_OP_SHUTDOWN, op->fd);
    q->len = op->len;
    break;
  case ARIO_OP_POLL:
    q = next_sqe(u, tag, IORING_OP_POLL_ADD, op->fd);
    q->poll32_events = op->op_flags;
    break;
  case ARIO_OP_SOCKET:
    q = next_sqe(u, tag, IORING_OP_SOCKET, op->fd); /* fd: the domain */
    q->off = op->off | SOCK_NONBLOCK | SOCK_CLOEXEC;
    q->len = op->len;
    break;
  case ARIO_OP_TIMEOUT:
  case ARIO_OP_LINK_TIMEOUT:
    set_ts(&s->u.ts, op->off);
    q = next_sqe(u, tag, op->op == ARIO_OP_TIMEOUT ? IORING_OP_TIMEOUT : IORING_OP_LINK_TIMEOUT, -1);
    q->addr = (uint64_t)(uintptr_t)&s->u.ts;
    q->len = 1;
    if (op->op == ARIO_OP_TIMEOUT) q->off = op->len; /* completion count */
    q->timeout_flags = op->op_flags & ARIO_TIMEOUT_ABS ? IORING_TIMEOUT_ABS : 0;
    break;
  default: /* ARIO_OP_CANCEL */
    if (!cancel_by_ud(op)) {
      uint32_t k = 0; /* a SPLICE or TEE by either fd: by its tag (it may wait on its other fd) */
      for (; (op->op_flags & ARIO_CANCEL_FD) && l->splices && k < ARIO__SLOTS(l); k++) {
        if (k == i || !splices_fd(l, k, op->fd) || u->slots[k].doomed) continue;
        s->multi = 2;
        u->slots[k].doomed = 1;
        u->slots[k].held_by = (uint16_t)(i + 1);
        if (!(op->op_flags & ARIO_CANCEL_ALL)) break; /* this one instead of one by fd */
        q = next_sqe(u, tag | AUX_BIT, IORING_OP_ASYNC_CANCEL, -1);
        q->addr = tag_of(u, (ario__idx)k);
        q->flags = IOSQE_IO_HARDLINK;
        s->pending++;
      }
      if (k < ARIO__SLOTS(l) && !(op->op_flags & ARIO_CANCEL_ALL) && s->multi) {
        q = next_sqe(u, tag, IORING_OP_ASYNC_CANCEL, -1);
        q->addr = tag_of(u, (ario__idx)k);
        break;
      }
      q = next_sqe(u, tag, IORING_OP_ASYNC_CANCEL, op->fd);
      q->cancel_flags = (op->op_flags & ARIO_CANCEL_FD ? IORING_ASYNC_CANCEL_FD : 0) |
                        (op->op_flags & ARIO_CANCEL_ANY ? IORING_ASYNC_CANCEL_ANY : 0) |
                        (op->op_flags & ARIO_CANCEL_ALL ? IORING_ASYNC_CANCEL_ALL : 0);
      if (op->op_flags & ARIO_CANCEL_ANY) q->fd = -1;
      break;
    }
    /* By user_data: the kernel knows slot tags, so name each target. */
    uint64_t target = ~0ull; /* matches nothing: -ENOENT */
    uint32_t n = 0;
    s->multi = 1;
    for (uint32_t k = 0; k < ARIO__SLOTS(l); k++) {
      if (k == i || !targetable(l, (ario__idx)k, op->off)) continue;
      u->slots[k].doomed = 1;
      if (!(op->op_flags & ARIO_CANCEL_ALL)) {
        target = tag_of(u, (ario__idx)k);
        break;
      }
      if (n + 1 >= room) break; /* bounded by the SQ ring (never here in practice) */
      if (n > 0) {
        q = next_sqe(u, tag | AUX_BIT, IORING_OP_ASYNC_CANCEL, -1);
        q->addr = target;
        q->flags = IOSQE_IO_HARDLINK;
        s->pending++;
      }
      target = tag_of(u, (ario__idx)k);
      u->slots[k].held_by = (uint16_t)(i + 1);
      n++;
    }
    q = next_sqe(u, tag, IORING_OP_ASYNC_CANCEL, -1);
    q->addr = target;
    break;
  }
  q->flags |= link_flags(op);
  op->state = ARIO__WAITING; /* in the kernel's hands */
}

static int uring_submit(ario_loop *l, ario__idx head) {
  uring *u = U(l);
  uint32_t need = 0, extra = 0;
  for (ario__idx i = head; i != ARIO_NIL; i = l->ops[i].link) {
    ario__op *op = &l->ops[i];
    need += op->op == ARIO_OP_CLOSE ? 2u + l->splices : ARIO__TWO_FDS(op->op) ? 3 : 1;
    if (op->op == ARIO_OP_CANCEL && (op->op_flags & ARIO_CANCEL_FD)) need += l->splices;
    if (op->op == ARIO_OP_CANCEL && cancel_by_ud(op) && (op->op_flags & ARIO_CANCEL_ALL))
      extra += l->inflight; /* at most one per in-flight op */
  }
  if (need + extra > sq_free(u)) uring_flush(l);
  if (need > sq_free(u)) return -EBUSY; /* the kernel holds back (CQ backlog) */
  for (ario__idx i = head; i != ARIO_NIL; i = l->ops[i].link) {
    u->slots[i].gen++;
    emit(l, u, i, sq_free(u));
  }
  return 0;
}

/* ------------------------------------------------------------ reaping -- */

static void on_cqe(ario_loop *l, uring *u, uint64_t ud, int32_t res, uint32_t flags) {
  uint32_t i = (uint32_t)(ud & 0xFFFFu);
  if (i >= ARIO__SLOTS(l)) return;
  uslot *s = &u->slots[i];
  ario__op *op = &l->ops[i];
  if (s->gen != (uint16_t)(ud >> 16) || op->state != ARIO__WAITING) return;
  int aux = (ud & AUX_BIT) != 0;
  uint32_t buf = flags & (IORING_CQE_F_BUFFER | ~((1u << IORING_CQE_BUFFER_SHIFT) - 1u));
  if (flags & IORING_CQE_F_MORE) { /* a multishot op goes on (harvest checked the room) */
    if (!aux) ario__post_more(l, (ario__idx)i, res, buf);
    return;
  }
  if (s->multi && (res == 0 || res == -EALREADY) && (s->multi == 1 || aux)) s->found++;
  if (ARIO__TWO_FDS(op->op)) { /* the polls' error, else the splice's or tee's (last) result */
    if (s->pending > 1 ? res < 0 && s->res >= 0 : !(res == -ECANCELED && s->res < 0))
      s->res = res;
  } else if (!aux) {
    s->res = res;
  }
  if (--s->pending) return;
  res = s->res;
  if (ARIO__TWO_FDS(op->op) && res == -EAGAIN && s->found && !link_flags(op) &&
      sq_free(u) >= 3) {
    emit(l, u, (ario__idx)i, sq_free(u)); /* readiness gone between poll and splice: again */
    return;
  }
  if (s->multi == 1 && (op->op_flags & ARIO_CANCEL_ALL) && res != -ECANCELED)
    res = (int32_t)s->found; /* ALL: the count, 0 included (kernel) */
  else if (s->multi == 2 && (op->op_flags & ARIO_CANCEL_ALL) && res >= 0)
    res += (int32_t)s->found;
  if (op->op == ARIO_OP_POLL && res > 0)
    res &= (int32_t)(ARIO_POLL_IN | ARIO_POLL_PRI | ARIO_POLL_OUT | ARIO_POLL_ERR | ARIO_POLL_HUP);
  if (op->op == ARIO_OP_RECVFROM && res >= 0 && op->off && op->addr2)
    *(uint32_t *)(uintptr_t)op->off = (uint32_t)s->u.m.msg.msg_namelen;
  if (op->op == ARIO_OP_RECVMSG && res >= 0) {
    ario_msghdr *am = (ario_msghdr *)op->addr;
#if VEC_IN_SLOT /* 32-bit: what the kernel wrote back to the slot's msghdr */
    if (am->name) am->namelen = (uint32_t)s->u.m.msg.msg_namelen;
    am->controllen = (uint64_t)s->u.m.msg.msg_controllen;
    am->flags = s->u.m.msg.msg_flags;
#endif
    am->flags &= ~MSG_CMSG_CLOEXEC; /* ario's request, not the message's */
  }
  if (s->held_by) {
    /* The kernel posts a cancel's completion before those of the ops it
     * cancelled; with one SQE per target the earlier ones would overtake
     * it, so they wait for it here. */
    uint32_t h = s->held_by - 1u;
    if (res == -ECANCELED && l->ops[h].state == ARIO__WAITING && u->slots[h].multi) {
      s->parked = 1;
      s->res = res;
      return;
    }
    s->held_by = 0;
  }
  ario__post(l, (ario__idx)i, res, buf);
  if (s->multi) /* its targets: none waits for it any more, parked or still in the kernel (a
                  * stale held_by would park a later completion behind whatever reuses slot i) */
    for (uint32_t k = 0; k < ARIO__SLOTS(l); k++)
      if (u->slots[k].held_by == i + 1) {
        u->slots[k].held_by = 0;
        if (u->slots[k].parked) {
          u->slots[k].parked = 0;
          ario__post(l, (ario__idx)k, u->slots[k].res, 0);
        }
      }
}

static int harvest(ario_loop *l, uring *u) {
  unsigned head = *u->cq_head;
  unsigned tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
  int n = 0;
  for (; head != tail; head++, n++) {
    struct io_uring_cqe *c = &u->cqes[head & u->cq_mask];
    if ((c->flags & IORING_CQE_F_MORE) && !ario__more_room(l))
      break; /* the rest stays in the CQ until the owner reaps (ario__more_room) */
    on_cqe(l, u, c->user_data, c->res, c->flags);
  }
  __atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
  return n;
}

static int uring_poll(ario_loop *l, int64_t timeout_ns) {
  uring *u = U(l);
  uint32_t pend = u->tail - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
  int n = harvest(l, u);
  if (n || timeout_ns == 0) {
    if (pend) uring_flush(l);
    return n;
  }
  struct __kernel_timespec ts;
  struct io_uring_getevents_arg arg;
  memset(&arg, 0, sizeof arg);
  if (timeout_ns > 0) {
    set_ts(&ts, (uint64_t)timeout_ns);
    arg.ts = (uint64_t)(uintptr_t)&ts;
  }
  if (pend) __atomic_store_n(u->sq_tail, u->tail, __ATOMIC_RELEASE);
  int r = sys_enter(u->fd, pend, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                    &arg, sizeof arg);
  if (r < 0 && errno != ETIME && errno != EINTR && errno != EBUSY &&
      errno != EAGAIN)
    return -errno;
  return harvest(l, u);
}

static int uring_wait(ario_loop *l, int64_t timeout_ns) {
  struct pollfd p[2] = {{.fd = U(l)->fd, .events = POLLIN},
                        {.fd = B(l)->wake, .events = POLLIN}};
  struct timespec ts, *tp = 0;
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    tp = &ts;
  }
  int n = ppoll(p, 2, tp, 0);
  if (n < 0) return errno == EINTR ? 1 : -errno;
  if (p[1].revents) {
    uint64_t v;
    while (read(B(l)->wake, &v, sizeof v) > 0) {
    }
  }
  return n > 0;
}

static void uring_wake(ario_loop *l) {
  uint64_t one = 1;
  ssize_t r = write(B(l)->wake, &one, sizeof one);
  (void)r;
}

/* ario_close(): synchronous cancel of every op on fd; their completions
 * are in the CQ ring when this returns. */
static void uring_cancel_fd(ario_loop *l, int32_t fd) {
  uring *u = U(l);
  struct io_uring_sync_cancel_reg r;
  uring_flush(l);
  memset(&r, 0, sizeof r);
  r.fd = fd;
  r.flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
  r.timeout.tv_sec = -1;
  r.timeout.tv_nsec = -1;
  while (sys_register(u->fd, IORING_REGISTER_SYNC_CANCEL, &r, 1) < 0 && errno == EINTR) {
  }
  for (uint32_t k = 0; l->splices && k < ARIO__SLOTS(l); k++)
    if (splices_fd(l, k, fd)) { /* by tag: one waiting on its other fd */
      memset(&r, 0, sizeof r);
      r.addr = tag_of(u, (ario__idx)k);
      r.timeout.tv_sec = -1;
      r.timeout.tv_nsec = -1;
      while (sys_register(u->fd, IORING_REGISTER_SYNC_CANCEL, &r, 1) < 0 && errno == EINTR) {
      }
    }
}

/* ario_buffers_register/unregister: the kernel's provided-buffer ring. */
static int uring_buffers(ario_loop *l, uint32_t group, ario_buf *ring, uint32_t entries) {
  struct io_uring_buf_reg r;
  _Static_assert(sizeof(struct io_uring_buf) == sizeof(ario_buf), "ario_buf is io_uring_buf");
  memset(&r, 0, sizeof r);
  r.ring_addr = (uint64_t)(uintptr_t)ring;
  r.ring_entries = entries;
  r.bgid = (uint16_t)group;
  if (sys_register(U(l)->fd, entries ? IORING_REGISTER_PBUF_RING : IORING_UNREGISTER_PBUF_RING,
                   &r, 1) < 0)
    return -errno;
  return 0;
}

const ario__backend ario__backend_io_uring = {
    .id = ARIO_BACKEND_IO_URING,
    .completion = 1,
    .mem_size = uring_mem_size,
    .init = uring_init,
    .deinit = uring_deinit,
    .poll = uring_poll,
    .wait = uring_wait,
    .wake = uring_wake,
    .submit = uring_submit,
    .flush = uring_flush,
    .cancel_fd = uring_cancel_fd,
    .buffers = uring_buffers,
    .fallback = &ario__backend_epoll,
};
#endif
