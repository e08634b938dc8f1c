/* core_test.h: shared by the MCU ports of the core tests (csrc/test/).
 * The loop is static (ARIO_LOOP_STATIC, 16 entries), the I/O comes from the
 * harness's in-memory pipes and the clock is simulated (pipe_dev.h), and the
 * errno values are Linux's (platform.h under ARIO_BARE), so the expected
 * results are the host tests' own. Each test file says:
 *   mcu: src scripts/mcu/bare/pipe_dev.c
 *   mcu: cflags -Icsrc -Iscripts/mcu/bare -Wextra -Werror */
#ifndef ARIO_CORE_TEST_H
#define ARIO_CORE_TEST_H
#include <string.h>
#include "mcu_test.h"
#include "ario.h"
#include "platform.h"
#include "pipe_dev.h"

#define TEST_ENTRIES 16
ARIO_LOOP_STATIC(test_mem, TEST_ENTRIES);

static inline ario_loop *test_loop(uint32_t entries) {
  ario_params p = {.entries = entries};
  size_t need = ario_mem_size(&p);
  CHECK(need > 0 && need <= sizeof test_mem);
  CHECK_EQ(ario_init(test_mem, sizeof test_mem, &p), 0);
  return (ario_loop *)(void *)test_mem;
}

static inline ario_sqe sqe(uint8_t op, int fd, uint64_t ud) {
  ario_sqe e;
  memset(&e, 0, sizeof e);
  e.op = op;
  e.fd = fd;
  e.user_data = ud;
  return e;
}

/* Reaps until `want` completions arrived (or 5 s of loop time passed). */
static inline int reap_n(ario_loop *l, ario_cqe *out, int want) {
  int got = 0;
  int64_t until = ario_now() + 5000000000LL;
  while (got < want && ario_now() < until) {
    int n = ario_reap(l, out + got, (uint32_t)(want - got), 100000000);
    CHECK(n >= 0);
    got += n;
  }
  return got;
}

static inline int32_t res_of(const ario_cqe *c, int n, uint64_t ud) {
  for (int i = 0; i < n; i++)
    if (c[i].user_data == ud) return c[i].res;
  mcu_printf("no completion for user_data %llu\n", (unsigned long long)ud);
  mcu_exit(1);
}

static inline uint64_t ptr(const void *p) { return (uint64_t)(uintptr_t)p; }
#endif
