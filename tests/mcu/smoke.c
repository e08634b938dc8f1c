/* mcu: no-core
 * Harness smoke test: exercises what the ario core needs from the compiler
 * runtime and the tiny libc (64-bit math and division, memcpy/memset/memmove,
 * struct copy, static arrays, loops), plus the test API itself. */
#include <string.h>
#include "mcu_test.h"

struct item {
  uint64_t user_data;
  int32_t res;
  uint32_t flags;
  uint8_t pad[12];
};

static struct item ring[16];          /* .bss */
static uint32_t primes[8] = {2, 3, 5, 7, 11, 13, 17, 19}; /* .data */
static const char greeting[] = "hello from the MCU harness"; /* .rodata */

__attribute__((noinline)) static uint64_t mix(uint64_t a, uint64_t b) {
  return a * 6364136223846793005ull + b;
}

__attribute__((noinline)) static uint32_t deep(uint32_t n) {
  volatile uint8_t scratch[64];
  for (unsigned i = 0; i < sizeof scratch; i++) scratch[i] = (uint8_t)(n + i);
  return n == 0 ? scratch[3] : deep(n - 1) + scratch[n % sizeof scratch];
}

int main(void) {
  mcu_puts(greeting);
  mcu_printf("target=%s stack=%u bytes\n", MCU_TARGET, (unsigned)mcu_stack_size());

  /* static arrays and loops */
  uint32_t sum = 0;
  for (unsigned i = 0; i < sizeof primes / sizeof primes[0]; i++) sum += primes[i];
  CHECK_EQ(sum, 77);
  for (unsigned i = 0; i < 16; i++) CHECK(ring[i].user_data == 0 && ring[i].res == 0);

  /* 64-bit arithmetic, division and modulo (libgcc / compiler_rt helpers) */
  volatile uint64_t big = 0x123456789abcdef0ull;
  volatile uint64_t div = 1000000007ull;
  CHECK(big / div == 1311768458ull);
  CHECK(big % div == 281411114ull);
  volatile int64_t neg = -9000000000000000000ll;
  CHECK(neg / 7 == -1285714285714285714ll);
  CHECK(neg % 7 == -2);
  CHECK(mix(1, 2) == 6364136223846793007ull);
  volatile uint64_t m1 = 0xfedcba9876543210ull, m2 = 0x0123456789abcdefull;
  CHECK(m1 * m2 == 0x2236d88fe5618cf0ull); /* __muldi3 on lx106 */
  CHECK(((uint64_t)1 << 40) >> 39 == 2);
  volatile uint32_t a32 = 4000000000u, b32 = 7;
  CHECK(a32 / b32 == 571428571u && a32 % b32 == 3);
  volatile int32_t n32 = -100;
  CHECK(n32 / 7 == -14);
  mcu_printf("u64=%llu i64=%lld hex=%x neg=%d\n", (unsigned long long)big,
             (long long)neg, 0xbeefu, -42);

  /* memset / memcpy / memmove / memcmp and struct copy */
  struct item x;
  memset(&x, 0, sizeof x);
  x.user_data = 0xfeedfacecafebeefull;
  x.res = -125;
  x.flags = 2;
  for (unsigned i = 0; i < 16; i++) ring[i] = x;  /* struct copy */
  ring[3].res = 7;
  struct item y;
  memcpy(&y, &ring[5], sizeof y);
  CHECK(memcmp(&x, &y, sizeof x) == 0);
  CHECK(memcmp(&ring[3], &ring[4], sizeof x) != 0);
  char buf[16];
  memcpy(buf, "abcdefghij", 11);
  memmove(buf + 2, buf, 8);
  CHECK(memcmp(buf, "ababcdefgh", 10) == 0);
  memmove(buf, buf + 2, 8);
  CHECK(memcmp(buf, "abcdefgh", 8) == 0);
  CHECK(strlen(greeting) == 26);

  /* stack painting: measured depth of a recursive call */
  mcu_stack_repaint();
  size_t base = mcu_stack_used();
  uint32_t r = deep(8);
  size_t used = mcu_stack_used();
  CHECK(used > base + 8 * 64);
  mcu_printf("deep(8)=%u stack: base=%zu after=%zu (+%zu bytes)\n", (unsigned)r, base, used,
             used - base);

  /* ticks are monotonic */
  uint64_t t0 = mcu_ticks();
  for (volatile int i = 0; i < 1000; i++) {
  }
  uint64_t t1 = mcu_ticks();
  CHECK(t1 >= t0);
  mcu_printf("ticks: %llu -> %llu @ %u Hz\n", (unsigned long long)t0, (unsigned long long)t1,
             (unsigned)mcu_ticks_hz());
  mcu_puts("smoke: ok");
  return 0;
}
