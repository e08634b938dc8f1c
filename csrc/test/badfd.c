/* An op on a closed descriptor completes with -EBADF on every backend,
 * whatever the number (select: 256..1023 hung; FD_SETSIZE and above is
 * beyond its sets). An open descriptor the backend cannot watch fails with
 * an errno too, never hangs. */
#include "test.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/select.h>

static int32_t one(ario_loop *l, uint8_t op, int fd) {
  static char buf[8];
  ario_cqe c[2];
  ario_sqe e = t_sqe(op, fd, 7);
  if (op == ARIO_OP_READ || op == ARIO_OP_RECV) {
    e.addr = (uintptr_t)buf;
    e.len = sizeof buf;
  }
  if (op == ARIO_OP_READ) e.off = ARIO_OFF_CURRENT;
  if (op == ARIO_OP_POLL) e.op_flags = ARIO_POLL_IN;
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  int n = t_reap_n(l, c, 1);
  if (n != 1) t_fail("op %u on fd %d: no completion (hangs)\n", op, fd);
  return c[0].res;
}

int main(void) {
  ario_loop *l = t_loop(16);
  struct rlimit rl;
  CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
  if (rl.rlim_cur < 5000 && rl.rlim_max >= 5000) {
    rl.rlim_cur = 5000;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int fds[] = {100, 255, 256, 300, 700, 1023, 1024, 1500, 4000};
  const uint8_t ops[] = {ARIO_OP_READ, ARIO_OP_POLL, ARIO_OP_RECV, ARIO_OP_ACCEPT};
  for (size_t i = 0; i < sizeof fds / sizeof *fds; i++) {
    int fd = fds[i];
    CHECK(fcntl(fd, F_GETFD) < 0); /* closed */
    for (size_t k = 0; k < sizeof ops; k++) {
      int32_t r = one(l, ops[k], fd);
      if (r != -EBADF) t_fail("op %u on closed fd %d: res %d, expected -EBADF\n", ops[k], fd, r);
    }
  }
  /* open descriptors numbered high: completes (data is there) or, where the
   * backend cannot watch that number (select, FD_SETSIZE), fails at once */
  int p[2];
  CHECK(pipe(p) == 0);
  CHECK(write(p[1], "abc", 3) == 3);
  int hi[] = {300, 1023, 1024, 4000};
  for (size_t i = 0; i < sizeof hi / sizeof *hi; i++) {
    if ((rlim_t)hi[i] >= rl.rlim_cur) continue;
    CHECK_EQ(dup2(p[0], hi[i]), hi[i]);
    int32_t r = one(l, ARIO_OP_POLL, hi[i]);
    if (ario_backend(l) == ARIO_BACKEND_SELECT && hi[i] >= FD_SETSIZE)
      CHECK_EQ(r, -EMFILE);
    else
      CHECK_EQ(r, ARIO_POLL_IN);
    CHECK_EQ(ario_close(l, hi[i]), 0);
  }
  ario_deinit(l);
  return T_EXIT_PASS;
}
