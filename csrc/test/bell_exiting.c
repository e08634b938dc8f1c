/* The doorbell's exit door (bell.c): once ario_bell_exiting(status) has
 * returned 0 (no thread inside bell() or committed to entering it), no
 * thread enters bell() until the hint is withdrawn, however the ring races
 * with the call; after the withdrawal an armed bell rings. Each cycle arms
 * the bell, submits a NOP (ready at once, so the thread is waking as the
 * owner shuts the door) and shuts the door at a varying moment. Built under
 * ThreadSanitizer by scripts/test-c.sh. */
#include "test.h"
#include <pthread.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static unsigned rings;
static int shut;       /* the owner saw ario_bell_exiting() return 0 */
static int violations; /* bell() entered while shut */

static void bell(void) {
  if (__atomic_load_n(&shut, __ATOMIC_SEQ_CST)) __atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_lock(&mu);
  rings++;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
}

static unsigned rings_now(void) {
  pthread_mutex_lock(&mu);
  unsigned r = rings;
  pthread_mutex_unlock(&mu);
  return r;
}

static int wait_ring(unsigned seen) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 2;
  pthread_mutex_lock(&mu);
  while (rings <= seen)
    if (pthread_cond_timedwait(&cv, &mu, &until) != 0) break;
  int ok = rings > seen;
  pthread_mutex_unlock(&mu);
  return ok;
}

static void spin_ns(long ns) {
  int64_t until = ario_now() + ns;
  while (ario_now() < until) {
  }
}

int main(void) {
  ario_loop *l = test_loop(64);
  CHECK_EQ(ario_bell_start(l, bell), 0);
  ario_cqe c[8];
  int cycles = getenv("ARIO_BELL_CYCLES") ? atoi(getenv("ARIO_BELL_CYCLES")) : 200;
  int closed_door = 0, held = 0;
  for (int i = 0; i < cycles; i++) {
    unsigned seen = rings_now();
    ario_bell_arm(l);
    ario_sqe e = sqe(ARIO_OP_NOP, -1, (uint64_t)i);
    CHECK_EQ(ario_submit(l, &e, 1), 1);
    spin_ns((i % 8) * 5000L); /* shut the door before, during or after the ring */
    int inside = ario_bell_exiting(1);
    CHECK(inside >= 0);
    if (inside == 0) {
      __atomic_store_n(&shut, 1, __ATOMIC_SEQ_CST);
      unsigned at = rings_now();
      struct timespec ms = {0, 3 * 1000000L};
      nanosleep(&ms, 0); /* the NOP is ready: an open door would ring now */
      CHECK_EQ(rings_now(), at);
      __atomic_store_n(&shut, 0, __ATOMIC_SEQ_CST);
      closed_door++;
    } else {
      held++; /* a thread was on its way in: it rings (no check while it does) */
    }
    ario_bell_exiting(-1);
    if (rings_now() == seen && !wait_ring(seen)) {
      fprintf(stderr, "cycle %d: the bell did not ring after the withdrawal\n", i);
      return 1;
    }
    CHECK_EQ(reap_n(l, c, 1), 1);
    CHECK_EQ(c[0].user_data, (uint64_t)i);
  }
  CHECK_EQ(__atomic_load_n(&violations, __ATOMIC_SEQ_CST), 0);
  CHECK(closed_door > 0);
  CHECK_EQ(ario_bell_stop(l), 0);
  ario_deinit(l);
  printf("bell_exiting: %d cycles, door shut with no thread inside %d, a thread inside %d\n",
         cycles, closed_door, held);
  return 0;
}
