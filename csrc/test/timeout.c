/* TIMEOUT (relative, absolute, counted) and LINK_TIMEOUT firing and not
 * firing (on the MCU harness's simulated clock: exact and instant).
 * mcu: src tests/mcu/bare/pipe_dev.c
 * mcu: cflags -Icsrc -Icsrc/test -Itests/mcu/bare -Wextra -Werror */
#include "test.h"

int main(void) {
  ario_loop *l = t_loop(T_ENTRIES);
  ario_cqe c[16];
  ario_sqe s[8];
  int32_t t[2];
  char in[8];
  t_stream_pair(t);

  /* relative timeouts fire in deadline order, never early */
  int64_t t0 = ario_now();
  s[0] = t_sqe(ARIO_OP_TIMEOUT, -1, 1); s[0].off = 30000000;
  s[1] = t_sqe(ARIO_OP_TIMEOUT, -1, 2); s[1].off = 10000000;
  s[2] = t_sqe(ARIO_OP_TIMEOUT, -1, 3); s[2].off = (uint64_t)(t0 + 20000000); s[2].op_flags = ARIO_TIMEOUT_ABS;
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  CHECK(ario_now() - t0 >= 30000000);
  CHECK_EQ(c[0].user_data, 2); CHECK_EQ(c[1].user_data, 3); CHECK_EQ(c[2].user_data, 1);
  for (int i = 0; i < 3; i++) CHECK_EQ(c[i].res, -ETIME);

#ifdef ARIO_BARE
  /* sixteen timers 1 ms apart, submitted in scrambled order, fire sorted
   * (heap); exact on the simulated clock only, since each deadline counts
   * from its own submission */
  for (int i = 0; i < 16; i++) {
    ario_sqe e = t_sqe(ARIO_OP_TIMEOUT, -1, 100 + (uint64_t)((i * 7) % 16));
    e.off = (uint64_t)(1000000 * (1 + (i * 7) % 16));
    CHECK_EQ(ario_submit(l, &e, 1), 1);
  }
  CHECK_EQ(t_reap_n(l, c, 16), 16);
  for (int i = 0; i < 16; i++) {
    CHECK_EQ(c[i].user_data, 100 + i);
    CHECK_EQ(c[i].res, -ETIME);
  }
#endif

  /* counted: completes with 0 after 2 other completions */
  s[0] = t_sqe(ARIO_OP_TIMEOUT, -1, 10); s[0].off = 5000000000LL; s[0].len = 2;
  s[1] = t_sqe(ARIO_OP_NOP, -1, 11);
  s[2] = t_sqe(ARIO_OP_NOP, -1, 12);
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  CHECK_EQ(t_res_of(c, 3, 10), 0);
  CHECK_EQ(c[2].user_data, 10);

  /* link timeout fires: recv -ECANCELED, timeout -ETIME, next cancelled */
  t0 = ario_now();
  s[0] = t_sqe(ARIO_OP_RECV, t[0], 20); s[0].addr = t_addr(in); s[0].len = 8; s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_LINK_TIMEOUT, -1, 21); s[1].off = 20000000; s[1].flags = ARIO_SQE_LINK;
  s[2] = t_sqe(ARIO_OP_NOP, -1, 22);
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  CHECK(ario_now() - t0 >= 20000000);
  CHECK_EQ(t_res_of(c, 3, 20), -ECANCELED);
  CHECK_EQ(t_res_of(c, 3, 21), -ETIME);
  CHECK_EQ(t_res_of(c, 3, 22), -ECANCELED);

  /* link timeout does not fire: op result, timeout -ECANCELED, chain goes on */
  CHECK_EQ(t_write(t[1], "ok", 2), 2);
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  CHECK_EQ(c[0].user_data, 20); CHECK_EQ(c[0].res, 2);
  CHECK_EQ(c[1].user_data, 21); CHECK_EQ(c[1].res, -ECANCELED);
  CHECK_EQ(c[2].user_data, 22); CHECK_EQ(c[2].res, 0);

  /* the op completes later, before its timeout */
  s[1].off = 2000000000;
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(ario_reap(l, c, 3, 10000000), 0);
  CHECK_EQ(t_write(t[1], "late", 4), 4);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  CHECK_EQ(c[0].res, 4); CHECK_EQ(c[1].res, -ECANCELED); CHECK_EQ(c[2].res, 0);
  CHECK_EQ(ario_inflight(l), 0);
  ario_deinit(l);
  return T_EXIT_PASS;
}
