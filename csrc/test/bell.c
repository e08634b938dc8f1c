/* The doorbell thread (bell.c) across many submit/reap cycles: the owner
 * arms it after reaping everything, submits an op (a NOP completing inside
 * ario_submit, a short timer, a POLL made ready by a write), and the bell
 * must ring within a bound; then the owner reaps and arms again. Ends with
 * ario_bell_stop() (0, and safe twice). Built under ThreadSanitizer by
 * scripts/test-c.sh. */
#include "test.h"
#include <pthread.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static unsigned rings;

static void bell(void) { /* quick, as the API asks: count and signal */
  pthread_mutex_lock(&mu);
  rings++;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&mu);
}

/* Waits until rings > seen, at most 2 s. */
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

static unsigned rings_now(void) {
  pthread_mutex_lock(&mu);
  unsigned r = rings;
  pthread_mutex_unlock(&mu);
  return r;
}

int main(void) {
  ario_loop *l = test_loop(64);
  int p[2];
  CHECK(ario_pipe(p) == 0);
  CHECK_EQ(ario_bell_start(l, bell), 0);
  CHECK_EQ(ario_bell_start(l, bell), -EALREADY);
  ario_cqe c[8];
  int cycles = getenv("ARIO_BELL_CYCLES") ? atoi(getenv("ARIO_BELL_CYCLES")) : 600;
  for (int i = 0; i < cycles; i++) {
    unsigned seen = rings_now();
    ario_bell_arm(l);
    ario_sqe e;
    switch (i % 3) {
    case 0: e = sqe(ARIO_OP_NOP, -1, (uint64_t)i); break;
    case 1: e = sqe(ARIO_OP_TIMEOUT, -1, (uint64_t)i); e.off = 20000 + (uint64_t)(i % 7) * 10000; break;
    default: e = sqe(ARIO_OP_POLL, p[0], (uint64_t)i); e.op_flags = ARIO_POLL_IN; break;
    }
    CHECK_EQ(ario_submit(l, &e, 1), 1);
    if (i % 3 == 2) CHECK(write(p[1], "x", 1) == 1);
    if (!wait_ring(seen)) {
      fprintf(stderr, "cycle %d (kind %d): the bell did not ring\n", i, i % 3);
      return 1;
    }
    /* the owner's turn: reap everything this op produced */
    CHECK_EQ(reap_n(l, c, 1), 1);
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
  return 0;
}
