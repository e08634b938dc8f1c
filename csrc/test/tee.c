/* TEE on every backend: a pipe's bytes duplicated into another pipe and
 * still there to read, waiting on either side (empty input, full output),
 * CLOSE, ario_close and CANCEL by either fd mid-wait, the end of input, the
 * kernel's immediate errors, the soft-link rule and a large tee checked
 * byte for byte on both pipes. */
#include "test.h"
#if !defined(__linux__)
int main(void) { /* TEE is Linux's: -EOPNOTSUPP elsewhere (ario.h) */
  t_printf("SKIP: TEE is Linux only\n");
  return T_EXIT_SKIP;
}
#else
#include <fcntl.h>

static ario_sqe tee_sqe(int32_t in, int32_t out, uint32_t len, uint64_t ud) {
  ario_sqe e = t_sqe(ARIO_OP_TEE, out, ud);
  e.addr = (uint64_t)in;
  e.len = len;
  return e;
}

static int32_t run1(ario_loop *l, ario_sqe e) {
  ario_cqe c;
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  if (t_reap_n(l, &c, 1) != 1) t_fail("tee: no completion (hangs)\n");
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

/* Fills pipe w until it takes no more; returns the count. */
static size_t fill(int w) {
  static char junk[65536];
  size_t total = 0;
  for (ssize_t n; (n = write(w, junk, sizeof junk)) > 0;) total += (size_t)n;
  return total;
}

static void drain(int r, size_t n) {
  static char buf[65536];
  while (n > 0) {
    ssize_t got = read(r, buf, n < sizeof buf ? n : sizeof buf);
    CHECK(got > 0);
    n -= (size_t)got;
  }
}

static unsigned char pattern(size_t i) { return (unsigned char)((uint32_t)i * 2654435761u >> 24); }

/* A waiting TEE (on its empty input, or its full output) ends -ECANCELED
 * when `how` is 0: CANCEL by user_data, 1: CANCEL by fd_in, 2: by fd_out,
 * 3: CLOSE fd_in, 4: CLOSE fd_out, 5: ario_close fd_in, 6: ario_close fd_out. */
static void cancel_waiting(ario_loop *l, int full_output, int how) {
  int32_t a[2], b[2];
  ario_cqe c[2];
  CHECK_EQ(ario_pipe(a), 0);
  CHECK_EQ(ario_pipe(b), 0);
  if (full_output) {
    CHECK_EQ(write(a[1], "x", 1), 1);
    fill(b[1]);
  }
  ario_sqe e = tee_sqe(a[0], b[1], 4096, 40);
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  idle(l);
  int closed = -1;
  if (how <= 4) {
    ario_sqe k = t_sqe(how <= 2 ? ARIO_OP_CANCEL : ARIO_OP_CLOSE, -1, 41);
    if (how == 0) k.addr = 40;
    if (how == 1 || how == 2) k.op_flags = ARIO_CANCEL_FD;
    if (how >= 1) k.fd = how == 1 || how == 3 ? a[0] : b[1];
    if (how >= 3) closed = k.fd;
    CHECK_EQ(ario_submit(l, &k, 1), 1);
    CHECK_EQ(t_reap_n(l, c, 2), 2);
    CHECK_EQ(t_res_of(c, 2, 41), 0);
    CHECK_EQ(t_res_of(c, 2, 40), -ECANCELED);
  } else {
    closed = how == 5 ? a[0] : b[1];
    CHECK_EQ(ario_close(l, closed), 0);
    CHECK_EQ(t_reap_n(l, c, 1), 1);
    CHECK_EQ(c[0].res, -ECANCELED);
    close(closed);
  }
  for (int k = 0; k < 2; k++) {
    if (a[k] != closed) close(a[k]);
    if (b[k] != closed) close(b[k]);
  }
}

int main(void) {
  ario_loop *l = t_loop(T_ENTRIES);
  ario_cqe c[4];
  int32_t p[2], q[2], s[2];
  char buf[256];
  CHECK_EQ(ario_pipe(p), 0);
  CHECK_EQ(ario_pipe(q), 0);
  t_stream_pair(s);

  /* data waiting: duplicated, and still in the input */
  CHECK_EQ(write(p[1], "hello", 5), 5);
  CHECK_EQ(run1(l, tee_sqe(p[0], q[1], 4096, 1)), 5);
  CHECK_EQ(run1(l, tee_sqe(p[0], q[1], 3, 2)), 3); /* again, up to len */
  CHECK_EQ(read(q[0], buf, sizeof buf), 8);
  CHECK(!memcmp(buf, "hellohel", 8));
  CHECK_EQ(read(p[0], buf, sizeof buf), 5);
  CHECK(!memcmp(buf, "hello", 5));

  /* empty input: it waits for fd_in, then duplicates what came */
  ario_sqe e = tee_sqe(p[0], q[1], 4096, 3);
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  idle(l);
  CHECK_EQ(write(p[1], "abc", 3), 3);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, 3);
  CHECK_EQ(read(q[0], buf, sizeof buf), 3);
  CHECK_EQ(read(p[0], buf, sizeof buf), 3);

  /* full output: it waits for fd_out to drain */
  size_t stuffed = fill(q[1]);
  CHECK_EQ(write(p[1], "xyz", 3), 3);
  e = tee_sqe(p[0], q[1], 4096, 4);
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  idle(l);
  drain(q[0], stuffed);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, 3);
  CHECK_EQ(read(q[0], buf, sizeof buf), 3);
  CHECK(!memcmp(buf, "xyz", 3));
  CHECK_EQ(read(p[0], buf, sizeof buf), 3);

  /* cancelled or closed by either fd, whichever side it waits on */
  for (int full = 0; full < 2; full++)
    for (int how = 0; how <= 6; how++) cancel_waiting(l, full, how);
  e = tee_sqe(p[0], q[1], 4096, 30);
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  idle(l);
  ario_sqe k = t_sqe(ARIO_OP_CANCEL, s[0], 31); /* neither of its fds */
  k.op_flags = ARIO_CANCEL_FD;
  CHECK_EQ(run1(l, k), -ENOENT);
  k.fd = q[1];
  k.op_flags = ARIO_CANCEL_FD | ARIO_CANCEL_ALL;
  CHECK_EQ(ario_submit(l, &k, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(c[0].user_data, 31); /* the cancel's own completion first */
  CHECK_EQ(c[0].res, 1);
  CHECK_EQ(t_res_of(c, 2, 30), -ECANCELED);

  /* a short tee fails a soft link, a full one goes on */
  CHECK_EQ(write(p[1], "0123456789", 10), 10);
  ario_sqe ch[3] = {tee_sqe(p[0], q[1], 100, 13), t_sqe(ARIO_OP_NOP, -1, 14)};
  ch[0].flags = ARIO_SQE_LINK;
  CHECK_EQ(ario_submit(l, ch, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 13), 10);
  CHECK_EQ(t_res_of(c, 2, 14), -ECANCELED);
  ch[0] = tee_sqe(p[0], q[1], 10, 15);
  ch[0].flags = ARIO_SQE_LINK;
  ch[1] = t_sqe(ARIO_OP_NOP, -1, 16);
  CHECK_EQ(ario_submit(l, ch, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 15), 10);
  CHECK_EQ(t_res_of(c, 2, 16), 0);
  CHECK_EQ(read(q[0], buf, sizeof buf), 20);
  CHECK_EQ(read(p[0], buf, sizeof buf), 10);

  /* the kernel's immediate errors, and bad fields */
  CHECK_EQ(run1(l, tee_sqe(1000, q[1], 10, 16)), -EBADF);
  CHECK_EQ(run1(l, tee_sqe(p[0], 1000, 10, 16)), -EBADF);
  CHECK_EQ(run1(l, tee_sqe(p[1], q[1], 10, 16)), -EBADF); /* the write end is not readable */
  CHECK_EQ(run1(l, tee_sqe(p[0], q[0], 10, 16)), -EBADF); /* nor the read end writable */
  CHECK_EQ(run1(l, tee_sqe(s[0], q[1], 10, 16)), -EINVAL); /* a socket, not a pipe */
  CHECK_EQ(run1(l, tee_sqe(p[0], s[1], 10, 16)), -EINVAL);
  CHECK_EQ(run1(l, tee_sqe(p[0], p[1], 10, 16)), -EINVAL); /* both ends of one pipe */
  e = tee_sqe(p[0], q[1], 10, 16);
  e.off = ARIO_OFF_CURRENT; /* no offsets, not even "none" */
  CHECK_EQ(run1(l, e), -EINVAL);
  e = tee_sqe(p[0], q[1], 10, 16);
  e.addr2 = 1;
  CHECK_EQ(run1(l, e), -EINVAL);
  e = tee_sqe(p[0], q[1], 10, 16);
  e.op_flags = 0x10; /* SPLICE_F_FD_IN_FIXED */
  CHECK_EQ(run1(l, e), -EINVAL);
  e = tee_sqe(p[0], q[1], 10, 16);
  e.addr = 1ull << 32;
  CHECK_EQ(run1(l, e), -EBADF);
  e = tee_sqe(p[0], -1, 10, 16);
  CHECK_EQ(run1(l, e), -EBADF);
  CHECK_EQ(run1(l, tee_sqe(p[0], q[1], 0, 16)), 0); /* nothing asked for */
  CHECK_EQ(run1(l, tee_sqe(s[0], q[1], 0, 16)), 0); /* nothing asked for: not even judged */

  /* the end of input: 0 once its writer is gone (at once, and waiting) */
  e = tee_sqe(p[0], q[1], 4096, 17);
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  idle(l);
  close(p[1]);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, 0);
  CHECK_EQ(run1(l, tee_sqe(p[0], q[1], 4096, 18)), 0);
  close(p[0]);

  /* 4 MiB through p, teed into q while read from both, checked byte for byte */
  {
    enum { TOTAL = 4 << 20 };
    static unsigned char chunk[65536];
    CHECK_EQ(ario_pipe(p), 0);
    size_t wrote = 0, got_p = 0, got_q = 0, teed = 0;
    int busy = 0;
    while (got_p < TOTAL || busy) {
      /* the input is drained only up to what was teed: nothing is skipped */
      if (!busy && teed < TOTAL) {
        e = tee_sqe(p[0], q[1], 65536, 20);
        CHECK_EQ(ario_submit(l, &e, 1), 1);
        busy = 1;
      }
      if (wrote == got_p && wrote < TOTAL) {
        size_t want = TOTAL - wrote < sizeof chunk ? TOTAL - wrote : sizeof chunk;
        for (size_t i = 0; i < want; i++) chunk[i] = pattern(wrote + i);
        ssize_t n = write(p[1], chunk, want);
        if (n > 0) wrote += (size_t)n;
      }
      int n = ario_reap(l, c, 4, 1000000);
      CHECK(n >= 0);
      for (int i = 0; i < n; i++) {
        CHECK(c[i].res > 0);
        teed += (size_t)c[i].res;
        busy = 0;
        CHECK(teed <= wrote);
      }
      for (ssize_t r; (r = read(q[0], chunk, sizeof chunk)) > 0; got_q += (size_t)r)
        for (ssize_t i = 0; i < r; i++)
          if (chunk[i] != pattern(got_q + (size_t)i)) t_fail("teed byte %zu differs\n", got_q + (size_t)i);
      if (!busy && got_p < teed) { /* consume exactly what the tee duplicated */
        size_t want = teed - got_p < sizeof chunk ? teed - got_p : sizeof chunk;
        ssize_t r = read(p[0], chunk, want);
        CHECK(r > 0);
        for (ssize_t i = 0; i < r; i++)
          if (chunk[i] != pattern(got_p + (size_t)i)) t_fail("input byte %zu differs\n", got_p + (size_t)i);
        got_p += (size_t)r;
      }
    }
    CHECK_EQ(teed, TOTAL);
    CHECK_EQ(got_q, TOTAL);
    close(p[0]), close(p[1]);
  }
  close(q[0]), close(q[1]), close(s[0]), close(s[1]);
  CHECK_EQ(ario_inflight(l), 0);
  ario_deinit(l);
  return T_EXIT_PASS;
}
#endif
