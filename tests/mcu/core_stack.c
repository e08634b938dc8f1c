/* Measured stack of the core's entry points (stack painting), absolute:
 * the bytes used below main's stack pointer by the call, the harness's
 * backend (tests/mcu/bare/pipe_dev.c) included (mcu_test.h: main paints
 * and scans inline, so there is no floor). Prints "stack <entry point>
 * <bytes>" lines, which docs/firmware.md quotes, and fails above
 * STACK_LIMIT (3 KiB).
 * mcu: src tests/mcu/bare/pipe_dev.c
 * mcu: cflags -Icsrc -Icsrc/test -Itests/mcu/bare -Wextra -Werror */
#include "test.h"

#define STACK_LIMIT 3072
static uintptr_t sp0; /* main's stack pointer */
#define begin() mcu_stack_paint_below(sp0)
#define end(what) report(what, mcu_stack_depth_below(sp0))
static size_t report(const char *what, size_t used) {
  mcu_printf("stack %s %zu\n", what, used);
  CHECK(used <= STACK_LIMIT);
  return used;
}

int main(void) {
  sp0 = mcu_sp();
  ario_params p = {.entries = T_ENTRIES};
  ario_sqe s[T_ENTRIES];
  ario_cqe c[T_ENTRIES];
  int32_t fd[2];
  char buf[16];

  begin();
  CHECK_EQ(ario_init(t_mem, sizeof t_mem, &p), 0);
  end("ario_init");
  ario_loop *l = (ario_loop *)(void *)t_mem;
  CHECK_EQ(ario_pipe(fd), 0);

  /* submit: a 16-op soft chain of NOPs runs to the end inside submit */
  for (int i = 0; i < T_ENTRIES; i++) {
    s[i] = t_sqe(ARIO_OP_NOP, -1, (uint64_t)i);
    s[i].flags = i + 1 < T_ENTRIES ? ARIO_SQE_LINK : 0;
  }
  begin();
  CHECK_EQ(ario_submit(l, s, T_ENTRIES), T_ENTRIES);
  end("ario_submit(16-op chain)");
  begin();
  CHECK_EQ(ario_reap(l, c, T_ENTRIES, 0), T_ENTRIES);
  end("ario_reap(16 ready)");

  /* reap: a READ at the head of a chain of 8 (READ, LINK_TIMEOUT) pairs;
   * the data arrives, each read completes, cancels its timer, starts the next */
  for (int i = 0; i < T_ENTRIES; i += 2) {
    s[i] = t_sqe(ARIO_OP_READ, fd[0], (uint64_t)i);
    s[i].addr = t_addr(buf); s[i].len = 1; s[i].off = ARIO_OFF_CURRENT; s[i].flags = ARIO_SQE_LINK;
    s[i + 1] = t_sqe(ARIO_OP_LINK_TIMEOUT, -1, (uint64_t)i + 1);
    s[i + 1].off = 1000000000; s[i + 1].flags = i + 2 < T_ENTRIES ? ARIO_SQE_LINK : 0;
  }
  begin();
  CHECK_EQ(ario_submit(l, s, T_ENTRIES), T_ENTRIES);
  end("ario_submit(read+link-timeout chain)");
  CHECK_EQ(pipe_dev_write(fd[1], "abcdefgh", 8), 8);
  int got = 0;
  size_t worst = 0;
  while (got < T_ENTRIES) {
    begin();
    int n = ario_reap(l, c + got, (uint32_t)(T_ENTRIES - got), 100000000);
    size_t u = mcu_stack_depth_below(sp0);
    if (u > worst) worst = u;
    CHECK(n >= 0);
    got += n;
  }
  mcu_printf("stack %s %zu\n", "ario_reap(io completes a chain)", worst);
  CHECK(worst <= STACK_LIMIT);
  for (int i = 0; i < T_ENTRIES; i++) CHECK_EQ(c[i].res, (i & 1) ? -ECANCELED : 1);

  /* reap: 16 timers expire in one reap */
  for (int i = 0; i < T_ENTRIES; i++) {
    s[i] = t_sqe(ARIO_OP_TIMEOUT, -1, (uint64_t)i);
    s[i].off = (uint64_t)(T_ENTRIES - i) * 1000;
  }
  CHECK_EQ(ario_submit(l, s, T_ENTRIES), T_ENTRIES);
  pipe_dev_advance(1000000);
  begin();
  CHECK_EQ(ario_reap(l, c, T_ENTRIES, 0), T_ENTRIES);
  end("ario_reap(16 timers)");

  /* cancel-all of 15 waiting ops */
  for (int i = 0; i < T_ENTRIES - 1; i++) {
    s[i] = t_sqe(ARIO_OP_POLL, fd[0], (uint64_t)i);
    s[i].op_flags = ARIO_POLL_PRI;
  }
  s[T_ENTRIES - 1] = t_sqe(ARIO_OP_CANCEL, -1, 99);
  s[T_ENTRIES - 1].op_flags = ARIO_CANCEL_ANY | ARIO_CANCEL_ALL;
  begin();
  CHECK_EQ(ario_submit(l, s, T_ENTRIES), T_ENTRIES);
  end("ario_submit(cancel all)");
  CHECK_EQ(ario_reap(l, c, T_ENTRIES, 0), T_ENTRIES);
  CHECK_EQ(t_res_of(c, T_ENTRIES, 99), T_ENTRIES - 1);

  begin();
  CHECK_EQ(ario_mem_size(&p), ario_mem_size(&p));
  end("ario_mem_size");
  begin();
  ario_deinit(l);
  end("ario_deinit");
  return T_EXIT_PASS;
}
