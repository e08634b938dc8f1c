/*
 * diff_scenarios.h: the differential table. Each scenario is a function of
 * a runner T (ario on one backend, or the raw-io_uring oracle) that submits
 * entries with sub(), waits with upto()/settle(), and acts on the peer
 * ends with plain syscalls in between. user_data = chain * 10 + position.
 *
 * `differs` names the backends whose completions are allowed to differ from
 * the kernel's, and `reason` says why (docs/semantics.md lists the same).
 */
#define D_URING 1
#define D_EPOLL 2
#define D_POLL 4
#define D_SELECT 8
#define D_READY (D_EPOLL | D_POLL | D_SELECT)
#define D_ALL (D_URING | D_READY)

typedef struct scenario {
  const char *name;
  void (*fn)(T *t);
  int global;       /* compare the order of all completions, not per chain */
  uint32_t entries; /* op table size (0: 32) */
  int differs;      /* D_* backends allowed to differ from the kernel */
  const char *reason;
} scenario;

static char B[8][256];
static char big[65536];

static ario_sqe e_nop(uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(ARIO_OP_NOP, -1, ud);
  e.flags = fl;
  return e;
}
static ario_sqe e_recv(int fd, int b, uint32_t len, uint32_t opf, uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(ARIO_OP_RECV, fd, ud);
  e.addr = (uintptr_t)B[b]; e.len = len; e.op_flags = opf; e.flags = fl;
  return e;
}
static ario_sqe e_send(int fd, const void *p, uint32_t len, uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(ARIO_OP_SEND, fd, ud);
  e.addr = (uintptr_t)p; e.len = len; e.flags = fl;
  return e;
}
static ario_sqe e_rw(uint8_t op, int fd, void *p, uint32_t len, uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(op, fd, ud);
  e.addr = (uintptr_t)p; e.len = len; e.off = ARIO_OFF_CURRENT; e.flags = fl;
  return e;
}
static ario_sqe e_timeout(uint64_t ns, uint32_t count, uint32_t opf, uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(ARIO_OP_TIMEOUT, -1, ud);
  e.off = ns; e.len = count; e.op_flags = opf; e.flags = fl;
  return e;
}
static ario_sqe e_lt(uint64_t ns, uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(ARIO_OP_LINK_TIMEOUT, -1, ud);
  e.off = ns; e.flags = fl;
  return e;
}
static ario_sqe e_cancel(uint64_t key, int fd, uint32_t opf, uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(ARIO_OP_CANCEL, fd, ud);
  e.addr = key; e.op_flags = opf; e.flags = fl;
  return e;
}

#define L ARIO_SQE_LINK
#define H ARIO_SQE_HARDLINK
#define MS 1000000ull

/* A failing op: RECV on a pipe is -ENOTSOCK on every backend at once. */
static ario_sqe e_fail(T *t, uint64_t ud, uint8_t fl) {
  static int p[2];
  pipe_pair(t, p);
  return e_recv(p[0], 7, 8, 0, ud, fl);
}

static void sc_nop_batch(T *t) {
  ario_sqe s[3] = {e_nop(10, 0), e_nop(20, 0), e_nop(30, 0)};
  sub(t, s, 3);
  upto(t, 3);
}

static void sc_soft_ok(T *t) {
  ario_sqe s[3] = {e_nop(10, L), e_nop(11, L), e_nop(12, 0)};
  sub(t, s, 3);
  upto(t, 3);
}

static void chain_fail_at(T *t, int pos, uint8_t fl) {
  ario_sqe s[3];
  for (int i = 0; i < 3; i++) {
    uint8_t f = i < 2 ? fl : 0;
    s[i] = i == pos ? e_fail(t, 10 + (uint64_t)i, f) : e_nop(10 + (uint64_t)i, f);
  }
  sub(t, s, 3);
  upto(t, 3);
}
static void sc_soft_fail_0(T *t) { chain_fail_at(t, 0, L); }
static void sc_soft_fail_1(T *t) { chain_fail_at(t, 1, L); }
static void sc_soft_fail_2(T *t) { chain_fail_at(t, 2, L); }
static void sc_hard_fail_0(T *t) { chain_fail_at(t, 0, H); }
static void sc_hard_fail_1(T *t) { chain_fail_at(t, 1, H); }
static void sc_hard_fail_2(T *t) { chain_fail_at(t, 2, H); }

static void sc_hard_then_soft_fail(T *t) {
  ario_sqe s[4] = {e_nop(10, H), e_fail(t, 11, L), e_nop(12, H), e_nop(13, 0)};
  sub(t, s, 4);
  upto(t, 4);
}

static void sc_mixed_links(T *t) {
  ario_sqe s[4] = {e_fail(t, 10, H), e_nop(11, L), e_fail(t, 12, L), e_nop(13, 0)};
  sub(t, s, 4);
  upto(t, 4);
}

