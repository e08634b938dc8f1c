/* An op in op-table slot 0 waiting on an fd is a real waiter: when another
 * op on the same fd completes and drops interest, the fd slot must stay (its
 * wait list is not empty: empty is ARIO_NIL, not 0), and the slot-0 POLL
 * completes once its condition holds. */
#include "test.h"

int main(void) {
  ario_loop *l = t_loop(8);
  ario_cqe c[4];
  int s[2];
  t_unix_pair(s);
  for (int round = 0; round < 20; round++) {
    CHECK_EQ(ario_inflight(l), 0);
    ario_sqe e[2];
    e[0] = t_sqe(ARIO_OP_POLL, s[0], 1); /* slot 0 (the free list's head) */
    e[0].op_flags = ARIO_POLL_IN;
    e[1] = t_sqe(ARIO_OP_POLL, s[0], 2); /* ready at once: writable */
    e[1].op_flags = ARIO_POLL_OUT;
    CHECK_EQ(ario_submit(l, e, 2), 2);
    CHECK_EQ(t_reap_n(l, c, 1), 1);
    CHECK_EQ(c[0].user_data, 2);
    CHECK(c[0].res & ARIO_POLL_OUT);
    CHECK_EQ(ario_reap(l, c, 4, 1000000), 0); /* nothing to read yet */
    CHECK(write(s[1], "x", 1) == 1);
    int64_t until = ario_now() + 2000000000LL;
    int n = 0;
    while (n == 0 && ario_now() < until) {
      n = ario_reap(l, c, 4, 50000000);
      CHECK(n >= 0);
    }
    CHECK_EQ(n, 1); /* hung here: the slot-0 POLL was stranded */
    CHECK_EQ(c[0].user_data, 1);
    CHECK_EQ(c[0].res, ARIO_POLL_IN);
    char b;
    CHECK(read(s[0], &b, 1) == 1);
  }
  ario_deinit(l);
  return T_EXIT_PASS;
}
