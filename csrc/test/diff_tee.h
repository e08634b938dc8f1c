/*
 * diff_tee.h: the TEE scenarios of the differential table (diff_scenarios.h
 * includes it, and puts TEE_ROWS in its table). Pipes are non-blocking, as
 * ario's are.
 */
static ario_sqe e_tee(int in, int out, uint32_t len, uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(ARIO_OP_TEE, out, ud);
  e.addr = (uint64_t)in; e.len = len; e.flags = fl;
  return e;
}

/* The recorded result of ud (ario's run: what a listed difference must still be). */
static int32_t got_res(const T *t, uint64_t ud) {
  for (int i = 0; i < t->n; i++)
    if (t->got[i].ud == ud) return t->got[i].res;
  t_fail("no completion for %llu\n", (unsigned long long)ud);
  return 0;
}

static void sc_tee_basic(T *t) {
  int p[2], q[2];
  pipe_pair(t, p);
  pipe_pair(t, q);
  CHECK_EQ(write(p[1], "teed", 4), 4);
  ario_sqe s[3] = {e_tee(p[0], q[1], 4, 10, L), e_rw(ARIO_OP_READ, q[0], B[0], 4, 11, L),
                   e_rw(ARIO_OP_READ, p[0], B[1], 4, 12, 0)};
  sub(t, s, 3);
  upto(t, 3);
  CHECK(!memcmp(B[0], "teed", 4) && !memcmp(B[1], "teed", 4)); /* both read the same bytes */
}

