/* SPLICE on every backend: socket -> pipe -> socket, waiting on either
 * side (empty input, full output), CLOSE and ario_close of either fd and
 * CANCEL mid-wait, the end of input, the kernel's immediate errors, the
 * soft-link rule and a large transfer checked byte for byte. */
#include "test.h"
#if defined(_WIN32)
int main(void) { /* SPLICE is Linux's: -EOPNOTSUPP elsewhere (ario.h) */
  t_printf("SKIP: SPLICE is Linux only\n");
  return T_EXIT_SKIP;
}
#else
#include <fcntl.h>

static ario_sqe splice_sqe(int32_t in, int32_t out, uint32_t len, uint64_t ud) {
  ario_sqe e = t_sqe(ARIO_OP_SPLICE, out, ud);
  e.addr = (uint64_t)in;
  e.addr2 = ARIO_OFF_CURRENT;
  e.off = ARIO_OFF_CURRENT;
  e.len = len;
  return e;
}

static int32_t run1(ario_loop *l, ario_sqe e) {
  ario_cqe c;
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  if (t_reap_n(l, &c, 1) != 1) t_fail("splice: no completion (hangs)\n");
  return c.res;
}

/* Nothing completes within ~50 ms. */
static void idle(ario_loop *l) {
  ario_cqe c;
  int64_t until = ario_now() + 50000000;
  while (ario_now() < until) {
    int n = ario_reap(l, &c, 1, 10000000);
    if (n != 0) t_fail("unexpected completion ud %llu res %d\n", (unsigned long long)c.user_data, c.res);
  }
}

/* Fills socket s (non-blocking) until it takes no more, twice 10 ms apart
 * (TCP grows its buffers); returns the count. */
static size_t fill(int s) {
  static char junk[65536];
  size_t total = 0;
  for (int round = 0; round < 2; round++, usleep(10000))
    for (ssize_t n; (n = send(s, junk, sizeof junk, MSG_DONTWAIT)) > 0;) total += (size_t)n;
  return total;
}

static unsigned char pattern(size_t i) { return (unsigned char)((uint32_t)i * 2654435761u >> 24); }

static void drain(int s, size_t n) {
  static char buf[65536];
  while (n > 0) {
    ssize_t r = recv(s, buf, n < sizeof buf ? n : sizeof buf, 0);
    if (r < 0 && errno == EAGAIN) {
      usleep(1000);
      continue;
    }
    CHECK(r > 0);
    n -= (size_t)r;
  }
}

