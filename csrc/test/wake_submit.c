/* An op that completes inside ario_submit() (a NOP, an entry that fails
 * validation, a readiness op that succeeds at once) wakes a thread already
 * asleep in ario_wait(-1), and so does ario_close() of an fd an op waits on: that thread is the doorbell, and the owner is
 * told of the completion only through it. */
#include "test.h"
#include <pthread.h>

static ario_loop *loop;
static volatile int returned;

static void *waiter(void *arg) {
  (void)arg;
  /* effectively -1 (no limit), bounded so a failing run ends: 3 s */
  ario_wait(loop, 3000000000LL);
  __atomic_store_n(&returned, 1, __ATOMIC_SEQ_CST);
  return 0;
}

int main(void) {
  loop = t_loop(16);
  int s[2];
  t_unix_pair(s);
  ario_cqe c[4];
  for (int round = 0; round < 40; round++) {
    pthread_t t;
    int p[2] = {-1, -1};
    if (round % 4 == 3) { /* ario_close() of an fd an op waits on */
      CHECK(pipe(p) == 0);
      ario_set_nonblocking(p[0], 1);
      ario_sqe w = t_sqe(ARIO_OP_POLL, p[0], 1);
      w.op_flags = ARIO_POLL_IN;
      CHECK_EQ(ario_submit(loop, &w, 1), 1);
      CHECK_EQ(ario_reap(loop, c, 4, 0), 0);
    }
    __atomic_store_n(&returned, 0, __ATOMIC_SEQ_CST);
    CHECK(pthread_create(&t, 0, waiter, 0) == 0);
    usleep(3000); /* let it fall asleep with nothing to wait for */
    ario_sqe e;
    switch (round % 4) {
    case 0: e = t_sqe(ARIO_OP_NOP, -1, 1); break;
    case 1: e = t_sqe(ARIO_OP_NOP, -1, 1); e.reserved = 1; break; /* -EINVAL */
    default: e = t_sqe(ARIO_OP_SEND, s[0], 1); e.addr = (uintptr_t)"x"; e.len = 1; break;
    }
    int64_t t0 = ario_now();
    if (round % 4 == 3) {
      CHECK_EQ(ario_close(loop, p[0]), 0);
      close(p[1]);
    } else {
      CHECK_EQ(ario_submit(loop, &e, 1), 1);
    }
    while (!__atomic_load_n(&returned, __ATOMIC_SEQ_CST) && ario_now() - t0 < 1000000000LL)
      usleep(1000);
    if (!__atomic_load_n(&returned, __ATOMIC_SEQ_CST))
      t_fail("round %d: the waiter slept on after a completion in ario_submit\n", round);
    pthread_join(t, 0);
    CHECK_EQ(t_reap_n(loop, c, 1), 1);
    CHECK_EQ(c[0].user_data, 1);
    static const int32_t want[4] = {0, -EINVAL, 1, -ECANCELED};
    CHECK_EQ(c[0].res, want[round % 4]);
    if (round % 4 == 2) {
      char b;
      CHECK(read(s[1], &b, 1) == 1);
    }
  }
  ario_deinit(loop);
  return T_EXIT_PASS;
}
