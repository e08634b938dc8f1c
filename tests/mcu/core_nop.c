/* Port of csrc/test/nop.c. NOP batches: user_data comes back, one
 * completion each, slots recycle; the table is full until reaped.
 * mcu: src scripts/mcu/bare/pipe_dev.c
 * mcu: cflags -Icsrc -Iscripts/mcu/bare -Wextra -Werror */
#include "core_test.h"

int main(void) {
  ario_loop *l = test_loop(TEST_ENTRIES);
  ario_sqe s[TEST_ENTRIES];
  ario_cqe c[TEST_ENTRIES];
  for (int round = 0; round < 100; round++) {
    for (int i = 0; i < TEST_ENTRIES; i++) s[i] = sqe(ARIO_OP_NOP, -1, (uint64_t)round * 1000 + i);
    CHECK_EQ(ario_submit(l, s, TEST_ENTRIES), TEST_ENTRIES);
    CHECK_EQ(ario_inflight(l), TEST_ENTRIES);
    CHECK_EQ(ario_submit(l, s, 1), 0); /* full until reaped */
    CHECK_EQ(ario_reap(l, c, TEST_ENTRIES, 0), TEST_ENTRIES);
    for (int i = 0; i < TEST_ENTRIES; i++) {
      CHECK_EQ(c[i].user_data, (uint64_t)round * 1000 + i);
      CHECK_EQ(c[i].res, 0);
    }
    CHECK_EQ(ario_inflight(l), 0);
  }
  CHECK_EQ(ario_reap(l, c, TEST_ENTRIES, 0), 0);
  /* 64-bit user_data round-trips whole on a 32-bit core */
  s[0] = sqe(ARIO_OP_NOP, -1, 0xFEDCBA9876543210ull);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(ario_reap(l, c, 1, 0), 1);
  CHECK(c[0].user_data == 0xFEDCBA9876543210ull);
  CHECK_EQ(ario_backend(l), ARIO_BACKEND_SELECT);
  /* the static bound holds and is tight on 32-bit */
  ario_params p = {.entries = TEST_ENTRIES};
  mcu_printf("ario_mem_size(16) = %zu, ARIO_MEM_SIZE(16) = %zu\n", ario_mem_size(&p),
             (size_t)ARIO_MEM_SIZE(TEST_ENTRIES));
  CHECK(ario_mem_size(&p) <= ARIO_MEM_SIZE(TEST_ENTRIES));
  for (uint32_t n = 1; n <= 128; n++) {
    ario_params q = {.entries = n};
    CHECK(ario_mem_size(&q) > 0);
  }
  ario_params big = {.entries = 129};
  CHECK_EQ(ario_mem_size(&big), 0); /* compact tables: 128 entries at most */
  ario_deinit(l);
  return 0;
}
