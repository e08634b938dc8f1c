/* mcu_test.h — test-side API for ario's bare-metal MCU tests.
 *
 * A test is one C file in tests/mcu/ with an `int main(void)`.  It is linked
 * with the per-target startup code (scripts/mcu/<arch>/), the common runtime
 * (scripts/mcu/rt/mcu_rt.c), tiny libc shims (scripts/mcu/libc/string.c) and,
 * unless it says `mcu: no-core`, the ario core (csrc/).  main's return value
 * is the exit status: 0 = pass, anything else = fail.  The same file runs
 * unchanged under QEMU on every target (tests/mcu/run.sh).
 *
 * Nothing here allocates.  Output goes through mcu_write(): the Xtensa ISS
 * simcall (lx106), the 16550 UART of QEMU's riscv `virt` board, or Arm
 * semihosting (Cortex-M).
 *
 * Optional directives, read by the runner from the test file's text:
 *   mcu: no-core              do not compile/link csrc/ into this test
 *   mcu: src path/a.c ...     extra sources (paths relative to the repo root)
 *   mcu: cflags -DX=1 ...     extra compiler flags for this test
 *   mcu: targets a b ...      run only on these targets (others: SKIP)
 *   mcu: timeout 20           QEMU timeout in seconds (default 30)
 */
#ifndef ARIO_MCU_TEST_H
#define ARIO_MCU_TEST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MCU_NORETURN __attribute__((noreturn))
#define MCU_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MCU_NORETURN
#define MCU_PRINTF(f, a)
#endif

/* Target name as given to the runner, e.g. "riscv32-esp32c3" (set with -D). */
#ifndef MCU_TARGET
#define MCU_TARGET "unknown"
#endif

/* ---- output --------------------------------------------------------------- */
void mcu_write(const char *buf, size_t len);  /* raw bytes to the console */
void mcu_print(const char *s);                /* string, no newline */
void mcu_puts(const char *s);                 /* string + '\n' */
void mcu_putc(char c);
void mcu_print_u32(uint32_t v);
void mcu_print_i32(int32_t v);
void mcu_print_u64(uint64_t v);
void mcu_print_i64(int64_t v);
void mcu_print_hex32(uint32_t v);             /* 0x%08x */
/* Small printf: %% %c %s %d %i %u %x %X %p, length modifiers l ll z h,
 * field width and '0' flag, '-' (left align).  No floating point. */
int mcu_printf(const char *fmt, ...) MCU_PRINTF(1, 2);

/* ---- exit ----------------------------------------------------------------- */
/* Prints "mcu: exit <code>" and stops the emulator with that status. */
MCU_NORETURN void mcu_exit(int code);

/* ---- time (monotonic, may wrap only after 2^64 ticks) ---------------------- */
/* MCU_HAVE_TICKS is 1 on every supported target.  Under QEMU the rate is the
 * emulated timer's nominal rate, not a cycle-accurate count. */
#define MCU_HAVE_TICKS 1
uint64_t mcu_ticks(void);
uint32_t mcu_ticks_hz(void);

/* ---- stack high-water mark (stack painting) -------------------------------- */
/* The startup code fills the whole stack with 0xA5A5A5A5 before main.
 * mcu_stack_used() scans for the deepest overwritten word: bytes used since
 * reset (or since the last mcu_stack_repaint()).  mcu_stack_repaint() paints
 * everything below the caller's frame again, so
 *     mcu_stack_repaint(); base = mcu_stack_used(); f(); depth = mcu_stack_used() - base;
 * measures f()'s own worst stack depth (plus a few words of noise). */
size_t mcu_stack_size(void);
size_t mcu_stack_used(void);
void mcu_stack_repaint(void);

/* Absolute figures, without the floor mcu_stack_repaint() leaves (it cannot
 * paint its own and its caller's frames: 64 B and more below the caller):
 * take the measuring function's stack pointer once, sp = mcu_sp(), then
 *     mcu_stack_paint_below(sp); f(); depth = mcu_stack_depth_below(sp);
 * gives the bytes f() used below that stack pointer. Both are inline (no
 * call, so nothing below sp is touched while painting or scanning). */
extern uint32_t __stack_limit[];
#define MCU_PAINT_WORD 0xA5A5A5A5u
static inline __attribute__((always_inline)) uintptr_t mcu_sp(void) {
  uintptr_t sp;
#if defined(__xtensa__)
  __asm__ volatile("mov %0, a1" : "=r"(sp));
#elif defined(__riscv)
  __asm__ volatile("mv %0, sp" : "=r"(sp));
#elif defined(__arm__) || defined(__thumb__)
  __asm__ volatile("mov %0, sp" : "=r"(sp));
#else
  sp = (uintptr_t)__builtin_frame_address(0);
#endif
  return sp;
}
static inline __attribute__((always_inline)) void mcu_stack_paint_below(uintptr_t sp) {
  for (volatile uint32_t *p = (volatile uint32_t *)__stack_limit; (uintptr_t)(p + 1) <= sp; p++)
    *p = MCU_PAINT_WORD;
}
static inline __attribute__((always_inline)) size_t mcu_stack_depth_below(uintptr_t sp) {
  const volatile uint32_t *p = (const volatile uint32_t *)__stack_limit;
  while ((uintptr_t)(p + 1) <= sp && *p == MCU_PAINT_WORD) p++;
  return (uintptr_t)p < sp ? (size_t)(sp - (uintptr_t)p) : 0;
}

/* ---- checks ---------------------------------------------------------------- */
MCU_NORETURN void mcu_check_failed(const char *file, int line, const char *expr);
MCU_NORETURN void mcu_check_eq_failed(const char *file, int line, const char *a_expr,
                                      const char *b_expr, int64_t a, int64_t b);

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) mcu_check_failed(__FILE__, __LINE__, #cond);         \
  } while (0)

/* Compares as int64_t and prints both values on failure. */
#define CHECK_EQ(a, b)                                                \
  do {                                                                \
    int64_t mcu_a_ = (int64_t)(a), mcu_b_ = (int64_t)(b);             \
    if (mcu_a_ != mcu_b_)                                             \
      mcu_check_eq_failed(__FILE__, __LINE__, #a, #b, mcu_a_, mcu_b_); \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif /* ARIO_MCU_TEST_H */