int main(void) {
  ario_loop *l = t_loop(T_ENTRIES);
  ario_cqe c[4];
  int32_t p[2], s[2], d[2];
  char buf[256];
  CHECK_EQ(ario_pipe(p), 0);
  t_stream_pair(s); /* s[0] receives what s[1] sends */
  t_unix_pair(d);    /* fixed buffers: "full" stays full */

  /* data waiting: socket -> pipe -> socket at once */
  CHECK_EQ(send(s[1], "hello", 5, 0), 5);
  CHECK_EQ(run1(l, splice_sqe(s[0], p[1], 4096, 1)), 5);
  CHECK_EQ(run1(l, splice_sqe(p[0], d[1], 4096, 2)), 5);
  CHECK_EQ(run1(l, t_sqe(ARIO_OP_NOP, -1, 0)), 0);
  usleep(10000);
  CHECK_EQ(recv(d[0], buf, sizeof buf, 0), 5);
  CHECK(!memcmp(buf, "hello", 5));

  /* empty input: it waits for fd_in, then moves what came */
  ario_sqe e = splice_sqe(s[0], p[1], 4096, 3);
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  idle(l);
  CHECK_EQ(send(s[1], "abc", 3, 0), 3);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, 3);
  CHECK_EQ(read(p[0], buf, sizeof buf), 3);

  /* full output: pipe -> socket waits for fd_out to drain */
  size_t stuffed = fill(d[1]);
  CHECK_EQ(write(p[1], "xyz", 3), 3);
  e = splice_sqe(p[0], d[1], 4096, 4);
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  idle(l);
  drain(d[0], stuffed);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, 3);
  drain(d[0], 3);

  /* full pipe: socket -> pipe waits on the pipe, after having had data */
  {
    static char chunk[65536];
    size_t in_pipe = 0;
    for (ssize_t n; (n = write(p[1], chunk, sizeof chunk)) > 0;) in_pipe += (size_t)n;
    CHECK_EQ(send(s[1], "q", 1, 0), 1);
    usleep(10000);
    e = splice_sqe(s[0], p[1], 4096, 5);
    CHECK_EQ(ario_submit(l, &e, 1), 1);
    idle(l);
    for (size_t got = 0; got < in_pipe;) {
      ssize_t n = read(p[0], chunk, sizeof chunk);
      CHECK(n > 0);
      got += (size_t)n;
    }
    CHECK_EQ(t_reap_n(l, c, 1), 1);
    CHECK_EQ(c[0].res, 1);
    CHECK_EQ(read(p[0], buf, sizeof buf), 1);
  }

  /* CANCEL by user_data while it waits for input */
  e = splice_sqe(s[0], p[1], 4096, 6);
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  idle(l);
  ario_sqe k = t_sqe(ARIO_OP_CANCEL, -1, 7);
  k.addr = 6;
  CHECK_EQ(ario_submit(l, &k, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 7), 0);
  CHECK_EQ(t_res_of(c, 2, 6), -ECANCELED);

  /* CANCEL by fd finds it by either fd, whichever it waits on */
  for (int by_in = 0; by_in < 2; by_in++) {
    e = splice_sqe(s[0], p[1], 4096, 30);
    CHECK_EQ(ario_submit(l, &e, 1), 1);
    idle(l);
    k = t_sqe(ARIO_OP_CANCEL, by_in ? s[0] : p[1], 31);
    k.op_flags = ARIO_CANCEL_FD;
    CHECK_EQ(ario_submit(l, &k, 1), 1);
    CHECK_EQ(t_reap_n(l, c, 2), 2);
    CHECK_EQ(c[0].user_data, 31); /* the cancel's own completion first */
    CHECK_EQ(c[0].res, 0);
    CHECK_EQ(t_res_of(c, 2, 30), -ECANCELED);
  }
  e = splice_sqe(s[0], p[1], 4096, 30);
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  idle(l);
  k = t_sqe(ARIO_OP_CANCEL, d[0], 31); /* neither of its fds */
  k.op_flags = ARIO_CANCEL_FD;
  CHECK_EQ(run1(l, k), -ENOENT);
  k = t_sqe(ARIO_OP_CANCEL, s[0], 31);
  k.op_flags = ARIO_CANCEL_FD;
  CHECK_EQ(ario_submit(l, &k, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 31), 0);
  CHECK_EQ(t_res_of(c, 2, 30), -ECANCELED);
  {
    ario_sqe two[2] = {splice_sqe(s[0], p[1], 4096, 32), splice_sqe(s[0], p[1], 4096, 33)};
    CHECK_EQ(ario_submit(l, two, 2), 2);
    idle(l);
    ario_sqe poll = t_sqe(ARIO_OP_POLL, s[0], 35); /* an op of its own on fd_in */
    poll.op_flags = ARIO_POLL_IN;
    CHECK_EQ(ario_submit(l, &poll, 1), 1);
    idle(l);
    k = t_sqe(ARIO_OP_CANCEL, s[0], 34);
    k.op_flags = ARIO_CANCEL_FD | ARIO_CANCEL_ALL;
    CHECK_EQ(ario_submit(l, &k, 1), 1);
    CHECK_EQ(t_reap_n(l, c, 4), 4);
    CHECK_EQ(c[0].user_data, 34);
    CHECK_EQ(c[0].res, 3);
    CHECK_EQ(t_res_of(c, 4, 35), -ECANCELED);
    CHECK_EQ(t_res_of(c, 4, 32), -ECANCELED);
    CHECK_EQ(t_res_of(c, 4, 33), -ECANCELED);
  }

  { /* one batch: a CANCEL by user_data of the first, then one by fd: the
     * second finds the other SPLICE, not the one already being cancelled */
    ario_sqe two[2] = {splice_sqe(s[0], p[1], 4096, 36), splice_sqe(s[0], p[1], 4096, 37)};
    CHECK_EQ(ario_submit(l, two, 2), 2);
    idle(l);
    ario_sqe ks[2] = {t_sqe(ARIO_OP_CANCEL, -1, 38), t_sqe(ARIO_OP_CANCEL, s[0], 39)};
    ks[0].addr = 36;
    ks[1].op_flags = ARIO_CANCEL_FD;
    CHECK_EQ(ario_submit(l, ks, 2), 2);
    CHECK_EQ(t_reap_n(l, c, 4), 4);
    CHECK_EQ(t_res_of(c, 4, 38), 0);
    CHECK_EQ(t_res_of(c, 4, 39), 0);
    CHECK_EQ(t_res_of(c, 4, 36), -ECANCELED);
    CHECK_EQ(t_res_of(c, 4, 37), -ECANCELED);
  }

  /* CLOSE of fd_out while it waits on fd_in, and of fd_in while it waits
   * on fd_out: both cancel it */
  {
    int32_t q[2];
    CHECK_EQ(ario_pipe(q), 0);
    e = splice_sqe(s[0], q[1], 4096, 8); /* waits to read s[0] */
    CHECK_EQ(ario_submit(l, &e, 1), 1);
    idle(l);
    ario_sqe cl = t_sqe(ARIO_OP_CLOSE, q[1], 9);
    CHECK_EQ(ario_submit(l, &cl, 1), 1);
    CHECK_EQ(t_reap_n(l, c, 2), 2);
    CHECK_EQ(t_res_of(c, 2, 8), -ECANCELED);
    CHECK_EQ(t_res_of(c, 2, 9), 0);
    close(q[0]);

    int32_t t[2];
    t_unix_pair(t);
    CHECK_EQ(ario_pipe(q), 0);
    CHECK_EQ(write(q[1], "z", 1), 1);
    size_t n = fill(t[1]);
    e = splice_sqe(q[0], t[1], 4096, 10); /* waits to write t[1] */
    CHECK_EQ(ario_submit(l, &e, 1), 1);
    idle(l);
    cl = t_sqe(ARIO_OP_CLOSE, q[0], 11);
    CHECK_EQ(ario_submit(l, &cl, 1), 1);
    CHECK_EQ(t_reap_n(l, c, 2), 2);
    CHECK_EQ(t_res_of(c, 2, 10), -ECANCELED);
    CHECK_EQ(t_res_of(c, 2, 11), 0);
    (void)n;

    /* ario_close() of the other fd likewise */
    CHECK_EQ(ario_pipe(q), 0);
    e = splice_sqe(s[0], q[1], 4096, 12);
    CHECK_EQ(ario_submit(l, &e, 1), 1);
    idle(l);
    CHECK_EQ(ario_close(l, q[1]), 0);
    CHECK_EQ(t_reap_n(l, c, 1), 1);
    CHECK_EQ(c[0].res, -ECANCELED);
    close(q[0]);
    close(q[1]);
    close(t[0]);
    close(t[1]);
  }

  /* a short splice fails a soft link; the end of input is 0 */
  CHECK_EQ(send(s[1], "0123456789", 10, 0), 10);
  usleep(10000);
  ario_sqe ch[2] = {splice_sqe(s[0], p[1], 100, 13), t_sqe(ARIO_OP_NOP, -1, 14)};
  ch[0].flags = ARIO_SQE_LINK;
  CHECK_EQ(ario_submit(l, ch, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 13), 10);
  CHECK_EQ(t_res_of(c, 2, 14), -ECANCELED);
  CHECK_EQ(read(p[0], buf, sizeof buf), 10);
  e = splice_sqe(s[0], p[1], 4096, 15);
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  idle(l);
  CHECK_EQ(shutdown(s[1], SHUT_WR), 0);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, 0);

  /* the kernel's immediate errors, and bad fields */
  CHECK_EQ(run1(l, splice_sqe(1000, p[1], 10, 16)), -EBADF);
  CHECK_EQ(run1(l, splice_sqe(p[0], 1000, 10, 16)), -EBADF);
  CHECK_EQ(run1(l, splice_sqe(d[0], s[1], 10, 16)), -EINVAL); /* neither a pipe */
  e = splice_sqe(d[0], p[1], 10, 16);
  e.off = 0; /* an offset on the pipe */
  CHECK_EQ(run1(l, e), -ESPIPE);
  e = splice_sqe(d[0], p[1], 10, 16);
  e.op_flags = 0x10; /* SPLICE_F_FD_IN_FIXED */
  CHECK_EQ(run1(l, e), -EINVAL);
  e = splice_sqe(d[0], p[1], 10, 16);
  e.addr = 1ull << 32;
  CHECK_EQ(run1(l, e), -EBADF);
  e = splice_sqe(d[0], p[1], 10, 16);
  e.addr2 = 1ull << 63;
  CHECK_EQ(run1(l, e), -EINVAL);
  CHECK_EQ(run1(l, splice_sqe(d[0], p[1], 0, 16)), 0); /* nothing to move */
  CHECK_EQ(run1(l, splice_sqe(1000, p[1], 0, 16)), -EBADF);

  /* 16 MiB through socket -> pipe -> socket, checked byte for byte */
  {
    int32_t a[2], b[2];
    t_stream_pair(a);
    t_stream_pair(b);
    enum { TOTAL = 16 << 20 };
    static unsigned char out[65536], in[65536];
    size_t sent = 0, moved_in = 0, moved_out = 0, got = 0;
    int busy_in = 0, busy_out = 0;
    while (got < TOTAL || busy_in || busy_out) { /* the bytes may land before their completion */
      while (sent < TOTAL) {
        size_t want = TOTAL - sent < sizeof out ? TOTAL - sent : sizeof out;
        for (size_t i = 0; i < want; i++) out[i] = pattern(sent + i);
        ssize_t n = send(a[1], out, want, MSG_DONTWAIT);
        if (n <= 0) break;
        sent += (size_t)n;
      }
      if (!busy_in && moved_in < TOTAL) {
        e = splice_sqe(a[0], p[1], 65536, 20);
        CHECK_EQ(ario_submit(l, &e, 1), 1);
        busy_in = 1;
      }
      if (!busy_out && moved_out < moved_in) {
        e = splice_sqe(p[0], b[1], (uint32_t)(moved_in - moved_out), 21);
        CHECK_EQ(ario_submit(l, &e, 1), 1);
        busy_out = 1;
      }
      int n = ario_reap(l, c, 4, 1000000);
      CHECK(n >= 0);
      for (int i = 0; i < n; i++) {
        CHECK(c[i].res > 0);
        if (c[i].user_data == 20) moved_in += (size_t)c[i].res, busy_in = 0;
        else moved_out += (size_t)c[i].res, busy_out = 0;
      }
      for (ssize_t r; (r = recv(b[0], in, sizeof in, MSG_DONTWAIT)) > 0; got += (size_t)r)
        for (ssize_t i = 0; i < r; i++)
          if (in[i] != pattern(got + (size_t)i)) t_fail("byte %zu differs\n", got + (size_t)i);
    }
    CHECK_EQ(moved_out, TOTAL);
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
  }
  CHECK_EQ(ario_inflight(l), 0);
  ario_deinit(l);
  return T_EXIT_PASS;
}
#endif
