/* Bad submissions complete with an errno, never crash, never vanish; a
 * chain is taken whole or not at all.
 * mcu: src tests/mcu/bare/pipe_dev.c
 * mcu: cflags -Icsrc -Icsrc/test -Itests/mcu/bare -Wextra -Werror */
#include "test.h"

int main(void) {
  ario_loop *l = t_loop(8);
  ario_cqe c[16];
  ario_sqe s[8];
  char buf[4];

  s[0] = t_sqe(200, -1, 1);                       /* unknown op */
  s[1] = t_sqe(ARIO_OP_NOP, -1, 2); s[1].flags = 0x80; /* unknown flag */
  s[2] = t_sqe(ARIO_OP_READ, -5, 3); s[2].addr = t_addr(buf); s[2].len = 4;
  s[3] = t_sqe(ARIO_OP_RECV, 0, 4); s[3].len = 4;  /* NULL buffer with a length */
  s[4] = t_sqe(ARIO_OP_LINK_TIMEOUT, -1, 5);       /* nothing to bound */
  s[5] = t_sqe(ARIO_OP_NOP, -1, 6); s[5].reserved = 1;
  s[6] = t_sqe(ARIO_OP_POLL, 0, 7); s[6].op_flags = 0x8000;
  CHECK_EQ(ario_submit(l, s, 7), 7);
  CHECK_EQ(t_reap_n(l, c, 7), 7);
  CHECK_EQ(t_res_of(c, 7, 1), -EINVAL);
  CHECK_EQ(t_res_of(c, 7, 2), -EINVAL);
  CHECK_EQ(t_res_of(c, 7, 3), -EBADF);
  CHECK_EQ(t_res_of(c, 7, 4), -EFAULT);
  CHECK_EQ(t_res_of(c, 7, 5), -EINVAL);
  CHECK_EQ(t_res_of(c, 7, 6), -EINVAL);
  CHECK_EQ(t_res_of(c, 7, 7), -EINVAL);

#ifdef ARIO_BARE
  /* an address above 4 GiB, and a descriptor the compact fd table cannot
   * hold */
  s[0] = t_sqe(ARIO_OP_READ, 3, 8); s[0].addr = 0x100000000ull; s[0].len = 4;
  s[1] = t_sqe(ARIO_OP_READ, 40000, 9); s[1].addr = t_addr(buf); s[1].len = 4;
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 8), -EFAULT);
  CHECK_EQ(t_res_of(c, 2, 9), -EBADF);
#endif

  /* a chain that ends the batch on a link is refused whole */
  s[0] = t_sqe(ARIO_OP_NOP, -1, 10); s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_NOP, -1, 11); s[1].flags = ARIO_SQE_LINK;
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(c[0].user_data, 10);
  CHECK_EQ(c[0].res, -ECANCELED);
  CHECK_EQ(c[1].res, -EINVAL);

  /* an invalid member fails its chain: itself with its errno, others cancelled */
  s[0] = t_sqe(ARIO_OP_NOP, -1, 20); s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_READ, -1, 21); s[1].flags = ARIO_SQE_LINK;
  s[2] = t_sqe(ARIO_OP_NOP, -1, 22);
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  CHECK_EQ(c[0].res, -ECANCELED);
  CHECK_EQ(c[1].res, -EBADF);
  CHECK_EQ(c[2].res, -ECANCELED);

  /* table full: a chain is taken whole or not at all */
  for (int i = 0; i < 8; i++) s[i] = t_sqe(ARIO_OP_TIMEOUT, -1, 100 + (uint64_t)i), s[i].off = 1000000000;
  CHECK_EQ(ario_submit(l, s, 6), 6);
  s[0].flags = ARIO_SQE_LINK; s[1].flags = ARIO_SQE_LINK; s[2].flags = 0;
  CHECK_EQ(ario_submit(l, s, 3), 0); /* 3 do not fit in 2 */
  CHECK_EQ(ario_submit(l, s + 1, 2), 2);
  CHECK_EQ(ario_inflight(l), 8);

  /* parameters */
  ario_params bad = {.entries = 0};
  CHECK_EQ(ario_mem_size(&bad), 0);
  CHECK_EQ(ario_init(t_mem, sizeof t_mem, &bad), -EINVAL);
  ario_params big = {.entries = 70000};
  CHECK_EQ(ario_init(t_mem + 16, 100, &big), -EINVAL);
  ario_params small = {.entries = 4};
  CHECK_EQ(ario_init(t_mem, 64, &small), -ENOMEM);
  CHECK_EQ(ario_init(t_mem + 8, sizeof t_mem - 8, &small), -EINVAL); /* misaligned */
  CHECK_EQ(ario_submit(0, s, 1), -EINVAL);
  return T_EXIT_PASS;
}