static void sc_tee_short_breaks(T *t) {
  int p[2], q[2];
  pipe_pair(t, p);
  pipe_pair(t, q);
  CHECK_EQ(write(p[1], "abc", 3), 3);
  ario_sqe s[2] = {e_tee(p[0], q[1], 8, 10, L), e_nop(11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_tee_eof(T *t) {
  int p[2], q[2];
  CHECK_EQ(ario_pipe(p), 0);
  keep(t, p[0]);
  close(p[1]); /* the writer is gone: 0, and a hard link goes on */
  pipe_pair(t, q);
  ario_sqe s[2] = {e_tee(p[0], q[1], 8, 10, H), e_nop(11, 0)};
  sub(t, s, 2);
  upto(t, 2);
}

static void sc_tee_len0(T *t) {
  int p[2], q[2], s[2];
  pipe_pair(t, p);
  pipe_pair(t, q);
  pair(t, s);
  ario_sqe e[3] = {e_tee(p[0], q[1], 0, 10, L), e_nop(11, 0), e_tee(s[0], q[1], 0, 20, 0)};
  sub(t, e, 3); /* len 0: 0, even from a socket */
  upto(t, 3);
}

static void sc_tee_bad_fd(T *t) {
  int p[2], q[2];
  pipe_pair(t, p);
  pipe_pair(t, q);
  ario_sqe s[5] = {e_tee(999, q[1], 8, 10, L), e_nop(11, 0), e_tee(p[0], 999, 8, 20, 0),
                   e_tee(p[1], q[1], 8, 30, 0), e_tee(p[0], q[0], 8, 40, 0)};
  sub(t, s, 5); /* closed numbers; a write end read, a read end written */
  upto(t, 5);
}

static void sc_tee_not_a_pipe(T *t) {
  int p[2], q[2], s[2];
  pipe_pair(t, p);
  pipe_pair(t, q);
  pair(t, s);
  CHECK_EQ(send(s[0], "x", 1, 0), 1);
  CHECK_EQ(write(p[1], "y", 1), 1);
  msleep(5);
  ario_sqe e[4] = {e_tee(s[1], q[1], 8, 10, L), e_nop(11, 0), e_tee(p[0], s[0], 8, 20, 0),
                   e_tee(p[0], p[1], 8, 30, 0)}; /* a socket either side; one pipe into itself */
  sub(t, e, 4);
  upto(t, 4);
}

static void sc_tee_offsets(T *t) {
  int p[2], q[2];
  pipe_pair(t, p);
  pipe_pair(t, q);
  CHECK_EQ(write(p[1], "y", 1), 1);
  ario_sqe e[4] = {e_tee(p[0], q[1], 8, 10, L), e_nop(11, 0), e_tee(p[0], q[1], 8, 20, 0),
                   e_tee(p[0], q[1], 8, 30, 0)};
  e[0].addr2 = ARIO_OFF_CURRENT; /* no offsets at all, not even "none" */
  e[2].off = 1;
  e[3].op_flags = 0x20; /* no such flag */
  sub(t, e, 4);
  upto(t, 4);
}

static void sc_tee_waits_for_input(T *t) {
  int p[2], q[2];
  pipe_pair(t, p);
  pipe_pair(t, q);
  ario_sqe s[2] = {e_tee(p[0], q[1], 4, 10, L), e_rw(ARIO_OP_READ, q[0], B[0], 4, 11, 0)};
  sub(t, s, 2);
  settle(t, 10);
  CHECK_EQ(write(p[1], "late", 4), 4);
  upto(t, 2);
  if (!t->oracle_run) CHECK(got_res(t, 10) == 4 && got_res(t, 11) == 4 && !memcmp(B[0], "late", 4));
}

/* A waiting TEE cancelled by user_data, by CANCEL on its fd_in, by CLOSE of
 * its fd_in, and (waiting on a full output) by CLOSE of its fd_out. */
static void sc_tee_cancel_waiting(T *t) {
  int p[2], q[2], r[2], w[2];
  pipe_pair(t, p);
  pipe_pair(t, q);
  CHECK_EQ(ario_pipe(r), 0); /* r[0] and w[1] are closed by the scenario */
  CHECK_EQ(ario_pipe(w), 0);
  keep(t, r[1]);
  keep(t, w[0]);
  CHECK_EQ(write(q[1], "z", 1), 1);
  while (write(w[1], big, sizeof big) > 0) {
  }
  ario_sqe s[4] = {e_tee(p[0], q[1], 8, 10, 0), e_tee(p[0], q[1], 8, 20, 0),
                   e_tee(r[0], q[1], 8, 30, 0), e_tee(q[0], w[1], 8, 40, 0)};
  sub(t, s, 4);
  settle(t, 10);
  ario_sqe k[4] = {e_cancel(10, -1, 0, 50, 0), e_cancel(0, p[0], ARIO_CANCEL_FD, 60, 0),
                   t_sqe(ARIO_OP_CLOSE, w[1], 70), t_sqe(ARIO_OP_CLOSE, r[0], 80)};
  sub(t, k, 1);
  settle(t, 10); /* its completion in before the CANCEL by fd picks a target */
  sub(t, k + 1, 3);
  upto(t, 8);
  if (!t->oracle_run)
    for (uint64_t ud = 10; ud <= 80; ud += 10)
      CHECK_EQ(got_res(t, ud), ud <= 40 ? -ECANCELED : 0);
}

#define TEE_ROWS                                                                             \
  {"tee_basic", sc_tee_basic, 0, 0, 0, 0}, {"tee_short_breaks", sc_tee_short_breaks, 0, 0, 0, 0}, \
      {"tee_eof", sc_tee_eof, 0, 0, 0, 0}, {"tee_len0", sc_tee_len0, 0, 0, 0, 0},                  \
      {"tee_bad_fd", sc_tee_bad_fd, 0, 0, 0, 0},                                                   \
      {"tee_not_a_pipe", sc_tee_not_a_pipe, 0, 0, 0, 0},                                           \
      {"tee_offsets", sc_tee_offsets, 0, 0, 0, 0},                                                 \
      {"tee_waits_for_input", sc_tee_waits_for_input, 0, 0, D_ALL,                                 \
       "the kernel's TEE from an empty non-blocking pipe answers -EAGAIN at once; ario waits "     \
       "for the input (io_uring: a POLL_ADD linked before it), as for SPLICE"},                    \
      {"tee_cancel_waiting", sc_tee_cancel_waiting, 0, 0, D_ALL,                                   \
       "the kernel's TEE never waits (-EAGAIN at once, so CANCEL finds nothing); ario's waits "   \
       "and is cancelled by user_data, by CANCEL or CLOSE of either fd"},
