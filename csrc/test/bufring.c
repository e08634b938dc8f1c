/* RECV_MULTI and provided buffers: each chunk takes the group's next
 * buffer in the order given and completes MORE | BUFFER with its id; no
 * byte is lost or repeated, through a full completion ring and an empty
 * buffer ring (-ENOBUFS ends the op, the data stays in the socket); end
 * of stream, cancel and CLOSE end it; a group in use cannot be
 * unregistered; bad arguments are refused. */
#include "test.h"

#define NBUF 8
#define BUFSZ 64
static ario_buf ring[NBUF] __attribute__((aligned(4096)));
static ario_buf ring2[2 * NBUF] __attribute__((aligned(4096)));
static unsigned char bufs[NBUF][BUFSZ];
static unsigned char got[1 << 16];
static size_t got_len;

static void pair(int *a, int *b) { /* a connected TCP pair on loopback */
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
  socklen_t sl = sizeof sa;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(ls >= 0 && bind(ls, (void *)&sa, sizeof sa) == 0 && listen(ls, 1) == 0);
  CHECK(getsockname(ls, (void *)&sa, &sl) == 0);
  *a = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(*a >= 0 && connect(*a, (void *)&sa, sizeof sa) == 0);
  *b = (int)accept(ls, 0, 0);
  CHECK(*b >= 0);
  close(ls);
  CHECK_EQ(ario_set_nonblocking(*b, 1), 0);
}

static void give(ario_loop *l, int bid) {
  CHECK_EQ(ario_buffers_give(l, 0, t_addr(bufs[bid]), BUFSZ, (uint32_t)bid), 0);
}

static void send_pattern(int fd, size_t from, size_t n) {
  unsigned char b[4096];
  while (n) {
    size_t k = n < sizeof b ? n : sizeof b;
    for (size_t j = 0; j < k; j++) b[j] = (unsigned char)((from + j) * 7u + 3u);
    CHECK_EQ(send(fd, (const char *)b, (int)k, 0), (int)k);
    from += k;
    n -= k;
  }
}

static void check_pattern(void) {
  for (size_t j = 0; j < got_len; j++)
    if (got[j] != (unsigned char)(j * 7u + 3u)) t_fail("byte %zu wrong\n", j);
}

/* Reaps completions of user_data 1 (max per reap) until `want` bytes came
 * or the op ended; copies each chunk out and gives its buffer back when
 * `regive`. Returns the last result (1: still going). */
static int drain(ario_loop *l, size_t want, uint32_t max, int regive) {
  ario_cqe c[64];
  for (int spins = 0; got_len < want && spins < 2000; spins++) {
    int n = ario_reap(l, c, max, 5 * 1000 * 1000);
    CHECK(n >= 0);
    for (int k = 0; k < n; k++) {
      CHECK_EQ(c[k].user_data, 1);
      if (!(c[k].flags & ARIO_CQE_F_BUFFER)) {
        CHECK(!(c[k].flags & ARIO_CQE_F_MORE) && c[k].res <= 0);
        return c[k].res;
      }
      uint32_t bid = c[k].flags >> ARIO_CQE_BUFFER_SHIFT;
      CHECK(bid < NBUF && c[k].res > 0 && c[k].res <= BUFSZ);
      memcpy(got + got_len, bufs[bid], (size_t)c[k].res);
      got_len += (size_t)c[k].res;
      if (regive) give(l, (int)bid);
      if (!(c[k].flags & ARIO_CQE_F_MORE)) return 2; /* ended with data: CQ overflow */
    }
  }
  return 1;
}

