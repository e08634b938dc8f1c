/* Random batches (valid or NULL pointers, any op, flags, fds, lengths,
 * links, timeouts, cancels) on every backend: each consumed entry completes
 * exactly once, nothing hangs once everything is cancelled, and ASan/UBSan
 * stay quiet. Deterministic: the seed is fixed. */
#include "test.h"
#include <fcntl.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng % n);
}

#define MAXUD 200000
static unsigned char seen[MAXUD];
static unsigned char makes_fd[MAXUD]; /* OPENAT, SOCKET: its fd is closed when it arrives */
static char path[64];
static void remove_file(void) { unlink(path); }

static const int domains[] = {AF_INET, AF_INET6, AF_UNIX, 9999, -1};
static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, 99, -1};

/* A completion, checked: each once; the fd an OPENAT or SOCKET made is closed. */
static void reaped_one(const ario_cqe *c) {
  CHECK(c->user_data > 0 && c->user_data < MAXUD);
  CHECK(!seen[c->user_data]); /* exactly once */
  seen[c->user_data] = 1;
  if (makes_fd[c->user_data] && c->res >= 0) close(c->res);
}

int main(void) {
  ario_loop *l = t_loop(256);
  int p[2], s[2];
  CHECK(pipe(p) == 0);
  ario_set_nonblocking(p[0], 1);
  ario_set_nonblocking(p[1], 1);
  t_unix_pair(s);
  snprintf(path, sizeof path, "/tmp/ario-random-%d", (int)getpid());
  atexit(remove_file);
  int file = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  CHECK(file >= 0);
#if defined(_WIN32)
  /* descriptors are sockets: no file. No never-opened handle either: a
   * READ on one stays pending under Wine's WSAPoll (an open finding, see
   * docs/semantics.md); -1 stands in for both */
  int fds[] = {p[0], p[1], s[0], s[1], -1, -1, -1};
#else
  int fds[] = {p[0], p[1], s[0], s[1], file, -1, 9999};
#endif
  static char buf[8][256];
  static unsigned char sa[128];
  uint32_t salen = sizeof sa;
  ario_cqe c[64];
  /* READV/WRITEV arrays and RECVMSG/SENDMSG msghdrs that are always valid */
  static ario_iovec iov[ARIO_IOV_MAX + 1];
  for (unsigned k = 0; k <= ARIO_IOV_MAX; k++) iov[k] = (ario_iovec){(uintptr_t)buf[k % 8], rnd(257)};
  static ario_msghdr mh[2];
  static unsigned char ctl[256];
  uint64_t next_ud = 1, consumed = 0, reaped = 0;

  for (int round = 0; round < 3000; round++) {
    ario_sqe e[8];
    uint32_t n = 1 + rnd(8);
    for (uint32_t k = 0; k < n; k++) {
      memset(&e[k], 0, sizeof e[k]);
      e[k].op = (uint8_t)(rnd(20) == 0 ? ARIO_OP_COUNT_ + rnd(256 - ARIO_OP_COUNT_)
                                       : rnd(ARIO_OP_COUNT_));
      if (e[k].op == ARIO_OP_CLOSE) e[k].op = ARIO_OP_NOP; /* keep the harness's fds */
      e[k].flags = (uint8_t)(rnd(3) == 0 ? ARIO_SQE_LINK : rnd(6) == 0 ? ARIO_SQE_HARDLINK : 0);
      if (rnd(50) == 0) e[k].flags |= 0x40; /* invalid */
      e[k].fd = fds[rnd(7)];
      e[k].addr = rnd(10) ? (uintptr_t)buf[rnd(8)] : 0;
      e[k].len = rnd(300);
      if (e[k].len > 256) e[k].len = 256;
      e[k].off = e[k].fd == file && rnd(2) ? rnd(8192) : ARIO_OFF_CURRENT;
      if (e[k].op == ARIO_OP_SPLICE) { /* addr = fd_in, addr2 = its offset */
        e[k].addr = (uint64_t)(uint32_t)fds[rnd(7)];
        e[k].addr2 = rnd(8) ? ARIO_OFF_CURRENT : rnd(16);
      }
      if (e[k].op == ARIO_OP_TEE) { /* addr = fd_in; no offsets (now and then one: -EINVAL) */
        e[k].addr = (uint64_t)(uint32_t)fds[rnd(7)];
        e[k].off = rnd(8) ? 0 : e[k].off;
      }
      e[k].user_data = next_ud++;
      switch (e[k].op) {
      case ARIO_OP_TIMEOUT:
      case ARIO_OP_LINK_TIMEOUT:
        e[k].fd = -1;
        e[k].off = rnd(2000000);
        e[k].len = e[k].op == ARIO_OP_TIMEOUT ? rnd(3) : 0;
        break;
      case ARIO_OP_CANCEL:
        e[k].addr = next_ud - 1 - rnd(20);
        e[k].op_flags = rnd(4) == 0 ? ARIO_CANCEL_FD | (rnd(2) ? ARIO_CANCEL_ALL : 0) : 0;
        break;
      case ARIO_OP_POLL: e[k].op_flags = 1u << rnd(5); break;
      case ARIO_OP_RECVFROM:
      case ARIO_OP_SENDTO:
        e[k].addr2 = (uintptr_t)sa;
        e[k].off = e[k].op == ARIO_OP_RECVFROM ? (uintptr_t)&salen : sizeof sa;
        salen = sizeof sa;
        break;
      case ARIO_OP_ACCEPT:
        e[k].addr = 0;
        e[k].addr2 = 0;
        break;
      case ARIO_OP_CONNECT:
        e[k].addr = (uintptr_t)sa;
        e[k].len = 16;
        break;
      case ARIO_OP_SHUTDOWN: e[k].len = rnd(4); break;
      case ARIO_OP_READV:
      case ARIO_OP_WRITEV:
        if (e[k].addr) e[k].addr = (uintptr_t)iov;
        e[k].len = rnd(10) ? rnd(4) : rnd(ARIO_IOV_MAX + 2);
        break;
      case ARIO_OP_RECVMSG:
      case ARIO_OP_SENDMSG: {
        ario_msghdr *m = &mh[e[k].op == ARIO_OP_SENDMSG];
        *m = (ario_msghdr){.iov = rnd(10) ? (uintptr_t)iov : 0, .iovlen = rnd(4)};
        if (rnd(3) == 0) m->name = (uintptr_t)sa, m->namelen = rnd(129);
        if (e[k].op == ARIO_OP_RECVMSG && rnd(3) == 0) m->control = (uintptr_t)ctl, m->controllen = sizeof ctl;
        if (e[k].addr) e[k].addr = (uintptr_t)m;
        e[k].len = 0;
        e[k].off = 0;
        break;
      }
      case ARIO_OP_OPENAT:
        e[k].fd = rnd(2) ? AT_FDCWD : e[k].fd;
        e[k].addr = rnd(8) ? (uintptr_t)path : (uintptr_t)"/nonexistent-ario";
        e[k].op_flags = rnd(2) ? O_RDONLY : O_RDWR;
        e[k].len = 0;
        e[k].off = 0;
        makes_fd[e[k].user_data] = 1;
        break;
      case ARIO_OP_FSYNC:
        e[k].addr = 0;
        e[k].len = 0;
        e[k].off = 0;
        e[k].op_flags = rnd(2);
        break;
      case ARIO_OP_SOCKET:
        e[k].fd = domains[rnd(5)];
        e[k].off = (uint32_t)types[rnd(5)] | (rnd(4) == 0 ? (uint32_t)SOCK_NONBLOCK : 0u);
        e[k].len = rnd(3) == 0 ? rnd(300) : 0;
        e[k].addr = rnd(10) == 0 ? (uintptr_t)buf[0] : 0; /* -EINVAL */
        makes_fd[e[k].user_data] = 1;
        break;
      default: break;
      }
    }
    int got = ario_submit(l, e, n);
    CHECK(got >= 0 && (uint32_t)got <= n);
    consumed += (uint64_t)got;
    int r = ario_reap(l, c, 64, rnd(4) == 0 ? 100000 : 0);
    CHECK(r >= 0);
    for (int i = 0; i < r; i++) reaped_one(&c[i]);
    reaped += (uint64_t)r;
    /* keep the pipes from filling or draining for good: feed the readers,
     * now and then empty what the writers left */
    if (rnd(2) == 0) {
      ssize_t w = write(p[1], "data", 4) + write(s[0], "data", 4) + write(s[1], "data", 4);
      (void)w;
    }
    if (rnd(8) == 0) {
      char tmp[512];
      while (read(p[0], tmp, sizeof tmp) > 0) {
      }
      while (read(s[1], tmp, sizeof tmp) > 0) {
      }
    }
  }
  /* closing through the loop cancels what waits (the table may be too full
   * for a CANCEL entry); timeouts end by themselves; then all is complete */
  for (int k = 0; k < 4; k++) CHECK_EQ(ario_close(l, fds[k]), 0);
#if defined(_WIN32)
  close(file); /* a CRT descriptor the ops never saw */
#else
  CHECK_EQ(ario_close(l, file), 0);
#endif
  int64_t until = ario_now() + 5000000000LL;
  while (ario_inflight(l) > 0 && ario_now() < until) {
    int r = ario_reap(l, c, 64, 10000000);
    CHECK(r >= 0);
    for (int i = 0; i < r; i++) reaped_one(&c[i]);
    reaped += (uint64_t)r;
  }
  CHECK_EQ(ario_inflight(l), 0);
  CHECK_EQ(reaped, consumed);
  if (getenv("ARIO_TEST_VERBOSE")) fprintf(stderr, "consumed %llu\n", (unsigned long long)consumed);
  ario_deinit(l);
  return T_EXIT_PASS;
}
