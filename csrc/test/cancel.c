/* CANCEL by user_data, by fd, all; CLOSE cancels what waits on the fd. */
#include "test.h"

int main(void) {
  ario_loop *l = test_loop(32);
  ario_cqe c[16];
  ario_sqe s[8];
  int t[2];
  char a[8], b[8];
  tcp_pair(t);

  s[0] = sqe(ARIO_OP_RECV, t[1], 1); s[0].addr = (uintptr_t)a; s[0].len = 8;
  s[1] = sqe(ARIO_OP_TIMEOUT, -1, 2); s[1].off = 5000000000LL;
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(ario_reap(l, c, 8, 0), 0);
  s[0] = sqe(ARIO_OP_CANCEL, -1, 3); s[0].addr = 1;
  s[1] = sqe(ARIO_OP_CANCEL, -1, 4); s[1].addr = 2;
  s[2] = sqe(ARIO_OP_CANCEL, -1, 5); s[2].addr = 777; /* nothing */
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(reap_n(l, c, 5), 5);
  CHECK_EQ(res_of(c, 5, 1), -ECANCELED);
  CHECK_EQ(res_of(c, 5, 2), -ECANCELED);
  CHECK_EQ(res_of(c, 5, 3), 0);
  CHECK_EQ(res_of(c, 5, 4), 0);
  CHECK_EQ(res_of(c, 5, 5), -ENOENT);

  /* by fd, all: two receives on one socket */
  s[0] = sqe(ARIO_OP_RECV, t[1], 10); s[0].addr = (uintptr_t)a; s[0].len = 8;
  s[1] = sqe(ARIO_OP_RECV, t[1], 11); s[1].addr = (uintptr_t)b; s[1].len = 8;
  s[2] = sqe(ARIO_OP_CANCEL, t[1], 12); s[2].op_flags = ARIO_CANCEL_FD | ARIO_CANCEL_ALL;
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(reap_n(l, c, 3), 3);
  CHECK_EQ(res_of(c, 3, 10), -ECANCELED);
  CHECK_EQ(res_of(c, 3, 11), -ECANCELED);
  CHECK_EQ(res_of(c, 3, 12), 2);

  /* the socket still works after cancellation */
  CHECK_EQ(send(t[0], "x", 1, 0), 1);
  s[0] = sqe(ARIO_OP_RECV, t[1], 20); s[0].addr = (uintptr_t)a; s[0].len = 8;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, 1);

  /* CLOSE cancels the pending receive first, then closes */
  s[0] = sqe(ARIO_OP_RECV, t[1], 30); s[0].addr = (uintptr_t)a; s[0].len = 8;
  s[1] = sqe(ARIO_OP_CLOSE, t[1], 31);
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(reap_n(l, c, 2), 2);
  CHECK_EQ(c[0].user_data, 30); CHECK_EQ(c[0].res, -ECANCELED);
  CHECK_EQ(c[1].user_data, 31); CHECK_EQ(c[1].res, 0);

  /* ario_close() too */
  int u[2];
  tcp_pair(u);
  s[0] = sqe(ARIO_OP_RECV, u[1], 40); s[0].addr = (uintptr_t)a; s[0].len = 8;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(ario_reap(l, c, 1, 0), 0);
  CHECK_EQ(ario_close(l, u[1]), 0);
  CHECK_EQ(reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, -ECANCELED);
  CHECK_EQ(ario_inflight(l), 0);
  ario_deinit(l);
  return 0;
}