int main(void) {
  ario_cqe c[8];
  ario_sqe s[2];
  int a, b;
  ario_loop *l = t_loop(2); /* 2 entries + 16 reserved slots: a ring of 32 */

  /* bad arguments */
  CHECK_EQ(ario_buffers_register(l, ARIO_BUFFER_GROUPS, ring, NBUF), -EINVAL);
  CHECK_EQ(ario_buffers_register(l, 0, ring, 6), -EINVAL);
  CHECK_EQ(ario_buffers_register(l, 0, ring, 0), -EINVAL);
  CHECK_EQ(ario_buffers_register(l, 0, 0, NBUF), -EINVAL);
  CHECK_EQ(ario_buffers_register(l, 0, (ario_buf *)((char *)ring + 4), NBUF), -EINVAL);
  CHECK_EQ(ario_buffers_unregister(l, 0), -ENOENT);
  CHECK_EQ(ario_buffers_give(l, 0, t_addr(bufs[0]), BUFSZ, 0), -ENOENT);
  CHECK_EQ(ario_buffers_register(l, 0, ring, NBUF), 0);
  CHECK_EQ(ario_buffers_register(l, 0, ring, NBUF), -EEXIST);
  CHECK_EQ(ario_buffers_give(l, 0, 0, BUFSZ, 0), -EINVAL);
  CHECK_EQ(ario_buffers_give(l, 0, t_addr(bufs[0]), 0, 0), -EINVAL);
  CHECK_EQ(ario_buffers_give(l, 0, t_addr(bufs[0]), BUFSZ, 0x10000), -EINVAL);
  s[0] = t_sqe(ARIO_OP_RECV_MULTI, 3, 9);
  s[0].len = ARIO_BUFFER_GROUPS;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, -EINVAL);
  s[0] = t_sqe(ARIO_OP_RECV_MULTI, 3, 9);
  s[0].op_flags = MSG_PEEK;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, -EINVAL);
  s[0] = t_sqe(ARIO_OP_RECV_MULTI, 3, 9);
  s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_NOP, -1, 10);
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK(t_res_of(c, 2, 9) == -EINVAL && t_res_of(c, 2, 10) == -ECANCELED);

  /* chunks take the buffers in the order given; every byte once, in order,
   * through a completion ring far smaller than the transfer (reaped 3 at a
   * time) */
  pair(&a, &b);
  for (int k = 0; k < NBUF; k++) give(l, k);
  s[0] = t_sqe(ARIO_OP_RECV_MULTI, b, 1);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  send_pattern(a, 0, 5);
  CHECK_EQ(drain(l, 5, 8, 1), 1);
  CHECK_EQ(got_len, 5);
  send_pattern(a, 5, 20000);
  while (got_len < 20005) {
    int r = drain(l, 20005, 3, 1);
    /* ended with data (io_uring's CQ overflowed), or a sender faster than
     * the reaps 3 at a time emptied the ring: the rest waits in the
     * socket, and the buffers are back; again */
    if (r == 2 || r == -ENOBUFS) CHECK_EQ(ario_submit(l, s, 1), 1);
    else CHECK_EQ(r, 1);
  }
  CHECK_EQ(got_len, 20005);
  check_pattern();
  CHECK_EQ(ario_buffers_unregister(l, 0), -EBUSY); /* in use */

  /* an empty ring: -ENOBUFS ends it; what no buffer took stays, in order */
  got_len = 0;
  send_pattern(a, 0, 1000);
  CHECK_EQ(drain(l, 100000, 8, 0), -ENOBUFS); /* not given back: 8 buffers, then none */
  CHECK_EQ(got_len, NBUF * BUFSZ);
  for (int spins = 0; got_len < 1000 && spins < 1000; spins++) {
    int n = recv(b, (char *)got + got_len, (int)(sizeof got - got_len), 0);
    if (n > 0) got_len += (size_t)n;
    else ario_reap(l, c, 0, 1000 * 1000);
  }
  CHECK_EQ(got_len, 1000);
  check_pattern();
  CHECK_EQ(ario_inflight(l), 0);
  CHECK_EQ(ario_buffers_unregister(l, 0), 0); /* nothing holds it now */
  CHECK_EQ(ario_buffers_unregister(l, 0), -ENOENT);

  /* a second group over a larger ring: data already waiting, then end of
   * stream ends it with 0 and no buffer */
  CHECK_EQ(ario_buffers_register(l, 0, ring2, 2 * NBUF), 0);
  for (int k = 0; k < NBUF; k++) give(l, k);
  got_len = 0;
  send_pattern(a, 0, 100);
  s[0] = t_sqe(ARIO_OP_RECV_MULTI, b, 1);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(drain(l, 100, 8, 1), 1);
  CHECK_EQ(got_len, 100);
  check_pattern();
  CHECK_EQ(shutdown(a, 1), 0);
  CHECK_EQ(drain(l, 1000, 8, 1), 0);
  CHECK_EQ(ario_inflight(l), 0);

  /* cancel by user_data, then CLOSE, each end it with -ECANCELED */
  CHECK_EQ(ario_set_nonblocking(a, 1), 0); /* ops take non-blocking fds (Winsock has no MSG_DONTWAIT) */
  s[0] = t_sqe(ARIO_OP_RECV_MULTI, a, 1); /* a: its peer has not shut down */
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(ario_reap(l, c, 8, 0), 0);
  s[0] = t_sqe(ARIO_OP_CANCEL, -1, 2);
  s[0].addr = 1;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK(t_res_of(c, 2, 2) == 0 && t_res_of(c, 2, 1) == -ECANCELED);
  CHECK(c[0].flags == 0 && c[1].flags == 0);
  s[0] = t_sqe(ARIO_OP_RECV_MULTI, a, 1);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(ario_reap(l, c, 8, 0), 0);
  s[0] = t_sqe(ARIO_OP_CLOSE, a, 3);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK(t_res_of(c, 2, 3) == 0 && t_res_of(c, 2, 1) == -ECANCELED);
  close(b);

  /* a group never registered: data comes, -ENOBUFS */
  pair(&a, &b);
  s[0] = t_sqe(ARIO_OP_RECV_MULTI, b, 1);
  s[0].len = 1;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  send_pattern(a, 0, 10);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK(c[0].res == -ENOBUFS && c[0].flags == 0);
  close(a);
  close(b);
  CHECK_EQ(ario_buffers_unregister(l, 0), 0);
  ario_deinit(l);
  return T_EXIT_PASS;
}
