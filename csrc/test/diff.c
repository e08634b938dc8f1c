/*
 * diff.c: one semantics on every backend, checked against the kernel.
 *
 * Each scenario of diff_scenarios.h runs twice: through ario on the backend
 * named by ARIO_BACKEND, and through `oracle`, a minimal raw io_uring runner
 * that hands the same entries straight to the kernel (its own SQE
 * translation, user_data untouched, no ario code). The completion sequences
 * (user_data, res, flags) must be identical: per chain (user_data / 10
 * names the chain) in order, or in global order where a scenario says so.
 * A difference the scenario table lists (a documented kernel quirk a
 * backend cannot match) passes with its reason printed; it is listed in
 * docs/semantics.md too.
 *
 * Prints one line per scenario: PASS|FAIL|SKIP <scenario> [note].
 */
#include "test.h"
#if defined(__linux__)
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#define MAXREC 128

typedef struct rec {
  uint64_t ud;
  int32_t res;
  uint32_t flags;
} rec;

/* ------------------------------------------------------- the oracle -- */

#define O_AUX 0xA0A0A0A0A0A0A0A0ull /* helper SQEs, their CQEs are dropped */
#define O_SLOTS 64

typedef struct oracle {
  int fd;
  unsigned *sq_head, *sq_tail, *sq_mask, *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  void *ring;
  size_t ring_len, sqes_len;
  unsigned tail;
  /* per-op storage the kernel reads until completion */
  struct {
    uint64_t ud;
    int used;
    struct __kernel_timespec ts;
    struct msghdr msg;
    struct iovec iov;
    uint32_t *lenp;
  } st[O_SLOTS];
  int nst;
  uint64_t poll_ud[16];
  int npoll;
} oracle;

static int oracle_open(oracle *o) {
  struct io_uring_params p;
  memset(o, 0, sizeof *o);
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_SUBMIT_ALL; /* an entry failing before it runs does not stop the rest (ario's rule) */
  o->fd = (int)syscall(__NR_io_uring_setup, 256, &p);
  if (o->fd < 0) return -errno;
  size_t sq = p.sq_off.array + p.sq_entries * 4, cq = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  o->ring_len = sq > cq ? sq : cq;
  o->ring = mmap(0, o->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, o->fd, IORING_OFF_SQ_RING);
  o->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
  o->sqes = mmap(0, o->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, o->fd, IORING_OFF_SQES);
  CHECK(o->ring != MAP_FAILED && o->sqes != MAP_FAILED);
  char *r = o->ring;
  o->sq_head = (unsigned *)(r + p.sq_off.head);
  o->sq_tail = (unsigned *)(r + p.sq_off.tail);
  o->sq_mask = (unsigned *)(r + p.sq_off.ring_mask);
  o->cq_head = (unsigned *)(r + p.cq_off.head);
  o->cq_tail = (unsigned *)(r + p.cq_off.tail);
  o->cq_mask = (unsigned *)(r + p.cq_off.ring_mask);
  o->cqes = (struct io_uring_cqe *)(r + p.cq_off.cqes);
  unsigned *arr = (unsigned *)(r + p.sq_off.array);
  for (unsigned i = 0; i < p.sq_entries; i++) arr[i] = i;
  o->tail = *o->sq_tail;
  return 0;
}

static void oracle_close(oracle *o) {
  munmap(o->sqes, o->sqes_len);
  munmap(o->ring, o->ring_len);
  close(o->fd);
}

static struct io_uring_sqe *o_sqe(oracle *o, uint8_t opcode, int fd, uint64_t ud) {
  struct io_uring_sqe *q = &o->sqes[o->tail++ & *o->sq_mask];
  memset(q, 0, sizeof *q);
  q->opcode = opcode;
  q->fd = fd;
  q->user_data = ud;
  return q;
}

static int o_store(oracle *o, uint64_t ud) {
  CHECK(o->nst < O_SLOTS);
  o->st[o->nst].ud = ud;
  o->st[o->nst].used = 1;
  return o->nst++;
}

