/* io_uring refused by seccomp (as Docker's default profile does): a default
 * loop silently runs on epoll; asking for io_uring by name reports the
 * error. The filter is the real mechanism: io_uring_setup returns EPERM. */
#include "test.h"
#if defined(__linux__)
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static void block_io_uring(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
  CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0);
}

static void works(ario_loop *l) {
  ario_cqe c[4];
  ario_sqe s[2];
  int t[2];
  char buf[8];
  t_tcp_pair(t);
  s[0] = t_sqe(ARIO_OP_SEND, t[0], 1); s[0].addr = (uintptr_t)"ping"; s[0].len = 4; s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_RECV, t[1], 2); s[1].addr = (uintptr_t)buf; s[1].len = 4; s[1].op_flags = MSG_WAITALL;
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(c[0].res, 4);
  CHECK_EQ(c[1].res, 4);
  close(t[0]);
  close(t[1]);
}

int main(void) {
  unsetenv("ARIO_BACKEND"); /* this test picks its backends itself */
  ario_loop *l = t_loop(16);
  int before = ario_backend(l);
  works(l);
  ario_deinit(l);
  if (before != ARIO_BACKEND_IO_URING) {
    fprintf(stderr, "io_uring unavailable here already (backend %d)\n", before);
    return T_EXIT_SKIP;
  }

  block_io_uring();
  CHECK_EQ(syscall(__NR_io_uring_setup, 4, 0), -1);
  CHECK_EQ(errno, EPERM);
  l = t_loop(16);
  CHECK_EQ(ario_backend(l), ARIO_BACKEND_EPOLL);
  works(l);
  ario_deinit(l);

  /* named explicitly: no fallback, the kernel's error */
  ario_params p = {.entries = 16, .backend = ARIO_BACKEND_IO_URING};
  CHECK_EQ(ario_init(t_mem, sizeof t_mem, &p), -EPERM);
  setenv("ARIO_BACKEND", "io_uring", 1);
  p.backend = 0;
  CHECK_EQ(ario_init(t_mem, sizeof t_mem, &p), -EPERM);
  return T_EXIT_PASS;
}
#else
int main(void) {
  t_printf("seccomp and io_uring are Linux's\n");
  return T_EXIT_SKIP;
}
#endif
