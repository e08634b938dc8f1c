/*
 * diff_bufring.h: the RECV_MULTI scenarios of the differential table
 * (included by diff_scenarios.h, their rows are in its table). The oracle
 * registers the same provided-buffer ring with the kernel and gives
 * buffers by hand, as liburing's io_uring_buf_ring_add does.
 */
#define D_RING_N 16u
static ario_buf d_ring[D_RING_N] __attribute__((aligned(4096)));
static unsigned char d_bufs[D_RING_N][64];

/* Gives buffer `bid` (len bytes of d_bufs[bid]) to group 0. */
static void d_give(T *t, uint32_t bid, uint32_t len) {
  if (!t->oracle_run) {
    CHECK_EQ(ario_buffers_give(t->l, 0, (uintptr_t)d_bufs[bid], len, bid), 0);
    return;
  }
  uint16_t tail = d_ring[0].resv;
  ario_buf *b = &d_ring[tail & (D_RING_N - 1)];
  b->addr = (uintptr_t)d_bufs[bid];
  b->len = len;
  b->bid = (uint16_t)bid;
  __atomic_store_n(&d_ring[0].resv, (uint16_t)(tail + 1), __ATOMIC_RELEASE);
}

/* Registers group 0 over d_ring and gives it n buffers of len bytes. */
static void d_group(T *t, uint32_t n, uint32_t len) {
  memset(d_ring, 0, sizeof d_ring);
  memset(d_bufs, 0, sizeof d_bufs);
  if (t->oracle_run) {
    struct io_uring_buf_reg r;
    memset(&r, 0, sizeof r);
    r.ring_addr = (uintptr_t)d_ring;
    r.ring_entries = D_RING_N;
    CHECK((int)syscall(__NR_io_uring_register, t->o.fd, IORING_REGISTER_PBUF_RING, &r, 1) == 0);
  } else {
    CHECK_EQ(ario_buffers_register(t->l, 0, d_ring, D_RING_N), 0);
  }
  for (uint32_t k = 0; k < n; k++) d_give(t, k, len);
}

static ario_sqe e_recv_multi(int fd, uint32_t group, uint64_t ud) {
  ario_sqe e = t_sqe(ARIO_OP_RECV_MULTI, fd, ud);
  e.len = group;
  return e;
}

/* Chunks take the buffers in order, each at most its length; the bytes
 * land where the completion says; end of stream ends it with 0. */
static void sc_recv_multi_basic(T *t) {
  int p[2];
  pair(t, p);
  d_group(t, 6, 16);
  ario_sqe s[1] = {e_recv_multi(p[0], 0, 10)};
  sub(t, s, 1);
  settle(t, 10);
  CHECK_EQ(send(p[1], "hello", 5, 0), 5);
  upto(t, 1);
  CHECK_EQ(send(p[1], big, 40, 0), 40);
  upto(t, 4);
  CHECK(!memcmp(d_bufs[0], "hello", 5) && !memcmp(d_bufs[1], big, 16) &&
        !memcmp(d_bufs[3], big + 32, 8));
  CHECK_EQ(shutdown(p[1], SHUT_WR), 0);
  upto(t, 5);
}

/* Data and no buffer left: -ENOBUFS ends it; the rest stays unread. */
static void sc_recv_multi_nobufs(T *t) {
  int p[2];
  pair(t, p);
  d_group(t, 2, 8);
  ario_sqe s[1] = {e_recv_multi(p[0], 0, 10)};
  CHECK_EQ(send(p[1], big, 30, 0), 30);
  msleep(5);
  sub(t, s, 1);
  upto(t, 3);
  CHECK_EQ(recv(p[0], B[0], sizeof B[0], 0), 14);
}

/* A given-back buffer is used again, after the ones still in the ring. */
static void sc_recv_multi_regive(T *t) {
  int p[2];
  pair(t, p);
  d_group(t, 2, 8);
  ario_sqe s[1] = {e_recv_multi(p[0], 0, 10)};
  sub(t, s, 1);
  CHECK_EQ(send(p[1], "abc", 3, 0), 3);
  upto(t, 1);
  d_give(t, 0, 8);
  for (int k = 0; k < 2; k++) {
    CHECK_EQ(send(p[1], "defg", 4, 0), 4);
    upto(t, 2 + k);
  }
  s[0] = e_cancel(10, -1, 0, 20, 0);
  sub(t, s, 1);
  upto(t, 5);
}

