/* CANCEL by user_data, by fd, any, all; CLOSE and ario_close() cancel what
 * waits on the fd.
 * mcu: src tests/mcu/bare/pipe_dev.c
 * mcu: cflags -Icsrc -Icsrc/test -Itests/mcu/bare -Wextra -Werror */
#include "test.h"

int main(void) {
  ario_loop *l = t_loop(T_ENTRIES);
  ario_cqe c[16];
  ario_sqe s[8];
  int32_t t[2];
  char a[8], b[8];
  t_stream_pair(t);

  s[0] = t_sqe(ARIO_OP_RECV, t[0], 1); s[0].addr = t_addr(a); s[0].len = 8;
  s[1] = t_sqe(ARIO_OP_TIMEOUT, -1, 2); s[1].off = 5000000000LL;
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(ario_reap(l, c, 8, 0), 0);
  s[0] = t_sqe(ARIO_OP_CANCEL, -1, 3); s[0].addr = 1;
  s[1] = t_sqe(ARIO_OP_CANCEL, -1, 4); s[1].addr = 2;
  s[2] = t_sqe(ARIO_OP_CANCEL, -1, 5); s[2].addr = 777; /* nothing */
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(t_reap_n(l, c, 5), 5);
  CHECK_EQ(t_res_of(c, 5, 1), -ECANCELED);
  CHECK_EQ(t_res_of(c, 5, 2), -ECANCELED);
  CHECK_EQ(t_res_of(c, 5, 3), 0);
  CHECK_EQ(t_res_of(c, 5, 4), 0);
  CHECK_EQ(t_res_of(c, 5, 5), -ENOENT);

  /* by fd, all: two receives on one descriptor */
  s[0] = t_sqe(ARIO_OP_RECV, t[0], 10); s[0].addr = t_addr(a); s[0].len = 8;
  s[1] = t_sqe(ARIO_OP_RECV, t[0], 11); s[1].addr = t_addr(b); s[1].len = 8;
  s[2] = t_sqe(ARIO_OP_CANCEL, t[0], 12); s[2].op_flags = ARIO_CANCEL_FD | ARIO_CANCEL_ALL;
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  CHECK_EQ(t_res_of(c, 3, 10), -ECANCELED);
  CHECK_EQ(t_res_of(c, 3, 11), -ECANCELED);
  CHECK_EQ(t_res_of(c, 3, 12), 2);

  /* any, all: a timer and a receive */
  s[0] = t_sqe(ARIO_OP_RECV, t[0], 13); s[0].addr = t_addr(a); s[0].len = 8;
  s[1] = t_sqe(ARIO_OP_TIMEOUT, -1, 14); s[1].off = 5000000000LL;
  s[2] = t_sqe(ARIO_OP_CANCEL, -1, 15); s[2].op_flags = ARIO_CANCEL_ANY | ARIO_CANCEL_ALL;
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  CHECK_EQ(t_res_of(c, 3, 13), -ECANCELED);
  CHECK_EQ(t_res_of(c, 3, 14), -ECANCELED);
  CHECK_EQ(t_res_of(c, 3, 15), 2);

  /* the descriptor still works after cancellation */
  CHECK_EQ(t_write(t[1], "x", 1), 1);
  s[0] = t_sqe(ARIO_OP_RECV, t[0], 20); s[0].addr = t_addr(a); s[0].len = 8;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, 1);

  /* CLOSE cancels the pending receive first, then closes */
  s[0] = t_sqe(ARIO_OP_RECV, t[0], 30); s[0].addr = t_addr(a); s[0].len = 8;
  s[1] = t_sqe(ARIO_OP_CLOSE, t[0], 31);
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(c[0].user_data, 30); CHECK_EQ(c[0].res, -ECANCELED);
  CHECK_EQ(c[1].user_data, 31); CHECK_EQ(c[1].res, 0);

  /* ario_close() too */
  int32_t u[2];
  t_stream_pair(u);
  s[0] = t_sqe(ARIO_OP_RECV, u[0], 40); s[0].addr = t_addr(a); s[0].len = 8;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(ario_reap(l, c, 1, 0), 0);
  CHECK_EQ(ario_close(l, u[0]), 0);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, -ECANCELED);
  CHECK_EQ(ario_inflight(l), 0);

#ifdef ARIO_BARE
  /* a full fd table (16 ops waiting on 16 descriptors) and a lookup of a
   * 17th descriptor: the compact table (16 slots) must not spin */
  CHECK_EQ(ario_close(l, t[1]), 0);
  CHECK_EQ(ario_close(l, u[1]), 0);
  CHECK_EQ(pipe_dev_open_count(), 0);
  int32_t fds[16];
  for (int i = 0; i < 8; i++) CHECK_EQ(ario_pipe(&fds[2 * i]), 0);
  for (int i = 0; i < 16; i++) {
    ario_sqe e = t_sqe(ARIO_OP_POLL, fds[i], 100 + (uint64_t)i);
    e.op_flags = (i & 1) ? ARIO_POLL_PRI : ARIO_POLL_IN; /* never ready */
    CHECK_EQ(ario_submit(l, &e, 1), 1);
  }
  CHECK_EQ(ario_inflight(l), 16);
  CHECK_EQ(ario_reap(l, c, 16, 1000000), 0);
  CHECK_EQ(ario_close(l, 4242), -EBADF); /* not in the table, not a pipe */
  for (int i = 15; i >= 0; i--) CHECK_EQ(ario_close(l, fds[i]), 0);
  CHECK_EQ(t_reap_n(l, c, 16), 16);
  for (int i = 0; i < 16; i++) {
    CHECK_EQ(c[i].user_data, 115 - i);
    CHECK_EQ(c[i].res, -ECANCELED);
  }
  CHECK_EQ(ario_inflight(l), 0);
  CHECK_EQ(pipe_dev_open_count(), 0);
#endif
  ario_deinit(l);
  return T_EXIT_PASS;
}
