/* Soft and hard links with io_uring's rules.
 * mcu: src tests/mcu/bare/pipe_dev.c
 * mcu: cflags -Icsrc -Icsrc/test -Itests/mcu/bare -Wextra -Werror */
#include "test.h"

int main(void) {
  ario_loop *l = t_loop(T_ENTRIES);
  ario_cqe c[16];
  ario_sqe s[8];
  int32_t p[2], t[2];
  char out[8] = "abcdefg", in[16];
  CHECK_EQ(ario_pipe(p), 0);

  /* soft: write 4 -> read 4 -> nop, all succeed in order */
  s[0] = t_sqe(ARIO_OP_WRITE, p[1], 1); s[0].addr = t_addr(out); s[0].len = 4; s[0].off = ARIO_OFF_CURRENT; s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_READ, p[0], 2); s[1].addr = t_addr(in); s[1].len = 4; s[1].off = ARIO_OFF_CURRENT; s[1].flags = ARIO_SQE_LINK;
  s[2] = t_sqe(ARIO_OP_NOP, -1, 3);
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  for (int i = 0; i < 3; i++) CHECK_EQ(c[i].user_data, i + 1);
  CHECK_EQ(c[0].res, 4); CHECK_EQ(c[1].res, 4); CHECK_EQ(c[2].res, 0);
  CHECK(memcmp(in, "abcd", 4) == 0);

  /* soft: failure in the middle cancels the rest */
  s[0] = t_sqe(ARIO_OP_NOP, -1, 10); s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_CLOSE, 9999, 11); s[1].flags = ARIO_SQE_LINK; /* EBADF at run time */
  s[2] = t_sqe(ARIO_OP_NOP, -1, 12); s[2].flags = ARIO_SQE_LINK;
  s[3] = t_sqe(ARIO_OP_NOP, -1, 13);
  CHECK_EQ(ario_submit(l, s, 4), 4);
  CHECK_EQ(t_reap_n(l, c, 4), 4);
  CHECK_EQ(c[0].res, 0); CHECK_EQ(c[1].res, -EBADF);
  CHECK_EQ(c[2].res, -ECANCELED); CHECK_EQ(c[3].res, -ECANCELED);

  /* hard: the chain goes on after a failure */
  s[1].flags = ARIO_SQE_HARDLINK;
  CHECK_EQ(ario_submit(l, s, 4), 4);
  CHECK_EQ(t_reap_n(l, c, 4), 4);
  CHECK_EQ(c[1].res, -EBADF); CHECK_EQ(c[2].res, 0); CHECK_EQ(c[3].res, 0);

  /* a short read breaks a soft chain */
  CHECK_EQ(t_write(p[1], "xy", 2), 2);
  s[0] = t_sqe(ARIO_OP_READ, p[0], 20); s[0].addr = t_addr(in); s[0].len = 8; s[0].off = ARIO_OFF_CURRENT; s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_NOP, -1, 21);
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(c[0].res, 2); CHECK_EQ(c[1].res, -ECANCELED);

  /* a short RECV does not (only with MSG_WAITALL), as in io_uring */
  t_stream_pair(t);
  CHECK_EQ(t_write(t[1], "hi", 2), 2);
  s[0] = t_sqe(ARIO_OP_RECV, t[0], 30); s[0].addr = t_addr(in); s[0].len = 8; s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_NOP, -1, 31);
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(c[0].res, 2); CHECK_EQ(c[1].res, 0);

  /* MSG_WAITALL gathers the whole length across several arrivals */
  s[0] = t_sqe(ARIO_OP_RECV, t[0], 40); s[0].addr = t_addr(in); s[0].len = 6; s[0].op_flags = MSG_WAITALL;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_write(t[1], "abc", 3), 3);
  CHECK_EQ(ario_reap(l, c, 1, 20000000), 0);
  CHECK_EQ(t_write(t[1], "def", 3), 3);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, 6);
  CHECK(memcmp(in, "abcdef", 6) == 0);

  /* send then recv in one chain across the stream */
  s[0] = t_sqe(ARIO_OP_SEND, t[1], 50); s[0].addr = t_addr(out); s[0].len = 7; s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_RECV, t[0], 51); s[1].addr = t_addr(in); s[1].len = 7; s[1].op_flags = MSG_WAITALL;
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(c[0].res, 7); CHECK_EQ(c[1].res, 7);
  CHECK(memcmp(in, out, 7) == 0);

  /* a read waits for data, then EOF reads 0 once the writer is gone */
  s[0] = t_sqe(ARIO_OP_READ, p[0], 60); s[0].addr = t_addr(in); s[0].len = 8; s[0].off = ARIO_OFF_CURRENT;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(ario_reap(l, c, 1, 1000000), 0);
  CHECK_EQ(ario_close(l, p[1]), 0);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, 0);
  CHECK_EQ(ario_inflight(l), 0);
  ario_deinit(l);
  return T_EXIT_PASS;
}