/* The library's op table, in the kernel's terms (see ario.h). */
static void oracle_prep(oracle *o, const ario_sqe *e) {
  struct io_uring_sqe *q;
  int k;
  uint8_t lf = (e->flags & ARIO_SQE_LINK ? IOSQE_IO_LINK : 0) |
               (e->flags & ARIO_SQE_HARDLINK ? IOSQE_IO_HARDLINK : 0);
  switch (e->op) {
  case ARIO_OP_NOP: q = o_sqe(o, IORING_OP_NOP, -1, e->user_data); break;
  case ARIO_OP_READ:
  case ARIO_OP_WRITE:
    q = o_sqe(o, e->op == ARIO_OP_READ ? IORING_OP_READ : IORING_OP_WRITE, e->fd, e->user_data);
    q->addr = e->addr; q->len = e->len; q->off = e->off;
    break;
  case ARIO_OP_RECV:
  case ARIO_OP_SEND:
    q = o_sqe(o, e->op == ARIO_OP_RECV ? IORING_OP_RECV : IORING_OP_SEND, e->fd, e->user_data);
    q->addr = e->addr; q->len = e->len;
    q->msg_flags = e->op_flags | (e->op == ARIO_OP_SEND ? MSG_NOSIGNAL : 0);
    break;
  case ARIO_OP_RECVFROM:
  case ARIO_OP_SENDTO:
    k = o_store(o, e->user_data);
    memset(&o->st[k].msg, 0, sizeof o->st[k].msg);
    o->st[k].iov.iov_base = (void *)(uintptr_t)e->addr;
    o->st[k].iov.iov_len = e->len;
    o->st[k].msg.msg_iov = &o->st[k].iov;
    o->st[k].msg.msg_iovlen = 1;
    o->st[k].msg.msg_name = (void *)(uintptr_t)e->addr2;
    if (e->op == ARIO_OP_SENDTO) {
      o->st[k].msg.msg_namelen = (socklen_t)e->off;
    } else {
      o->st[k].lenp = (uint32_t *)(uintptr_t)e->off;
      o->st[k].msg.msg_namelen = o->st[k].lenp ? *o->st[k].lenp : 0;
    }
    q = o_sqe(o, e->op == ARIO_OP_RECVFROM ? IORING_OP_RECVMSG : IORING_OP_SENDMSG, e->fd, e->user_data);
    q->addr = (uintptr_t)&o->st[k].msg; q->len = 1;
    q->msg_flags = e->op_flags | (e->op == ARIO_OP_SENDTO ? MSG_NOSIGNAL : 0);
    break;
  case ARIO_OP_READV:
  case ARIO_OP_WRITEV:
    q = o_sqe(o, e->op == ARIO_OP_READV ? IORING_OP_READV : IORING_OP_WRITEV, e->fd, e->user_data);
    q->addr = e->addr; q->len = e->len; q->off = e->off;
    break;
  case ARIO_OP_RECVMSG:
  case ARIO_OP_SENDMSG: /* ario_msghdr is the kernel's msghdr (64-bit) */
    q = o_sqe(o, e->op == ARIO_OP_RECVMSG ? IORING_OP_RECVMSG : IORING_OP_SENDMSG, e->fd, e->user_data);
    q->addr = e->addr; q->len = 1;
    q->msg_flags = e->op_flags | (e->op == ARIO_OP_SENDMSG ? MSG_NOSIGNAL : 0);
    break;
  case ARIO_OP_ACCEPT:
    q = o_sqe(o, IORING_OP_ACCEPT, e->fd, e->user_data);
    q->addr = e->addr; q->addr2 = e->addr2;
    q->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    break;
  case ARIO_OP_ACCEPT_MULTI:
    q = o_sqe(o, IORING_OP_ACCEPT, e->fd, e->user_data);
    q->ioprio = IORING_ACCEPT_MULTISHOT;
    q->accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    break;
  case ARIO_OP_RECV_MULTI: /* len = the buffer group */
    q = o_sqe(o, IORING_OP_RECV, e->fd, e->user_data);
    q->ioprio = IORING_RECV_MULTISHOT;
    q->flags = IOSQE_BUFFER_SELECT;
    q->buf_group = (uint16_t)e->len;
    q->msg_flags = e->op_flags;
    break;
  case ARIO_OP_CONNECT:
    q = o_sqe(o, IORING_OP_CONNECT, e->fd, e->user_data);
    q->addr = e->addr; q->off = e->len;
    break;
  case ARIO_OP_CLOSE: /* library semantics: cancel what is pending first */
    q = o_sqe(o, IORING_OP_ASYNC_CANCEL, e->fd, O_AUX);
    q->cancel_flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
    q->flags = IOSQE_IO_HARDLINK;
    q = o_sqe(o, IORING_OP_CLOSE, e->fd, e->user_data);
    break;
  case ARIO_OP_SHUTDOWN:
    q = o_sqe(o, IORING_OP_SHUTDOWN, e->fd, e->user_data);
    q->len = e->len;
    break;
  case ARIO_OP_POLL:
    CHECK(o->npoll < 16);
    o->poll_ud[o->npoll++] = e->user_data;
    q = o_sqe(o, IORING_OP_POLL_ADD, e->fd, e->user_data);
    q->poll32_events = e->op_flags;
    break;
  case ARIO_OP_TIMEOUT:
  case ARIO_OP_LINK_TIMEOUT:
    k = o_store(o, e->user_data);
    o->st[k].ts.tv_sec = (long long)(e->off / 1000000000u);
    o->st[k].ts.tv_nsec = (long long)(e->off % 1000000000u);
    q = o_sqe(o, e->op == ARIO_OP_TIMEOUT ? IORING_OP_TIMEOUT : IORING_OP_LINK_TIMEOUT, -1, e->user_data);
    q->addr = (uintptr_t)&o->st[k].ts; q->len = 1;
    if (e->op == ARIO_OP_TIMEOUT) q->off = e->len;
    q->timeout_flags = e->op_flags & ARIO_TIMEOUT_ABS ? IORING_TIMEOUT_ABS : 0;
    break;
  case ARIO_OP_CANCEL:
    q = o_sqe(o, IORING_OP_ASYNC_CANCEL, e->op_flags & ARIO_CANCEL_FD ? e->fd : -1, e->user_data);
    q->addr = e->addr;
    q->cancel_flags = (e->op_flags & ARIO_CANCEL_ALL ? IORING_ASYNC_CANCEL_ALL : 0) |
                      (e->op_flags & ARIO_CANCEL_FD ? IORING_ASYNC_CANCEL_FD : 0) |
                      (e->op_flags & ARIO_CANCEL_ANY ? IORING_ASYNC_CANCEL_ANY : 0);
    break;
  case ARIO_OP_SPLICE: /* addr = fd_in; offsets are the kernel's (-1: none) */
    q = o_sqe(o, IORING_OP_SPLICE, e->fd, e->user_data);
    q->splice_fd_in = (int32_t)e->addr;
    q->splice_off_in = e->addr2;
    q->off = e->off;
    q->len = e->len;
    q->splice_flags = e->op_flags;
    break;
  case ARIO_OP_TEE: /* addr = fd_in; addr2 and off as given (the kernel wants 0) */
    q = o_sqe(o, IORING_OP_TEE, e->fd, e->user_data);
    q->splice_fd_in = (int32_t)e->addr;
    q->splice_off_in = e->addr2;
    q->off = e->off;
    q->len = e->len;
    q->splice_flags = e->op_flags;
    break;
  case ARIO_OP_OPENAT:
    q = o_sqe(o, IORING_OP_OPENAT, e->fd, e->user_data);
    q->addr = e->addr; q->len = e->len; q->open_flags = e->op_flags | O_CLOEXEC;
    break;
  case ARIO_OP_FSYNC:
    q = o_sqe(o, IORING_OP_FSYNC, e->fd, e->user_data);
    q->fsync_flags = e->op_flags;
    break;
  case ARIO_OP_SOCKET: /* the fd comes non-blocking and close-on-exec */
    q = o_sqe(o, IORING_OP_SOCKET, e->fd, e->user_data);
    q->off = e->off | SOCK_NONBLOCK | SOCK_CLOEXEC;
    q->len = e->len;
    q->addr = e->addr;
    q->rw_flags = (int)e->op_flags;
    break;
  default: CHECK(!"op the oracle does not know"); return;
  }
  q->flags |= lf;
}

