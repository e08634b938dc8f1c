/* A wake-up and a ready fd in the same wait: the op on the fd completes in
 * that very reap (select counted its wake descriptor twice and stopped
 * before descriptors numbered above it). */
#include "test.h"

int main(void) {
  ario_loop *l = t_loop(8);
  ario_cqe c[2];
  for (int round = 0; round < 20; round++) {
    int p[2];
    CHECK(ario_pipe(p) == 0); /* numbered above the loop's wake descriptor */
    ario_sqe e = t_sqe(ARIO_OP_POLL, p[0], 1);
    e.op_flags = ARIO_POLL_IN;
    CHECK_EQ(ario_submit(l, &e, 1), 1);
    CHECK_EQ(ario_reap(l, c, 2, 1000000), 0); /* waits: nothing written */
    CHECK(write(p[1], "x", 1) == 1);
    ario_wake(l);
    /* a readiness backend sees both in its first wait; io_uring may take a
     * moment to post the POLL's completion */
    int tries = ario_backend(l) == ARIO_BACKEND_IO_URING ? 50 : 1, got = 0;
    for (int k = 0; k < tries && !got; k++) got = ario_reap(l, c, 2, k ? 10000000 : 0);
    CHECK_EQ(got, 1);
    CHECK_EQ(c[0].user_data, 1);
    close(p[0]);
    close(p[1]);
  }
  ario_deinit(l);
  return T_EXIT_PASS;
}
