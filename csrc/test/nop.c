/* NOP batches: user_data comes back, one completion each, slots recycle;
 * the table is full until reaped.
 * mcu: src tests/mcu/bare/pipe_dev.c
 * mcu: cflags -Icsrc -Icsrc/test -Itests/mcu/bare -Wextra -Werror */
#include "test.h"

int main(void) {
  ario_loop *l = t_loop(T_ENTRIES);
  ario_sqe s[T_ENTRIES];
  ario_cqe c[T_ENTRIES];
  for (int round = 0; round < 100; round++) {
    for (int i = 0; i < T_ENTRIES; i++) s[i] = t_sqe(ARIO_OP_NOP, -1, (uint64_t)round * 1000 + (uint64_t)i);
    CHECK_EQ(ario_submit(l, s, T_ENTRIES), T_ENTRIES);
    CHECK_EQ(ario_inflight(l), T_ENTRIES);
    CHECK_EQ(ario_submit(l, s, 1), 0); /* full until reaped */
    CHECK_EQ(ario_reap(l, c, T_ENTRIES, 0), T_ENTRIES);
    for (int i = 0; i < T_ENTRIES; i++) {
      CHECK_EQ(c[i].user_data, (uint64_t)round * 1000 + (uint64_t)i);
      CHECK_EQ(c[i].res, 0);
    }
    CHECK_EQ(ario_inflight(l), 0);
  }
  CHECK_EQ(ario_reap(l, c, T_ENTRIES, 0), 0);
  /* 64-bit user_data round-trips whole (on a 32-bit core too) */
  s[0] = t_sqe(ARIO_OP_NOP, -1, 0xFEDCBA9876543210ull);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(ario_reap(l, c, 1, 0), 1);
  CHECK(c[0].user_data == 0xFEDCBA9876543210ull);
#ifdef ARIO_BARE
  CHECK_EQ(ario_backend(l), ARIO_BACKEND_BARE);
  /* the static bound holds and is tight on 32-bit */
  ario_params p = {.entries = T_ENTRIES};
  mcu_printf("ario_mem_size(16) = %zu, ARIO_MEM_SIZE(16) = %zu\n", ario_mem_size(&p),
             (size_t)ARIO_MEM_SIZE(T_ENTRIES));
  CHECK(ario_mem_size(&p) <= ARIO_MEM_SIZE(T_ENTRIES));
  for (uint32_t n = 1; n <= 128; n++) {
    ario_params q = {.entries = n};
    CHECK(ario_mem_size(&q) > 0);
  }
  ario_params big = {.entries = 129};
  CHECK_EQ(ario_mem_size(&big), 0); /* compact tables: 128 entries at most */
#else
  const char *want = getenv("ARIO_BACKEND");
  int id = ario_backend(l);
  if (want && !strcmp(want, "io_uring")) CHECK_EQ(id, ARIO_BACKEND_IO_URING);
  else if (want && !strcmp(want, "epoll")) CHECK_EQ(id, ARIO_BACKEND_EPOLL);
  else if (want && !strcmp(want, "poll")) CHECK_EQ(id, ARIO_BACKEND_POLL);
  else if (want && !strcmp(want, "select")) CHECK_EQ(id, ARIO_BACKEND_SELECT);
  else if (want && !strcmp(want, "windows")) CHECK_EQ(id, ARIO_BACKEND_WINDOWS);
  else CHECK(id == ARIO_BACKEND_IO_URING || id == ARIO_BACKEND_EPOLL);
#endif
  ario_deinit(l);
  return T_EXIT_PASS;
}