static void oracle_submit(oracle *o, const ario_sqe *s, int n) {
  for (int i = 0; i < n; i++) oracle_prep(o, &s[i]);
  unsigned pend = o->tail - *o->sq_head;
  __atomic_store_n(o->sq_tail, o->tail, __ATOMIC_RELEASE);
  CHECK((int)syscall(__NR_io_uring_enter, o->fd, pend, 0, 0, 0, 0) == (int)pend);
}

static int oracle_reap(oracle *o, rec *out, int max, int64_t timeout_ns) {
  if (*o->cq_head == __atomic_load_n(o->cq_tail, __ATOMIC_ACQUIRE) && timeout_ns) {
    struct __kernel_timespec ts = {timeout_ns / 1000000000, timeout_ns % 1000000000};
    struct io_uring_getevents_arg arg = {.ts = (uintptr_t)&ts};
    syscall(__NR_io_uring_enter, o->fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
  }
  int n = 0;
  unsigned head = *o->cq_head, tail = __atomic_load_n(o->cq_tail, __ATOMIC_ACQUIRE);
  for (; head != tail && n < max; head++) {
    struct io_uring_cqe *c = &o->cqes[head & *o->cq_mask];
    if (c->user_data == O_AUX) continue;
    for (int k = 0; k < o->nst; k++)
      if (o->st[k].used && o->st[k].ud == c->user_data) {
        if (o->st[k].lenp && c->res >= 0) *o->st[k].lenp = o->st[k].msg.msg_namelen;
        o->st[k].used = 0;
        break;
      }
    out[n].ud = c->user_data;
    out[n].res = c->res;
    /* the library's POLL result is ARIO_POLL_* only: the kernel's poll
     * always adds EPOLLRDHUP (IO_POLL_UNMASK), which ario does not define */
    for (int k = 0; k < o->npoll; k++)
      if (o->poll_ud[k] == c->user_data && c->res > 0) out[n].res = c->res & 0x1F;
    out[n].flags = c->flags & ~(uint32_t)IORING_CQE_F_SOCK_NONEMPTY; /* a hint, not semantics */
    n++;
  }
  __atomic_store_n(o->cq_head, head, __ATOMIC_RELEASE);
  return n;
}

/* -------------------------------------------------- the scenario kit -- */

typedef struct T {
  int oracle_run;
  oracle o;
  ario_loop *l;
  uint32_t entries;
  rec got[MAXREC];
  int n;
  ario_sqe backlog[32];
  int nb;
  int refused; /* entries ario_submit() did not take at once (full table) */
  uint64_t nonneg[8]; /* user_data whose res >= 0 is recorded as 0 (fds) */
  int nn;
  int fds[32];
  int nfds;
} T;

static void t_flush(T *t) {
  if (!t->nb) return;
  if (t->oracle_run) {
    oracle_submit(&t->o, t->backlog, t->nb);
    t->nb = 0;
    return;
  }
  int k = ario_submit(t->l, t->backlog, (uint32_t)t->nb);
  CHECK(k >= 0);
  if (k < t->nb) t->refused += t->nb - k;
  memmove(t->backlog, t->backlog + k, (size_t)(t->nb - k) * sizeof t->backlog[0]);
  t->nb -= k;
}

/* Submits n entries (what does not fit in a full table waits its turn). */
static void sub(T *t, const ario_sqe *s, int n) {
  CHECK(t->nb + n <= 32);
  memcpy(t->backlog + t->nb, s, (size_t)n * sizeof *s);
  t->nb += n;
  t_flush(t);
}

static void record(T *t, rec *r, int n) {
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < t->nn; k++)
      if (t->nonneg[k] == r[i].ud && r[i].res >= 0) {
        if (r[i].res > 2) t->fds[t->nfds++] = r[i].res; /* an accepted fd */
        r[i].res = 0;
      }
    CHECK(t->n < MAXREC);
    t->got[t->n++] = r[i];
  }
}

