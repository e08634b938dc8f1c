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
  {
    const char *want = getenv("ARIO_BACKEND");
    int id = ario_backend(l);
    if (want && !strcmp(want, "io_uring")) CHECK_EQ(id, ARIO_BACKEND_IO_URING);
    else if (want && !strcmp(want, "epoll")) CHECK_EQ(id, ARIO_BACKEND_EPOLL);
    else if (want && !strcmp(want, "poll")) CHECK_EQ(id, ARIO_BACKEND_POLL);
    else if (want && !strcmp(want, "select")) CHECK_EQ(id, ARIO_BACKEND_SELECT);
    else if (want && !strcmp(want, "windows")) CHECK_EQ(id, ARIO_BACKEND_WINDOWS);
    else CHECK(id == ARIO_BACKEND_IO_URING || id == ARIO_BACKEND_EPOLL);
  }
  ario_deinit(l);
  return 0;
}
