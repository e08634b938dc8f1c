/* A table full of idle ops never blocks CANCEL and CLOSE: with `entries`
 * reads pending, a CANCEL by user_data, by fd, ANY|ALL, and a CLOSE are each
 * consumed and complete (ARIO_RESERVED_SLOTS slots are theirs), while any
 * other op still waits for room. */
#include "test.h"
#include <fcntl.h>

#define E 32
#define NP 4
static int p[NP][2];
static char bufs[E + ARIO_RESERVED_SLOTS][8];
static ario_loop *l;
static uint64_t next_ud = 1000;
static int pipe_of[4096]; /* user_data -> 1 + pipe of a read in flight */

static int live_on(int i) {
  int n = 0;
  for (int u = 0; u < 4096; u++) n += pipe_of[u] == 1 + i;
  return n;
}

/* Reaps n completions; reads among them must be cancelled. */
static void reap_expect(ario_cqe *c, int n) {
  CHECK_EQ(t_reap_n(l, c, n), n);
  for (int i = 0; i < n; i++)
    if (c[i].user_data >= 1000) {
      CHECK(pipe_of[c[i].user_data]);
      CHECK_EQ(c[i].res, -ECANCELED);
      pipe_of[c[i].user_data] = 0;
    }
}

/* Fills the table with idle reads (user_data 1..), round-robin on the pipes. */
static void fill(void) {
  while (ario_inflight(l) < E) {
    uint32_t n = ario_inflight(l);
    pipe_of[next_ud] = 1 + (int)(next_ud % NP);
    ario_sqe e = t_sqe(ARIO_OP_READ, p[next_ud % NP][0], next_ud);
    next_ud++;
    e.addr = (uintptr_t)bufs[n];
    e.len = sizeof bufs[n];
    e.off = ARIO_OFF_CURRENT;
    CHECK_EQ(ario_submit(l, &e, 1), 1);
  }
  ario_cqe c[4];
  CHECK_EQ(ario_reap(l, c, 4, 0), 0); /* all idle */
  ario_sqe nop = t_sqe(ARIO_OP_NOP, -1, 1);
  CHECK_EQ(ario_submit(l, &nop, 1), 0); /* full for ordinary ops */
}

/* Submits one CANCEL/CLOSE entry into the full table: it must be consumed. */
static void must_take(ario_sqe e, const char *what) {
  int got = ario_submit(l, &e, 1);
  if (got != 1) t_fail("%s: not consumed with %d idle reads pending (got %d)\n", what, E, got);
}

int main(void) {
  l = t_loop(E);
  for (int i = 0; i < NP; i++) {
    CHECK(pipe(p[i]) == 0);
    ario_set_nonblocking(p[i][0], 1);
  }
  ario_cqe c[E + ARIO_RESERVED_SLOTS + 4];

  /* by user_data */
  fill();
  uint64_t victim = next_ud - 3;
  ario_sqe k = t_sqe(ARIO_OP_CANCEL, -1, 1);
  k.addr = victim;
  must_take(k, "CANCEL by user_data");
  reap_expect(c, 2);
  CHECK_EQ(t_res_of(c, 2, 1), 0);
  CHECK_EQ(t_res_of(c, 2, victim), -ECANCELED);

  /* by fd, one and all */
  fill();
  k = t_sqe(ARIO_OP_CANCEL, p[1][0], 2);
  k.op_flags = ARIO_CANCEL_FD;
  must_take(k, "CANCEL by fd");
  reap_expect(c, 2);
  CHECK_EQ(t_res_of(c, 2, 2), 0);
  fill();
  int n1 = live_on(1);
  k.op_flags = ARIO_CANCEL_FD | ARIO_CANCEL_ALL;
  must_take(k, "CANCEL by fd, ALL");
  reap_expect(c, 1 + n1);
  CHECK_EQ(t_res_of(c, 1 + n1, 2), n1);
  CHECK_EQ(live_on(1), 0);

  /* CLOSE of an fd reads wait on: they are cancelled, the fd closed */
  fill();
  ario_sqe cl = t_sqe(ARIO_OP_CLOSE, p[2][0], 3);
  int n2 = live_on(2);
  CHECK(n2 > 0);
  must_take(cl, "CLOSE");
  reap_expect(c, 1 + n2);
  CHECK_EQ(t_res_of(c, 1 + n2, 3), 0);
  CHECK_EQ(live_on(2), 0);
  CHECK(fcntl(p[2][0], F_GETFD) < 0);
  CHECK(pipe(p[2]) == 0);
  ario_set_nonblocking(p[2][0], 1);

  /* the reserve holds ARIO_RESERVED_SLOTS unreaped CANCELs, no more; a
   * chain made only of CANCELs counts the same */
  fill();
  ario_sqe many[ARIO_RESERVED_SLOTS + 1];
  for (uint32_t i = 0; i <= ARIO_RESERVED_SLOTS; i++) {
    many[i] = t_sqe(ARIO_OP_CANCEL, -1, 10 + i);
    many[i].addr = 999999; /* matches nothing: -ENOENT */
  }
  many[0].flags = ARIO_SQE_HARDLINK;
  CHECK_EQ(ario_submit(l, many, ARIO_RESERVED_SLOTS + 1), ARIO_RESERVED_SLOTS);
  CHECK_EQ(t_reap_n(l, c, ARIO_RESERVED_SLOTS), ARIO_RESERVED_SLOTS);
  for (uint32_t i = 0; i < ARIO_RESERVED_SLOTS; i++) CHECK_EQ(c[i].res, -ENOENT);
  must_take(many[ARIO_RESERVED_SLOTS], "CANCEL after reaping the reserve");
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, -ENOENT);

  /* a chain with an ordinary op does not get in */
  ario_sqe mix[2] = {t_sqe(ARIO_OP_CANCEL, -1, 30), t_sqe(ARIO_OP_NOP, -1, 31)};
  mix[0].addr = 999999;
  mix[0].flags = ARIO_SQE_HARDLINK;
  CHECK_EQ(ario_submit(l, mix, 2), 0);

  /* ANY|ALL empties the table */
  k = t_sqe(ARIO_OP_CANCEL, -1, 4);
  k.op_flags = ARIO_CANCEL_ANY | ARIO_CANCEL_ALL;
  must_take(k, "CANCEL ANY|ALL");
  reap_expect(c, 1 + E);
  CHECK_EQ(t_res_of(c, 1 + E, 4), E);
  CHECK_EQ(ario_inflight(l), 0);
  ario_deinit(l);
  return T_EXIT_PASS;
}
