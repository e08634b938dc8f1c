/* NOP batches: user_data comes back, one completion each, slots recycle. */
#include "test.h"

int main(void) {
  ario_loop *l = test_loop(64);
  ario_sqe s[64];
  ario_cqe c[64];
  for (int round = 0; round < 100; round++) {
    for (int i = 0; i < 64; i++) s[i] = sqe(ARIO_OP_NOP, -1, (uint64_t)round * 1000 + i);
    CHECK_EQ(ario_submit(l, s, 64), 64);
    CHECK_EQ(ario_inflight(l), 64);
    CHECK_EQ(ario_submit(l, s, 1), 0); /* full until reaped */
    CHECK_EQ(ario_reap(l, c, 64, 0), 64);
    for (int i = 0; i < 64; i++) {
      CHECK_EQ(c[i].user_data, (uint64_t)round * 1000 + i);
      CHECK_EQ(c[i].res, 0);
    }
    CHECK_EQ(ario_inflight(l), 0);
  }
  CHECK_EQ(ario_reap(l, c, 64, 0), 0);
  CHECK(ario_backend(l) == ARIO_BACKEND_EPOLL || ario_backend(l) == ARIO_BACKEND_POLL);
  ario_deinit(l);
  return 0;
}
