/* ario_set_timer_lead: ario_wait() returns `lead` before the earliest timer
 * is due, ario_timer_due_in() says how long is left, and the timer still
 * fires at its deadline, never before. Without timers due_in is INT64_MAX.
 * io_uring runs timers in the kernel: no lead there (it skips). */
#include "test.h"

int main(void) {
  ario_loop *l = t_loop(16);
  CHECK_EQ(ario_timer_due_in(l), INT64_MAX);
  if (ario_backend(l) == ARIO_BACKEND_IO_URING) {
    ario_deinit(l);
    t_printf("io_uring: timers are the kernel's, the lead applies to the C heap only\n");
    return T_EXIT_SKIP;
  }
  const int64_t lead = 40000000, after = 100000000; /* 40 ms before a 100 ms timer */
  ario_set_timer_lead(l, lead);
  ario_cqe c[4];
  for (int round = 0; round < 5; round++) {
    ario_sqe s = t_sqe(ARIO_OP_TIMEOUT, -1, 7);
    s.off = (uint64_t)after;
    int64_t t0 = ario_now();
    CHECK_EQ(ario_submit(l, &s, 1), 1);
    int64_t due = ario_timer_due_in(l);
    CHECK(due > 0 && due <= after);
    CHECK_EQ(ario_wait(l, 2000000000LL), 1);
    int64_t woke = ario_now() - t0;
    CHECK(woke < after); /* early, by the lead */
    CHECK(woke >= after - lead - 5000000); /* but not much earlier (5 ms of slack) */
    due = ario_timer_due_in(l);
    CHECK(due > 0); /* the timer is not due yet... */
    CHECK_EQ(ario_reap(l, c, 4, 0), 0); /* ...and does not fire */
    CHECK_EQ(t_reap_n(l, c, 1), 1); /* it does at its deadline, not before */
    CHECK(ario_now() - t0 >= after);
    CHECK_EQ(c[0].res, -ETIME);
    CHECK_EQ(ario_timer_due_in(l), INT64_MAX);
  }
  ario_set_timer_lead(l, -5); /* a negative lead is none */
  ario_sqe s = t_sqe(ARIO_OP_TIMEOUT, -1, 8);
  s.off = 20000000;
  int64_t t0 = ario_now();
  CHECK_EQ(ario_submit(l, &s, 1), 1);
  CHECK_EQ(ario_wait(l, 2000000000LL), 1);
  CHECK(ario_now() - t0 >= 20000000);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  ario_deinit(l);
  return T_EXIT_PASS;
}
