/* The doorbell's exit door (bell.c): once ario_bell_exiting(status) has
 * returned 0 (no thread inside bell() or committed to entering it), no
 * thread enters bell() until the hint is withdrawn, however the ring races
 * with the call; after the withdrawal an armed bell rings. Each cycle arms
 * the bell, submits a NOP (ready at once, so the thread is waking as the
 * owner shuts the door) and shuts the door at a varying moment. Built under
 * ThreadSanitizer by scripts/test-c.sh. */
#include "test.h"

static t_counter rings = T_COUNTER_INIT;
static int shut;       /* the owner saw ario_bell_exiting() return 0 */
static int violations; /* bell() entered while shut */

static void bell(void) {
  if (__atomic_load_n(&shut, __ATOMIC_SEQ_CST)) __atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
  t_counter_bump(&rings);
}

static void spin_ns(long ns) {
  int64_t until = ario_now() + ns;
  while (ario_now() < until) {
  }
}

int main(void) {
  ario_loop *l = t_loop(64);
  CHECK_EQ(ario_bell_start(l, bell), 0);
  ario_cqe c[8];
  int cycles = getenv("ARIO_BELL_CYCLES") ? atoi(getenv("ARIO_BELL_CYCLES")) : 200;
  int closed_door = 0, held = 0;
  for (int i = 0; i < cycles; i++) {
    unsigned seen = t_counter_get(&rings);
    ario_bell_arm(l);
    ario_sqe e = t_sqe(ARIO_OP_NOP, -1, (uint64_t)i);
    CHECK_EQ(ario_submit(l, &e, 1), 1);
    spin_ns((i % 8) * 5000L); /* shut the door before, during or after the ring */
    int inside = ario_bell_exiting(1);
    CHECK(inside >= 0);
    if (inside == 0) {
      __atomic_store_n(&shut, 1, __ATOMIC_SEQ_CST);
      unsigned at = t_counter_get(&rings);
      struct timespec ms = {0, 3 * 1000000L};
      nanosleep(&ms, 0); /* the NOP is ready: an open door would ring now */
      CHECK_EQ(t_counter_get(&rings), at);
      __atomic_store_n(&shut, 0, __ATOMIC_SEQ_CST);
      closed_door++;
    } else {
      held++; /* a thread was on its way in: it rings (no check while it does) */
    }
    ario_bell_exiting(-1);
    if (t_counter_get(&rings) == seen && !t_counter_wait_past(&rings, seen))
      t_fail("cycle %d: the bell did not ring after the withdrawal\n", i);
    CHECK_EQ(t_reap_n(l, c, 1), 1);
    CHECK_EQ(c[0].user_data, (uint64_t)i);
  }
  CHECK_EQ(__atomic_load_n(&violations, __ATOMIC_SEQ_CST), 0);
  CHECK(closed_door > 0);
  CHECK_EQ(ario_bell_stop(l), 0);
  ario_deinit(l);
  printf("bell_exiting: %d cycles, door shut with no thread inside %d, a thread inside %d\n",
         cycles, closed_door, held);
  return T_EXIT_PASS;
}
