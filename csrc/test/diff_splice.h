/*
 * diff_splice.h: the SPLICE scenarios of the differential table
 * (diff_scenarios.h includes it; the rows are in its table). Pipes and
 * stream sockets are non-blocking, as ario's are.
 */
static ario_sqe e_splice(int in, int out, uint32_t len, uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(ARIO_OP_SPLICE, out, ud);
  e.addr = (uint64_t)in; e.addr2 = ARIO_OFF_CURRENT; e.off = ARIO_OFF_CURRENT;
  e.len = len; e.flags = fl;
  return e;
}

static void sc_splice_socket_pipe_socket(T *t) {
  int s[2], p[2], d[2];
  pair(t, s);
  pipe_pair(t, p);
  pair(t, d);
  CHECK_EQ(send(s[0], "spliced", 7, 0), 7);
  msleep(5);
  ario_sqe q[3] = {e_splice(s[1], p[1], 7, 10, L), e_splice(p[0], d[0], 7, 11, L),
                   e_recv(d[1], 0, 7, MSG_WAITALL, 12, 0)};
  sub(t, q, 3);
  upto(t, 3);
  CHECK(!memcmp(B[0], "spliced", 7));
}

static void sc_splice_short_breaks(T *t) {
  int s[2], p[2];
  pair(t, s);
  pipe_pair(t, p);
  CHECK_EQ(send(s[0], "abc", 3, 0), 3);
  msleep(5);
  ario_sqe q[2] = {e_splice(s[1], p[1], 8, 10, L), e_nop(11, 0)};
  sub(t, q, 2);
  upto(t, 2);
}

static void sc_splice_eof(T *t) {
  int s[2], p[2];
  pair(t, s);
  pipe_pair(t, p);
  shutdown(s[0], SHUT_WR);
  msleep(5);
  ario_sqe q[2] = {e_splice(s[1], p[1], 8, 10, H), e_nop(11, 0)};
  sub(t, q, 2);
  upto(t, 2);
}

static void sc_splice_bad_fd(T *t) {
  int p[2];
  pipe_pair(t, p);
  ario_sqe q[3] = {e_splice(999, p[1], 8, 10, L), e_nop(11, 0), e_splice(p[0], 999, 8, 20, 0)};
  sub(t, q, 3);
  upto(t, 3);
}

static void sc_splice_not_a_pipe(T *t) {
  int s[2], d[2];
  pair(t, s);
  pair(t, d);
  CHECK_EQ(send(s[0], "x", 1, 0), 1);
  ario_sqe q[2] = {e_splice(s[1], d[0], 8, 10, L), e_nop(11, 0)};
  sub(t, q, 2);
  upto(t, 2);
}

static void sc_splice_offset_on_pipe(T *t) {
  int s[2], p[2];
  pair(t, s);
  pipe_pair(t, p);
  CHECK_EQ(write(p[1], "xy", 2), 2);
  ario_sqe q[2] = {e_splice(p[0], s[0], 8, 10, 0), e_splice(s[1], p[1], 8, 20, 0)};
  q[0].addr2 = 0; /* an input offset on the pipe */
  q[1].off = 0;   /* an output offset on the pipe */
  sub(t, q, 2);
  upto(t, 2);
}

static void sc_splice_len0(T *t) {
  int s[2], p[2];
  pair(t, s);
  pipe_pair(t, p);
  ario_sqe q[2] = {e_splice(s[1], p[1], 0, 10, L), e_nop(11, 0)};
  sub(t, q, 2);
  upto(t, 2);
}

static void sc_splice_waits_for_input(T *t) {
  int s[2], p[2];
  pair(t, s);
  pipe_pair(t, p);
  ario_sqe q[1] = {e_splice(s[1], p[1], 8, 10, 0)};
  sub(t, q, 1);
  settle(t, 10);
  CHECK_EQ(send(s[0], "late", 4, 0), 4);
  upto(t, 1);
}