static int reap_once(T *t, int64_t timeout_ns) {
  rec r[32];
  int n;
  if (t->oracle_run) {
    n = oracle_reap(&t->o, r, 32, timeout_ns);
  } else {
    ario_cqe c[32];
    n = ario_reap(t->l, c, 32, timeout_ns);
    CHECK(n >= 0);
    for (int i = 0; i < n; i++) r[i] = (rec){c[i].user_data, c[i].res, c[i].flags};
  }
  record(t, r, n);
  t_flush(t);
  return n;
}

/* Waits until `total` completions have been recorded (at most 5 s). */
static void upto(T *t, int total) {
  int64_t until = ario_now() + 5000000000LL;
  while (t->n < total && ario_now() < until) reap_once(t, 50000000);
}

/* Reaps whatever comes for ms milliseconds. */
static void settle(T *t, int ms) {
  int64_t until = ario_now() + (int64_t)ms * 1000000;
  for (int64_t now = ario_now(); now < until; now = ario_now()) reap_once(t, until - now);
}

static void nonneg(T *t, uint64_t ud) { t->nonneg[t->nn++] = ud; }
static int keep(T *t, int fd) { t->fds[t->nfds++] = fd; return fd; }

static void msleep(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, 0);
}

/* A connected TCP pair, both non-blocking, closed after the scenario. */
static void pair(T *t, int fds[2]) {
  t_tcp_pair(fds);
  keep(t, fds[0]);
  keep(t, fds[1]);
}

/* A pipe (ario_pipe), closed after the scenario. */
static void pipe_pair(T *t, int fds[2]) {
  CHECK_EQ(ario_pipe(fds), 0);
  keep(t, fds[0]);
  keep(t, fds[1]);
}