/* A READ of 8 finds 2 bytes, linked by `fl` to a NOP. */
static void short_read_then_nop(T *t, uint8_t fl) {
  int p[2];
  pipe_pair(t, p);
  CHECK_EQ(write(p[1], "xy", 2), 2);
  ario_sqe s[2] = {e_rw(ARIO_OP_READ, p[0], B[0], 8, 10, fl), e_nop(11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}
static void sc_short_read_breaks(T *t) { short_read_then_nop(t, L); }
static void sc_short_read_hardlink(T *t) { short_read_then_nop(t, H); }

static void sc_short_write_breaks(T *t) {
  int p[2];
  pipe_pair(t, p);
  CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
  ario_sqe s[2] = {e_rw(ARIO_OP_WRITE, p[1], big, 8192, 10, L), e_nop(11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_short_recv_goes_on(T *t) {
  int p[2];
  pair(t, p);
  CHECK_EQ(send(p[0], "hi", 2, 0), 2);
  ario_sqe s[2] = {e_recv(p[1], 0, 8, 0, 10, L), e_nop(11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_waitall_eof_breaks(T *t) {
  int p[2];
  pair(t, p);
  CHECK_EQ(send(p[0], "hi", 2, 0), 2);
  shutdown(p[0], SHUT_WR);
  ario_sqe s[2] = {e_recv(p[1], 0, 8, MSG_WAITALL, 10, L), e_nop(11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_send_recv_chain(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[2] = {e_send(p[0], "abcdefg", 7, 10, L), e_recv(p[1], 0, 7, MSG_WAITALL, 11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_waitall_gathers(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[2] = {e_recv(p[1], 0, 6, MSG_WAITALL, 10, L), e_nop(11, 0)};
  sub(t, s, 2);
  CHECK_EQ(send(p[0], "abc", 3, 0), 3);
  settle(t, 15);
  CHECK_EQ(send(p[0], "def", 3, 0), 3);
  upto(t, 2);
}

static void sc_lt_fires(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[3] = {e_recv(p[1], 0, 8, 0, 10, L), e_lt(20 * MS, 11, L), e_nop(12, 0)};
  sub(t, s, 3);
  upto(t, 3);
}

static void sc_lt_op_ready(T *t) {
  int p[2];
  pair(t, p);
  CHECK_EQ(send(p[0], "ok", 2, 0), 2);
  ario_sqe s[3] = {e_recv(p[1], 0, 8, 0, 10, L), e_lt(1000 * MS, 11, L), e_nop(12, 0)};
  sub(t, s, 3);
  upto(t, 3);
}

static void sc_lt_op_later(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[3] = {e_recv(p[1], 0, 8, 0, 10, L), e_lt(2000 * MS, 11, L), e_nop(12, 0)};
  sub(t, s, 3);
  settle(t, 15);
  CHECK_EQ(send(p[0], "late", 4, 0), 4);
  upto(t, 3);
}

static void sc_lt_last_fires(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[2] = {e_recv(p[1], 0, 8, 0, 10, L), e_lt(20 * MS, 11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_lt_op_fails(T *t) {
  ario_sqe s[3] = {e_fail(t, 10, L), e_lt(1000 * MS, 11, L), e_nop(12, 0)};
  sub(t, s, 3);
  upto(t, 3);
}

static void sc_lt_on_timeout(T *t) {
  ario_sqe s[2] = {e_timeout(500 * MS, 0, 0, 10, L), e_lt(20 * MS, 11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_lt_mid_chain(T *t) {
  int p[2];
  pair(t, p);
  CHECK_EQ(send(p[0], "x", 1, 0), 1);
  ario_sqe s[5] = {e_nop(10, L), e_recv(p[1], 0, 8, 0, 11, L), e_lt(1000 * MS, 12, L),
                   e_recv(p[1], 1, 8, 0, 13, L), e_lt(20 * MS, 14, 0)};
  sub(t, s, 5);
  upto(t, 5);
}

static void sc_timeout_fires(T *t) {
  ario_sqe s[1] = {e_timeout(10 * MS, 0, 0, 10, 0)};
  sub(t, s, 1);
  upto(t, 1);
}

static void sc_timeout_order(T *t) {
  int64_t now = ario_now();
  ario_sqe s[3] = {e_timeout(60 * MS, 0, 0, 10, 0), e_timeout(20 * MS, 0, 0, 20, 0),
                   e_timeout((uint64_t)now + 40 * MS, 0, ARIO_TIMEOUT_ABS, 30, 0)};
  sub(t, s, 3);
  upto(t, 3);
}

static void sc_timeout_abs_past(T *t) {
  ario_sqe s[1] = {e_timeout((uint64_t)ario_now() - MS, 0, ARIO_TIMEOUT_ABS, 10, 0)};
  sub(t, s, 1);
  upto(t, 1);
}

static void sc_timeout_count_reached(T *t) {
  ario_sqe s[3] = {e_timeout(5000 * MS, 2, 0, 10, 0), e_nop(20, 0), e_nop(30, 0)};
  sub(t, s, 3);
  upto(t, 3);
}

static void sc_timeout_count_fires(T *t) {
  ario_sqe s[2] = {e_timeout(20 * MS, 5, 0, 10, 0), e_nop(20, 0)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_timeout_count_later(T *t) {
  ario_sqe s[1] = {e_timeout(5000 * MS, 1, 0, 10, 0)};
  sub(t, s, 1);
  settle(t, 10);
  ario_sqe n[1] = {e_nop(20, 0)};
  sub(t, n, 1);
  upto(t, 2);
}

static void sc_timeout_expired_not_counted(T *t) {
  ario_sqe s[2] = {e_timeout(10 * MS, 0, 0, 10, 0), e_timeout(5000 * MS, 1, 0, 20, 0)};
  sub(t, s, 2);
  upto(t, 1);
  settle(t, 10);
  ario_sqe n[1] = {e_nop(30, 0)};
  sub(t, n, 1);
  upto(t, 3);
}

static void sc_timeout_breaks_chain(T *t) {
  ario_sqe s[2] = {e_timeout(10 * MS, 0, 0, 10, L), e_nop(11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_cancel_ud_pending(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[1] = {e_recv(p[1], 0, 8, 0, 10, 0)};
  sub(t, s, 1);
  settle(t, 5);
  ario_sqe c[1] = {e_cancel(10, -1, 0, 20, 0)};
  sub(t, c, 1);
  upto(t, 2);
}

static void sc_cancel_ud_finished(T *t) {
  ario_sqe s[1] = {e_nop(10, 0)};
  sub(t, s, 1);
  upto(t, 1);
  ario_sqe c[1] = {e_cancel(10, -1, 0, 20, 0)};
  sub(t, c, 1);
  upto(t, 2);
}

static void sc_cancel_ud_missing(T *t) {
  ario_sqe c[1] = {e_cancel(777, -1, 0, 20, 0)};
  sub(t, c, 1);
  upto(t, 1);
}

static void sc_cancel_timeout(T *t) {
  ario_sqe s[2] = {e_timeout(5000 * MS, 0, 0, 10, 0), e_cancel(10, -1, 0, 20, 0)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_cancel_ud_all(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[3] = {e_recv(p[1], 0, 8, 0, 10, 0), e_recv(p[1], 1, 8, 0, 10, 0),
                   e_cancel(10, -1, ARIO_CANCEL_ALL, 20, 0)};
  sub(t, s, 3);
  upto(t, 3);
}

static void sc_cancel_fd_all(T *t) {
  int p[2];
  pair(t, p);
  /* one user_data for both: which goes first is the kernel's hash order */
  ario_sqe s[3] = {e_recv(p[1], 0, 8, 0, 10, 0), e_recv(p[1], 1, 8, 0, 10, 0),
                   e_cancel(0, p[1], ARIO_CANCEL_FD | ARIO_CANCEL_ALL, 30, 0)};
  sub(t, s, 3);
  upto(t, 3);
}

static void sc_cancel_fd_one(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[3] = {e_recv(p[1], 0, 8, 0, 10, 0), e_recv(p[1], 1, 8, 0, 10, 0),
                   e_cancel(0, p[1], ARIO_CANCEL_FD, 20, 0)};
  sub(t, s, 3);
  upto(t, 2);
  CHECK_EQ(send(p[0], "z", 1, 0), 1);
  upto(t, 3);
}

static void sc_cancel_fd_none(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe c[1] = {e_cancel(0, p[1], ARIO_CANCEL_FD | ARIO_CANCEL_ALL, 20, 0)};
  sub(t, c, 1);
  upto(t, 1);
}

static void sc_cancel_running_waitall(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[1] = {e_recv(p[1], 0, 8, MSG_WAITALL, 10, 0)};
  sub(t, s, 1);
  CHECK_EQ(send(p[0], "abc", 3, 0), 3);
  settle(t, 20);
  ario_sqe c[1] = {e_cancel(10, -1, 0, 20, 0)};
  sub(t, c, 1);
  upto(t, 2);
}

static void sc_cancel_any_all(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[3] = {e_recv(p[1], 0, 8, 0, 10, 0), e_timeout(5000 * MS, 0, 0, 10, 0),
                   e_cancel(0, -1, ARIO_CANCEL_ANY | ARIO_CANCEL_ALL, 30, 0)};
  sub(t, s, 3);
  upto(t, 3);
}

static void sc_cancel_in_chain(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[3] = {e_recv(p[1], 0, 8, 0, 10, 0), e_nop(20, L), e_cancel(10, -1, 0, 21, 0)};
  sub(t, s, 3);
  upto(t, 3);
}

static void sc_close_cancels_pending(T *t) {
  int p[2];
  t_tcp_pair(p);
  keep(t, p[0]);
  ario_sqe s[2] = {e_recv(p[1], 0, 8, 0, 10, 0), t_sqe(ARIO_OP_CLOSE, p[1], 20)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_close_bad_fd(T *t) {
  ario_sqe s[2] = {t_sqe(ARIO_OP_CLOSE, 999, 10), e_nop(11, 0)};
  s[0].flags = L;
  sub(t, s, 2);
  upto(t, 2);
}

static ario_sqe e_socket(int domain, int type, int protocol, uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(ARIO_OP_SOCKET, domain, ud);
  e.off = (uint32_t)type; e.len = (uint32_t)protocol; e.flags = fl;
  return e;
}

/* Kinds of sockets (raw and packet ones as root, as the tests run). */
static void sc_socket_kinds(T *t) {
  ario_sqe s[7] = {
      e_socket(AF_INET, SOCK_DGRAM, 0, 10, 0),
      e_socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP, 20, 0),
      e_socket(AF_UNIX, SOCK_SEQPACKET, 0, 30, 0),
      e_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP, 40, 0),
      e_socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6, 50, 0),
      e_socket(AF_PACKET, SOCK_DGRAM, 0, 60, 0),
      e_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, 70, 0),
  };
  for (int i = 0; i < 7; i++) nonneg(t, s[i].user_data);
  sub(t, s, 7);
  upto(t, 7);
}

/* What socket(2) refuses, and fields SOCKET does not read. */
static void sc_socket_errors(T *t) {
  ario_sqe s[9] = {
      e_socket(9999, SOCK_DGRAM, 0, 10, 0),              /* -EAFNOSUPPORT */
      e_socket(-1, SOCK_DGRAM, 0, 20, 0),
      e_socket(AF_UNSPEC, SOCK_DGRAM, 0, 30, 0),
      e_socket(AF_INET, 12, 0, 40, 0),                   /* type >= SOCK_MAX: -EINVAL */
      e_socket(AF_INET, SOCK_DGRAM | 0x100000, 0, 50, 0), /* unknown flag bit */
      e_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP, 60, 0), /* -EPROTONOSUPPORT */
      e_socket(AF_INET, SOCK_DGRAM, 9999, 70, 0),
      e_socket(AF_INET, SOCK_DGRAM, 0, 80, 0),
      e_socket(AF_INET, SOCK_DGRAM, 0, 90, 0),
  };
  s[7].addr = (uintptr_t)B[0];
  s[8].op_flags = 1;
  sub(t, s, 9);
  upto(t, 9);
}

/* Chains: a soft link goes on after a socket, not after a refusal; a hard
 * link runs on after socket(2) failed, but not after a type the kernel
 * refuses before running the op. */
static void sc_socket_chain(T *t) {
  ario_sqe s[8] = {
      e_socket(AF_INET, SOCK_DGRAM, 0, 10, L), e_nop(11, 0),
      e_socket(9999, SOCK_DGRAM, 0, 20, L), e_nop(21, 0),
      e_socket(9999, SOCK_DGRAM, 0, 30, H), e_nop(31, 0),
      e_socket(AF_INET, SOCK_DGRAM | 0x100000, 0, 40, H), e_nop(41, 0),
  };
  nonneg(t, 10);
  sub(t, s, 8);
  upto(t, 8);
}

static void sc_accept_connect(T *t) {
  struct sockaddr_in a;
  int ls = listener(t, &a);
  int c = keep(t, socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  ario_sqe s[3] = {t_sqe(ARIO_OP_ACCEPT, ls, 10), t_sqe(ARIO_OP_CONNECT, c, 20), e_send(c, "hey", 3, 21, 0)};
  s[1].addr = (uintptr_t)&a; s[1].len = sizeof a; s[1].flags = L;
  nonneg(t, 10);
  sub(t, s, 3);
  upto(t, 3);
}

/* Blocking connects of n fresh clients to a (they land in the backlog). */
static void dial_n(T *t, const struct sockaddr_in *a, int n) {
  for (int k = 0; k < n; k++) {
    int c = keep(t, socket(AF_INET, SOCK_STREAM, 0));
    CHECK(connect(c, (const void *)a, sizeof *a) == 0);
  }
}

static void sc_accept_multi_cancel(T *t) {
  struct sockaddr_in a;
  int ls = listener(t, &a);
  ario_sqe s[1] = {t_sqe(ARIO_OP_ACCEPT_MULTI, ls, 10)};
  nonneg(t, 10);
  sub(t, s, 1);
  dial_n(t, &a, 3);
  upto(t, 3);
  s[0] = e_cancel(10, -1, 0, 20, 0);
  sub(t, s, 1);
  upto(t, 5);
}

static void sc_accept_multi_close(T *t) {
  struct sockaddr_in a;
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  socklen_t al = sizeof a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(0x7f000001);
  CHECK(bind(ls, (void *)&a, sizeof a) == 0 && listen(ls, 8) == 0);
  CHECK(getsockname(ls, (void *)&a, &al) == 0);
  ario_sqe s[1] = {t_sqe(ARIO_OP_ACCEPT_MULTI, ls, 10)};
  nonneg(t, 10);
  sub(t, s, 1);
  dial_n(t, &a, 1);
  upto(t, 1);
  s[0] = t_sqe(ARIO_OP_CLOSE, ls, 20);
  sub(t, s, 1);
  upto(t, 3);
}

static void sc_accept_multi_counted(T *t) {
  struct sockaddr_in a;
  int ls = listener(t, &a);
  ario_sqe s[2] = {e_timeout(2000 * MS, 2, 0, 10, 0), t_sqe(ARIO_OP_ACCEPT_MULTI, ls, 20)};
  nonneg(t, 20);
  sub(t, s, 2);
  dial_n(t, &a, 2);
  upto(t, 3);
  s[0] = e_cancel(20, -1, 0, 30, 0);
  sub(t, s, 1);
  upto(t, 5);
}

static void sc_accept_multi_error(T *t) {
  int idle = keep(t, socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  ario_sqe s[1] = {t_sqe(ARIO_OP_ACCEPT_MULTI, idle, 10)};
  sub(t, s, 1);
  upto(t, 1);
}

/* It may end a chain: it starts when the op before it completes. */
static void sc_accept_multi_after_link(T *t) {
  struct sockaddr_in a;
  int ls = listener(t, &a);
  ario_sqe s[2] = {e_nop(10, L), t_sqe(ARIO_OP_ACCEPT_MULTI, ls, 11)};
  nonneg(t, 11);
  sub(t, s, 2);
  dial_n(t, &a, 2);
  upto(t, 3);
  s[0] = e_cancel(11, -1, 0, 20, 0);
  sub(t, s, 1);
  upto(t, 5);
}

/* Linking on from it: ario refuses it (see the table's reason). */
static void sc_accept_multi_links_on(T *t) {
  struct sockaddr_in a;
  int ls = listener(t, &a);
  ario_sqe s[2] = {t_sqe(ARIO_OP_ACCEPT_MULTI, ls, 10), e_nop(11, 0)};
  s[0].flags = L;
  sub(t, s, 2);
  dial_n(t, &a, 1);
  upto(t, 2);
  s[0] = e_cancel(10, -1, 0, 20, 0);
  sub(t, s, 1);
  settle(t, 20);
}

static void sc_connect_refused(T *t) {
  struct sockaddr_in a;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  socklen_t al = sizeof a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(0x7f000001);
  CHECK(bind(ls, (void *)&a, sizeof a) == 0 && getsockname(ls, (void *)&a, &al) == 0);
  close(ls);
  int c = keep(t, socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  ario_sqe s[2] = {t_sqe(ARIO_OP_CONNECT, c, 10), e_nop(11, 0)};
  s[0].addr = (uintptr_t)&a; s[0].len = sizeof a; s[0].flags = L;
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_recv_reset(T *t) {
  int p[2];
  t_tcp_pair(p);
  keep(t, p[1]);
  ario_sqe s[1] = {e_recv(p[1], 0, 8, 0, 10, 0)};
  sub(t, s, 1);
  settle(t, 5);
  rst_close(p[0]);
  upto(t, 1);
}

static void sc_peer_close_mid_transfer(T *t) {
  int p[2];
  t_tcp_pair(p);
  keep(t, p[1]);
  ario_sqe s[2] = {e_recv(p[1], 0, 8, MSG_WAITALL, 10, H), e_recv(p[1], 1, 8, 0, 11, 0)};
  sub(t, s, 2);
  CHECK_EQ(send(p[0], "abc", 3, 0), 3);
  settle(t, 10);
  close(p[0]);
  upto(t, 2);
}

static void sc_send_after_reset(T *t) {
  int p[2];
  t_tcp_pair(p);
  keep(t, p[1]);
  rst_close(p[0]);
  msleep(5);
  ario_sqe s[2] = {e_send(p[1], "data", 4, 10, 0), e_send(p[1], "more", 4, 20, 0)};
  sub(t, s, 1);
  upto(t, 1);
  sub(t, s + 1, 1);
  upto(t, 2);
}

static void sc_poll_in(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[2] = {t_sqe(ARIO_OP_POLL, p[1], 10), e_recv(p[1], 0, 8, 0, 11, 0)};
  s[0].op_flags = ARIO_POLL_IN; s[0].flags = L;
  sub(t, s, 2);
  settle(t, 5);
  CHECK_EQ(send(p[0], "x", 1, 0), 1);
  upto(t, 2);
}

static void sc_poll_out_shutdown(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[3] = {t_sqe(ARIO_OP_POLL, p[1], 10), t_sqe(ARIO_OP_SHUTDOWN, p[1], 11),
                   e_recv(p[0], 0, 8, 0, 12, 0)};
  s[0].op_flags = ARIO_POLL_OUT; s[0].flags = L;
  s[1].len = SHUT_WR; s[1].flags = L;
  sub(t, s, 3);
  upto(t, 3);
}

static void sc_poll_peer_closed(T *t) {
  int p[2];
  t_tcp_pair(p);
  keep(t, p[1]);
  close(p[0]);
  ario_sqe s[1] = {t_sqe(ARIO_OP_POLL, p[1], 10)};
  s[0].op_flags = ARIO_POLL_IN;
  sub(t, s, 1);
  upto(t, 1);
}

static void sc_udp_sendto_recvfrom(T *t) {
  static struct sockaddr_in a, from;
  static uint32_t from_len;
  socklen_t al = sizeof a;
  int u1 = keep(t, socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
  int u2 = keep(t, socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(0x7f000001);
  CHECK(bind(u1, (void *)&a, sizeof a) == 0 && getsockname(u1, (void *)&a, &al) == 0);
  from_len = sizeof from;
  ario_sqe s[2] = {t_sqe(ARIO_OP_RECVFROM, u1, 10), t_sqe(ARIO_OP_SENDTO, u2, 20)};
  s[0].addr = (uintptr_t)B[0]; s[0].len = 64; s[0].addr2 = (uintptr_t)&from; s[0].off = (uintptr_t)&from_len;
  s[1].addr = (uintptr_t)"ping"; s[1].len = 4; s[1].addr2 = (uintptr_t)&a; s[1].off = sizeof a;
  sub(t, s, 2);
  upto(t, 2);
  rec r = {30, (int32_t)from_len, 0}; /* the address length came back */
  record(t, &r, 1);
}

static void sc_read_pipe_later(T *t) {
  int p[2];
  pipe_pair(t, p);
  ario_sqe s[2] = {e_rw(ARIO_OP_READ, p[0], B[0], 4, 10, L), e_rw(ARIO_OP_WRITE, p[1], "back", 4, 11, 0)};
  sub(t, s, 2);
  settle(t, 5);
  CHECK_EQ(write(p[1], "data", 4), 4);
  upto(t, 2);
}

#include "diff_msg.h" /* READV, WRITEV, RECVMSG, SENDMSG */

static void sc_full_table(T *t) {
  ario_sqe s[5] = {e_timeout(30 * MS, 0, 0, 10, 0), e_timeout(40 * MS, 0, 0, 20, 0),
                   e_timeout(50 * MS, 0, 0, 30, 0), e_nop(40, L), e_nop(41, 0)};
  sub(t, s, 5);
  if (!t->oracle_run) CHECK_EQ(t->refused, 2); /* the chain waits for room */
  upto(t, 5);
}

#include "diff_splice.h" /* SPLICE scenarios (their table rows are below) */
#include "diff_tee.h"    /* TEE scenarios (TEE_ROWS in the table) */
#include "diff_bufring.h" /* RECV_MULTI scenarios (their table rows are below) */

static void sc_chain_open_end(T *t) {
  ario_sqe s[2] = {e_nop(10, L), e_nop(11, L)};
  sub(t, s, 2);
  upto(t, 2);
}

/* Files: OPENAT and FSYNC, READ on a regular file (the pool on readiness
 * backends, the kernel's own path on io_uring). */
static ario_sqe e_openat(int dirfd, const char *path, uint32_t flags, uint32_t mode, uint64_t ud,
                         uint8_t fl) {
  ario_sqe e = t_sqe(ARIO_OP_OPENAT, dirfd, ud);
  e.addr = (uintptr_t)path; e.op_flags = flags; e.len = mode; e.flags = fl;
  return e;
}
static char diff_path[64];
static void diff_file_remove(void) { unlink(diff_path); }
static const char *diff_file(void) { /* 5 bytes, "hello" */
  char *path = diff_path;
  if (!path[0]) {
    atexit(diff_file_remove);
    snprintf(path, sizeof diff_path, "/tmp/ario-diff-%d", (int)getpid());
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    CHECK(fd >= 0 && write(fd, "hello", 5) == 5);
    close(fd);
  }
  return path;
}
static int diff_file_fd(T *t) { return keep(t, open(diff_file(), O_RDWR | O_CLOEXEC)); }

static void sc_openat_enoent(T *t) {
  ario_sqe s[2] = {e_openat(AT_FDCWD, "/nonexistent-ario/x", O_RDONLY, 0, 10, L), e_nop(11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}
static void sc_openat_notdir(T *t) {
  ario_sqe s[1] = {e_openat(AT_FDCWD, diff_file(), O_RDONLY | O_DIRECTORY, 0, 10, 0)};
  sub(t, s, 1);
  upto(t, 1);
}
static void sc_openat_empty(T *t) {
  ario_sqe s[2] = {e_nop(10, L), e_openat(AT_FDCWD, "", O_RDONLY, 0, 11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}
static void sc_openat_ok(T *t) {
  ario_sqe s[2] = {e_openat(AT_FDCWD, diff_file(), O_RDONLY, 0, 10, L), e_nop(11, 0)};
  nonneg(t, 10);
  sub(t, s, 2);
  upto(t, 2);
}
static void sc_openat_bad_dirfd(T *t) {
  ario_sqe s[2] = {e_openat(-1, "relative", O_RDONLY, 0, 10, 0),
                   e_openat(-1, diff_file(), O_RDONLY, 0, 20, 0)}; /* absolute: dirfd ignored */
  nonneg(t, 20);
  sub(t, s, 2);
  upto(t, 2);
}
static void sc_read_file_eof(T *t) {
  int fd = diff_file_fd(t);
  ario_sqe s[3] = {e_rw(ARIO_OP_READ, fd, B[0], 200, 10, L), e_nop(11, 0),
                   e_rw(ARIO_OP_READ, fd, B[1], 8, 20, 0)};
  s[0].off = 0; /* short: 5 of 200, breaks the soft link */
  s[2].off = 5; /* at the end: 0 */
  sub(t, s, 3);
  upto(t, 3);
}
static void sc_fsync(T *t) {
  int p[2];
  pipe_pair(t, p);
  int fd = diff_file_fd(t);
  ario_sqe s[3] = {t_sqe(ARIO_OP_FSYNC, fd, 10), t_sqe(ARIO_OP_FSYNC, fd, 20),
                   t_sqe(ARIO_OP_FSYNC, p[1], 30)}; /* a pipe: -EINVAL */
  s[1].op_flags = ARIO_FSYNC_DATASYNC;
  sub(t, s, 3);
  upto(t, 3);
}
static void sc_fsync_bad_flags(T *t) {
  int fd = diff_file_fd(t);
  ario_sqe s[1] = {t_sqe(ARIO_OP_FSYNC, fd, 10)};
  s[0].op_flags = 2;
  sub(t, s, 1);
  upto(t, 1);
}

static const scenario scenarios[] = {
    {"nop_batch", sc_nop_batch, 0, 0, 0, 0},
    {"soft_chain_ok", sc_soft_ok, 0, 0, 0, 0},
    {"soft_fail_at_0", sc_soft_fail_0, 0, 0, 0, 0},
    {"soft_fail_at_1", sc_soft_fail_1, 0, 0, 0, 0},
    {"soft_fail_at_2", sc_soft_fail_2, 0, 0, 0, 0},
    {"hard_fail_at_0", sc_hard_fail_0, 0, 0, 0, 0},
    {"hard_fail_at_1", sc_hard_fail_1, 0, 0, 0, 0},
    {"hard_fail_at_2", sc_hard_fail_2, 0, 0, 0, 0},
    {"hard_then_soft_fail", sc_hard_then_soft_fail, 0, 0, 0, 0},
    {"mixed_links", sc_mixed_links, 0, 0, 0, 0},
    {"short_read_breaks", sc_short_read_breaks, 0, 0, 0, 0},
    {"short_read_hardlink", sc_short_read_hardlink, 0, 0, 0, 0},
    {"short_write_breaks", sc_short_write_breaks, 0, 0, 0, 0},
    {"short_recv_goes_on", sc_short_recv_goes_on, 0, 0, 0, 0},
    {"waitall_eof_breaks", sc_waitall_eof_breaks, 0, 0, 0, 0},
    {"waitall_gathers", sc_waitall_gathers, 0, 0, 0, 0},
    {"send_recv_chain", sc_send_recv_chain, 0, 0, 0, 0},
    {"link_timeout_fires", sc_lt_fires, 0, 0, 0, 0},
    {"link_timeout_op_ready", sc_lt_op_ready, 0, 0, 0, 0},
    {"link_timeout_op_later", sc_lt_op_later, 0, 0, 0, 0},
    {"link_timeout_last_fires", sc_lt_last_fires, 0, 0, 0, 0},
    {"link_timeout_op_fails", sc_lt_op_fails, 0, 0, 0, 0},
    {"link_timeout_on_timeout", sc_lt_on_timeout, 0, 0, 0, 0},
    {"link_timeout_mid_chain", sc_lt_mid_chain, 0, 0, 0, 0},
    {"timeout_fires", sc_timeout_fires, 0, 0, 0, 0},
    {"timeout_order", sc_timeout_order, 1, 0, 0, 0},
    {"timeout_abs_past", sc_timeout_abs_past, 0, 0, 0, 0},
    {"timeout_count_reached", sc_timeout_count_reached, 1, 0, 0, 0},
    {"timeout_count_fires", sc_timeout_count_fires, 1, 0, 0, 0},
    {"timeout_count_later", sc_timeout_count_later, 1, 0, 0, 0},
    {"timeout_expired_not_counted", sc_timeout_expired_not_counted, 1, 0, 0, 0},
    {"timeout_breaks_chain", sc_timeout_breaks_chain, 0, 0, 0, 0},
    {"cancel_ud_pending", sc_cancel_ud_pending, 1, 0, 0, 0},
    {"cancel_ud_finished", sc_cancel_ud_finished, 1, 0, 0, 0},
    {"cancel_ud_missing", sc_cancel_ud_missing, 0, 0, 0, 0},
    {"cancel_timeout", sc_cancel_timeout, 1, 0, 0, 0},
    {"cancel_ud_all", sc_cancel_ud_all, 1, 0, 0, 0},
    {"cancel_fd_all", sc_cancel_fd_all, 1, 0, 0, 0},
    {"cancel_fd_one", sc_cancel_fd_one, 1, 0, 0, 0},
    {"cancel_fd_none", sc_cancel_fd_none, 0, 0, 0, 0},
    {"cancel_running_waitall", sc_cancel_running_waitall, 1, 0, 0, 0},
    {"cancel_any_all", sc_cancel_any_all, 1, 0, 0, 0},
    {"cancel_in_chain", sc_cancel_in_chain, 1, 0, 0, 0},
    {"close_cancels_pending", sc_close_cancels_pending, 1, 0, 0, 0},
    {"close_bad_fd", sc_close_bad_fd, 0, 0, 0, 0},
    {"socket_kinds", sc_socket_kinds, 0, 0, 0, 0},
    {"socket_errors", sc_socket_errors, 0, 0, 0, 0},
    {"socket_chain", sc_socket_chain, 0, 0, 0, 0},
    {"accept_connect", sc_accept_connect, 0, 0, 0, 0},
    {"connect_refused", sc_connect_refused, 0, 0, 0, 0},
    {"accept_multi_cancel", sc_accept_multi_cancel, 1, 0, 0, 0},
    {"accept_multi_close", sc_accept_multi_close, 1, 0, 0, 0},
    {"accept_multi_counted", sc_accept_multi_counted, 1, 0, 0, 0},
    {"accept_multi_error", sc_accept_multi_error, 0, 0, 0, 0},
    {"accept_multi_after_link", sc_accept_multi_after_link, 1, 0, 0, 0},
    {"accept_multi_links_on", sc_accept_multi_links_on, 0, 0, D_ALL,
     "ario fails an ACCEPT_MULTI that carries a link flag -EINVAL (its chain "
     "-ECANCELED): it has no one result a chain could follow; the kernel "
     "takes it, posts its fds without F_MORE though it goes on, and "
     "cancels the next op when it ends"},
    {"recv_multi_basic", sc_recv_multi_basic, 0, 0, 0, 0},
    {"recv_multi_nobufs", sc_recv_multi_nobufs, 0, 0, 0, 0},
    {"recv_multi_regive", sc_recv_multi_regive, 0, 0, 0, 0},
    {"recv_multi_eof", sc_recv_multi_eof, 0, 0, 0, 0},
    {"recv_multi_no_group", sc_recv_multi_no_group, 0, 0, 0, 0},
    {"recv_multi_cancel_close", sc_recv_multi_cancel_close, 0, 0, 0, 0},
    {"recv_multi_counted", sc_recv_multi_counted, 1, 0, 0, 0},
    {"recv_multi_udp", sc_recv_multi_udp, 0, 0, 0, 0},
    {"recv_multi_links_on", sc_recv_multi_links_on, 0, 0, D_ALL,
     "ario fails a RECV_MULTI that carries a link flag -EINVAL (its chain "
     "-ECANCELED), as ACCEPT_MULTI: it has no one result a chain could follow"},
    {"recv_reset", sc_recv_reset, 0, 0, 0, 0},
    {"peer_close_mid_transfer", sc_peer_close_mid_transfer, 0, 0, 0, 0},
    {"send_after_reset", sc_send_after_reset, 0, 0, 0, 0},
    {"poll_in", sc_poll_in, 0, 0, 0, 0},
    {"poll_out_shutdown", sc_poll_out_shutdown, 0, 0, 0, 0},
    {"poll_peer_closed", sc_poll_peer_closed, 0, 0, 0, 0},
    {"udp_sendto_recvfrom", sc_udp_sendto_recvfrom, 0, 0, 0, 0},
    {"read_pipe_later", sc_read_pipe_later, 0, 0, 0, 0},
    {"writev_readv_short", sc_writev_readv_short, 0, 0, 0, 0},
    {"readv_later", sc_readv_later, 0, 0, 0, 0},
    {"msg_rights_ctrunc", sc_msg_rights, 0, 0, 0, 0},
    {"msg_udp_trunc", sc_msg_udp_trunc, 0, 0, 0, 0},
    {"msg_cancel", sc_msg_cancel, 1, 0, 0, 0},
    {"full_table", sc_full_table, 0, 4, 0, 0},
    {"splice_socket_pipe_socket", sc_splice_socket_pipe_socket, 0, 0, 0, 0},
    {"splice_short_breaks", sc_splice_short_breaks, 0, 0, 0, 0},
    {"splice_eof", sc_splice_eof, 0, 0, 0, 0},
    {"splice_bad_fd", sc_splice_bad_fd, 0, 0, 0, 0},
    {"splice_not_a_pipe", sc_splice_not_a_pipe, 0, 0, 0, 0},
    {"splice_offset_on_pipe", sc_splice_offset_on_pipe, 0, 0, 0, 0},
    {"splice_len0", sc_splice_len0, 0, 0, 0, 0},
    {"splice_waits_for_input", sc_splice_waits_for_input, 0, 0, D_ALL,
     "the kernel's SPLICE from a non-blocking socket with nothing to read "
     "answers -EAGAIN at once; ario waits for the input (io_uring: a "
     "POLL_ADD linked before it)"},
    TEE_ROWS
    {"openat_enoent", sc_openat_enoent, 0, 0, 0, 0},
    {"openat_notdir", sc_openat_notdir, 0, 0, 0, 0},
    {"openat_empty_path", sc_openat_empty, 0, 0, 0, 0},
    {"openat_ok", sc_openat_ok, 0, 0, 0, 0},
    {"openat_bad_dirfd", sc_openat_bad_dirfd, 0, 0, 0, 0},
    {"read_file_eof", sc_read_file_eof, 0, 0, 0, 0},
    {"fsync_file_pipe", sc_fsync, 0, 0, 0, 0},
    {"fsync_bad_flags", sc_fsync_bad_flags, 0, 0, 0, 0},
    {"chain_open_end", sc_chain_open_end, 0, 0, D_ALL,
     "ario refuses a chain that ends the batch on a link (-ECANCELED..., "
     "-EINVAL on the last: a chain never spans submissions); the kernel "
     "submits it as if the last link flag were absent"},
};
