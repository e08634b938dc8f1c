/* ario_wait() from another thread sees a deadline set while it sleeps, even
 * when the owner's own reap runs right after and consumes its wake-up. */
#include "test.h"
#include <pthread.h>

static ario_loop *loop;
static volatile int woke;

static void *waiter(void *arg) {
  (void)arg;
  ario_wait(loop, 2000000000LL); /* 2 s bound: the test fails if it is reached */
  woke = 1;
  return 0;
}

int main(void) {
  loop = t_loop(16);
  ario_cqe c[4];
  for (int round = 0; round < 50; round++) {
    pthread_t t;
    woke = 0;
    CHECK(pthread_create(&t, 0, waiter, 0) == 0);
    usleep(2000); /* let it sleep with no deadline */
    ario_sqe s = t_sqe(ARIO_OP_TIMEOUT, -1, 1);
    s.off = 50000000; /* 50 ms */
    int64_t t0 = ario_now();
    CHECK_EQ(ario_submit(loop, &s, 1), 1);
    /* The owner polls at once. On a loaded machine (TSan, CI) the timer may
     * be due already: then this round proves nothing, and the waiter,
     * whose wake-up the owner took, sleeps to its bound. */
    int early = ario_reap(loop, c, 4, 0);
    CHECK(early == 0 || early == 1);
    pthread_join(t, 0);
    CHECK(woke);
    if (!early) {
      CHECK(ario_now() - t0 < 500000000LL); /* woke for the timer, not the 2 s bound */
      CHECK_EQ(t_reap_n(loop, c, 1), 1);
    }
    CHECK_EQ(c[0].res, -ETIME);
  }
  ario_deinit(loop);
  return T_EXIT_PASS;
}
