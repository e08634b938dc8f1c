/* mcu: no-core
 * mcu: expect-exit 1
 * Harness self-test: a failing CHECK must print file:line and stop the
 * emulator with status 1 on every target (the runner expects exactly that,
 * so a broken exit/failure path shows up as FAIL). */
#include "mcu_test.h"

int main(void) {
  mcu_puts("expect_fail: a CHECK failure follows on purpose");
  volatile int one = 1;
  CHECK_EQ(one + 1, 3);
  mcu_puts("expect_fail: not reached");
  return 0;
}