/* End of stream before any data: 0, no buffer taken. */
static void sc_recv_multi_eof(T *t) {
  int p[2];
  pair(t, p);
  d_group(t, 2, 8);
  CHECK_EQ(shutdown(p[1], SHUT_WR), 0);
  ario_sqe s[1] = {e_recv_multi(p[0], 0, 10)};
  sub(t, s, 1);
  upto(t, 1);
}

/* A group nobody registered: -ENOBUFS once data comes. */
static void sc_recv_multi_no_group(T *t) {
  int p[2];
  pair(t, p);
  ario_sqe s[1] = {e_recv_multi(p[0], 3, 10)};
  sub(t, s, 1);
  settle(t, 10);
  CHECK_EQ(send(p[1], "x", 1, 0), 1);
  upto(t, 1);
}

/* Cancel by user_data and CLOSE end it with -ECANCELED. */
static void sc_recv_multi_cancel_close(T *t) {
  int p[2], q[2];
  pair(t, p);
  t_tcp_pair(q); /* q[0] is closed by the CLOSE below */
  keep(t, q[1]);
  d_group(t, 4, 8);
  ario_sqe s[2] = {e_recv_multi(p[0], 0, 10), e_recv_multi(q[0], 0, 20)};
  sub(t, s, 2);
  CHECK_EQ(send(p[1], "ab", 2, 0), 2);
  upto(t, 1);
  s[0] = e_cancel(10, -1, 0, 30, 0);
  s[1] = t_sqe(ARIO_OP_CLOSE, q[0], 40);
  sub(t, s, 2);
  upto(t, 5);
}

/* Its chunks count for a counted TIMEOUT; after a link it starts late. */
static void sc_recv_multi_counted(T *t) {
  int p[2];
  pair(t, p);
  d_group(t, 4, 8);
  ario_sqe s[3] = {e_timeout(2000 * MS, 2, 0, 10, 0), e_nop(20, L), e_recv_multi(p[0], 0, 21)};
  sub(t, s, 3);
  upto(t, 1);
  for (int k = 0; k < 2; k++) {
    CHECK_EQ(send(p[1], "abcd", 4, 0), 4);
    upto(t, 2 + k);
  }
  upto(t, 4);
  s[0] = e_cancel(21, -1, 0, 30, 0);
  sub(t, s, 1);
  upto(t, 6);
}

/* Datagrams: one buffer each, a longer one cut to the buffer. */
static void sc_recv_multi_udp(T *t) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
  socklen_t al = sizeof a;
  int u = keep(t, socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
  int c = keep(t, socket(AF_INET, SOCK_DGRAM, 0));
  CHECK(bind(u, (void *)&a, sizeof a) == 0 && getsockname(u, (void *)&a, &al) == 0);
  d_group(t, 4, 8);
  ario_sqe s[1] = {e_recv_multi(u, 0, 10)};
  sub(t, s, 1);
  CHECK_EQ(sendto(c, "one", 3, 0, (void *)&a, sizeof a), 3);
  upto(t, 1);
  CHECK_EQ(sendto(c, big, 20, 0, (void *)&a, sizeof a), 20);
  upto(t, 2);
  s[0] = e_cancel(10, -1, 0, 20, 0);
  sub(t, s, 1);
  upto(t, 4);
}

/* Linking on from it: refused, as ACCEPT_MULTI (see the table's reason). */
static void sc_recv_multi_links_on(T *t) {
  int p[2];
  pair(t, p);
  d_group(t, 2, 8);
  ario_sqe s[2] = {e_recv_multi(p[0], 0, 10), e_nop(11, 0)};
  s[0].flags = L;
  sub(t, s, 2);
  CHECK_EQ(send(p[1], "x", 1, 0), 1);
  upto(t, 2);
  s[0] = e_cancel(10, -1, 0, 20, 0);
  sub(t, s, 1);
  settle(t, 20);
}
