/* An fd whose waiter a report served stays armed for its next op. That kept
 * registration must never strand or spin: the number closed behind the
 * loop's back and reused by a new socket still gets its readiness, and an
 * idle fd that hangs up is dropped at its first report (the next reap
 * sleeps instead of returning at once). */
#include "test.h"

static void pair(int s[2]) {
  t_unix_pair(s);
}

/* One RECV of a byte on fd, fed through peer. */
static void recv_one(ario_loop *l, int fd, int peer, uint64_t ud) {
  static char buf[8];
  ario_cqe c[2];
  ario_sqe e = t_sqe(ARIO_OP_RECV, fd, ud);
  e.addr = (uint64_t)(uintptr_t)buf;
  e.len = sizeof buf;
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  CHECK_EQ(ario_reap(l, c, 2, 1000000), 0); /* waits: nothing sent yet */
  CHECK(write(peer, "x", 1) == 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1); /* hung here: the wait was never armed */
  CHECK_EQ(c[0].user_data, ud);
  CHECK_EQ(c[0].res, 1);
}

int main(void) {
  ario_loop *l = t_loop(8);
  ario_cqe c[2];
  int a[2], b[2];
  pair(a);
  for (int round = 0; round < 10; round++) recv_one(l, a[0], a[1], 1 + round);

  /* closed behind the loop's back, the number reused by another socket */
  int num = a[0];
  close(a[0]);
  close(a[1]);
  pair(b);
  if (b[0] != num) {
    CHECK(dup2(b[0], num) == num);
    close(b[0]);
  }
  for (int round = 0; round < 10; round++) recv_one(l, num, b[1], 100 + round);

  /* an idle fd that hangs up: one report drops it, then the loop sleeps */
  close(b[1]);
  CHECK_EQ(ario_reap(l, c, 2, 20000000), 0);
  int64_t t0 = ario_now();
  CHECK_EQ(ario_reap(l, c, 2, 50000000), 0);
  CHECK(ario_now() - t0 >= 40000000); /* returned at once: the hang-up kept reporting */
  close(num);
  ario_deinit(l);
  return T_EXIT_PASS;
}
