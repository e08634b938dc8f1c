/* The doorbell thread (bell.c) across many submit/reap cycles: the owner
 * arms it after reaping everything, submits an op (a NOP completing inside
 * ario_submit, a short timer, a POLL made ready by a write), and the bell
 * must ring within a bound; then the owner reaps and arms again. Ends with
 * ario_bell_stop() (0, and safe twice). Built under ThreadSanitizer by
 * scripts/test-c.sh. */
#include "test.h"

static t_counter rings = T_COUNTER_INIT;

static void bell(void) { t_counter_bump(&rings); } /* quick, as the API asks */

int main(void) {
  ario_loop *l = t_loop(64);
  int p[2];
  CHECK(ario_pipe(p) == 0);
  CHECK_EQ(ario_bell_start(l, bell), 0);
  CHECK_EQ(ario_bell_start(l, bell), -EALREADY);
  ario_cqe c[8];
  int cycles = getenv("ARIO_BELL_CYCLES") ? atoi(getenv("ARIO_BELL_CYCLES")) : 600;
  for (int i = 0; i < cycles; i++) {
    unsigned seen = t_counter_get(&rings);
    ario_bell_arm(l);
    ario_sqe e;
    switch (i % 3) {
    case 0: e = t_sqe(ARIO_OP_NOP, -1, (uint64_t)i); break;
    case 1: e = t_sqe(ARIO_OP_TIMEOUT, -1, (uint64_t)i); e.off = 20000 + (uint64_t)(i % 7) * 10000; break;
    default: e = t_sqe(ARIO_OP_POLL, p[0], (uint64_t)i); e.op_flags = ARIO_POLL_IN; break;
    }
    CHECK_EQ(ario_submit(l, &e, 1), 1);
    if (i % 3 == 2) CHECK(write(p[1], "x", 1) == 1);
    if (!t_counter_wait_past(&rings, seen))
      t_fail("cycle %d (kind %d): the bell did not ring\n", i, i % 3);
    /* the owner's turn: reap everything this op produced */
    CHECK_EQ(t_reap_n(l, c, 1), 1);
    CHECK_EQ(c[0].user_data, (uint64_t)i);
    if (i % 3 == 1) CHECK_EQ(c[0].res, -ETIME);
    if (i % 3 == 2) {
      CHECK_EQ(c[0].res, ARIO_POLL_IN);
      char b;
      CHECK(read(p[0], &b, 1) == 1);
    }
  }
  CHECK_EQ(ario_bell_stop(l), 0);
  CHECK_EQ(ario_bell_stop(l), 0);
  CHECK_EQ(ario_inflight(l), 0);
  ario_deinit(l);
  return T_EXIT_PASS;
}