static int listener(T *t, struct sockaddr_in *a) {
  socklen_t al = sizeof *a;
  memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(0x7f000001);
  int ls = keep(t, socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  CHECK(ls >= 0 && bind(ls, (void *)a, sizeof *a) == 0 && listen(ls, 8) == 0);
  CHECK(getsockname(ls, (void *)a, &al) == 0);
  return ls;
}

static void rst_close(int fd) { /* close with a reset instead of a FIN */
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);
}

#include "diff_scenarios.h"

/* ---------------------------------------------------------- running -- */

static int chain_of(uint64_t ud) { return (int)(ud / 10); }

/* Same multiset, and the same order within each chain (or globally). */
static int same(const T *a, const T *b, int global, char *why, size_t cap) {
  if (a->n != b->n) {
    snprintf(why, cap, "%d completions, kernel %d", b->n, a->n);
    return 0;
  }
  for (int i = 0; i < a->n; i++) {
    const rec *x = &a->got[i];
    /* the i-th record of its chain in a, vs the same in b */
    int rank = 0;
    for (int k = 0; k < i; k++)
      if (global || chain_of(a->got[k].ud) == chain_of(x->ud)) rank++;
    const rec *y = 0;
    for (int k = 0, r = 0; k < b->n; k++)
      if (global || chain_of(b->got[k].ud) == chain_of(x->ud)) {
        if (r++ == rank) { y = &b->got[k]; break; }
      }
    if (!y || y->ud != x->ud || y->res != x->res || y->flags != x->flags) {
      snprintf(why, cap, "kernel #%d (%llu,%d,%u) vs (%llu,%d,%u)", i,
               (unsigned long long)x->ud, x->res, x->flags,
               y ? (unsigned long long)y->ud : 0ull, y ? y->res : 0, y ? y->flags : 0);
      return 0;
    }
  }
  return 1;
}

static void dump(const char *who, const T *t) {
  printf("    %-8s", who);
  for (int i = 0; i < t->n; i++)
    printf(" (%llu,%d)", (unsigned long long)t->got[i].ud, t->got[i].res);
  printf("\n");
}

static T runs[2];

static void run(T *t, const scenario *sc, int oracle_run) {
  memset(t, 0, sizeof *t);
  t->oracle_run = oracle_run;
  t->entries = sc->entries ? sc->entries : 32;
  if (oracle_run) {
    CHECK_EQ(oracle_open(&t->o), 0);
  } else {
    t->l = t_loop(t->entries);
  }
  sc->fn(t);
  settle(t, 20); /* nothing more may come */
  if (oracle_run) oracle_close(&t->o);
  else ario_deinit(t->l);
  for (int i = 0; i < t->nfds; i++) close(t->fds[i]);
}

static int backend_bit(int id) {
  switch (id) {
  case ARIO_BACKEND_IO_URING: return D_URING;
  case ARIO_BACKEND_EPOLL: return D_EPOLL;
  case ARIO_BACKEND_POLL: return D_POLL;
  case ARIO_BACKEND_SELECT: return D_SELECT;
  default: return 0;
  }
}

int main(int argc, char **argv) {
  oracle probe;
  signal(SIGPIPE, SIG_IGN);
  if (oracle_open(&probe) < 0) {
    printf("SKIP all (no io_uring here: no oracle)\n");
    return T_EXIT_SKIP;
  }
  oracle_close(&probe);
  ario_loop *l = t_loop(8);
  int bit = backend_bit(ario_backend(l));
  ario_deinit(l);
  int fails = 0, count = 0;
  for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
    const scenario *sc = &scenarios[i];
    if (argc > 1 && strcmp(argv[1], sc->name)) continue;
    char why[160] = "";
    count++;
    run(&runs[0], sc, 1);
    run(&runs[1], sc, 0);
    int ok = same(&runs[0], &runs[1], sc->global, why, sizeof why);
    if (ok && !(sc->differs & bit)) {
      printf("PASS %s\n", sc->name);
    } else if (!ok && (sc->differs & bit)) {
      printf("PASS %s (known difference: %s)\n", sc->name, sc->reason);
    } else if (ok) {
      printf("PASS %s (matches the kernel despite the listed difference: %s)\n", sc->name, sc->reason);
    } else {
      printf("FAIL %s: %s\n", sc->name, why);
      dump("kernel", &runs[0]);
      dump("ario", &runs[1]);
      fails++;
    }
    fflush(stdout);
  }
  CHECK(count > 0);
  return fails ? T_EXIT_FAIL : T_EXIT_PASS;
}
#else
int main(void) {
  printf("SKIP all (its oracle is Linux's io_uring)\n");
  return 77;
}
#endif
