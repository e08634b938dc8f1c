/* Target-independent part of the MCU test runtime (see tests/mcu/mcu_test.h). */
#include <stdarg.h>
#include "mcu_port.h"

int main(void);

/* Called by every startup file after .bss is zeroed and the stack painted. */
MCU_NORETURN void mcu_start_c(void);
void mcu_start_c(void) {
  mcu_port_init();
  mcu_exit(main());
}

static size_t slen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

void mcu_print(const char *s) { mcu_write(s, slen(s)); }
void mcu_putc(char c) { mcu_write(&c, 1); }
void mcu_puts(const char *s) {
  mcu_print(s);
  mcu_putc('\n');
}

/* Formats v in base 10/16 into the end of buf; returns the first digit. */
static char *fmt_u64(char *end, uint64_t v, unsigned base, int upper) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char *p = end;
  do {
    *--p = digits[v % base];
    v /= base;
  } while (v);
  return p;
}

void mcu_print_u64(uint64_t v) {
  char buf[24];
  char *p = fmt_u64(buf + sizeof buf, v, 10, 0);
  mcu_write(p, (size_t)(buf + sizeof buf - p));
}
void mcu_print_i64(int64_t v) {
  if (v < 0) {
    mcu_putc('-');
    mcu_print_u64(0 - (uint64_t)v);
  } else {
    mcu_print_u64((uint64_t)v);
  }
}
void mcu_print_u32(uint32_t v) { mcu_print_u64(v); }
void mcu_print_i32(int32_t v) { mcu_print_i64(v); }
void mcu_print_hex32(uint32_t v) {
  char buf[10];
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < 8; i++) buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15u];
  mcu_write(buf, sizeof buf);
}

static void pad(char c, int n) {
  while (n-- > 0) mcu_putc(c);
}

int mcu_printf(const char *fmt, ...) {
  va_list ap;
  int count = 0;
  va_start(ap, fmt);
  while (*fmt) {
    const char *run = fmt;
    while (*fmt && *fmt != '%') fmt++;
    if (fmt != run) {
      mcu_write(run, (size_t)(fmt - run));
      count += (int)(fmt - run);
    }
    if (!*fmt) break;
    fmt++; /* '%' */
    int left = 0, zero = 0, width = 0, lng = 0, size = 0;
    for (;; fmt++) {
      if (*fmt == '-') left = 1;
      else if (*fmt == '0') zero = 1;
      else break;
    }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    for (;; fmt++) {
      if (*fmt == 'l') lng++;
      else if (*fmt == 'z') size = 1;
      else if (*fmt == 'h') { /* promoted to int anyway */ }
      else break;
    }
    char conv = *fmt ? *fmt++ : 0;
    char buf[24];
    char *end = buf + sizeof buf, *p = end;
    int neg = 0;
    const char *str = 0;
    switch (conv) {
      case '%': buf[0] = '%'; str = buf; p = buf + 1; break;
      case 'c': buf[0] = (char)va_arg(ap, int); str = buf; p = buf + 1; break;
      case 's':
        str = va_arg(ap, const char *);
        if (!str) str = "(null)";
        p = (char *)str + slen(str);
        break;
      case 'd': case 'i': {
        int64_t v = lng >= 2 ? va_arg(ap, long long)
                  : lng == 1 ? va_arg(ap, long)
                  : size ? (int64_t)va_arg(ap, ptrdiff_t) : va_arg(ap, int);
        uint64_t u = (uint64_t)v;
        if (v < 0) { neg = 1; u = 0 - u; }
        str = fmt_u64(end, u, 10, 0);
        p = end;
        break;
      }
      case 'u': case 'x': case 'X': case 'p': {
        uint64_t u;
        if (conv == 'p') u = (uintptr_t)va_arg(ap, void *);
        else if (lng >= 2) u = va_arg(ap, unsigned long long);
        else if (lng == 1) u = va_arg(ap, unsigned long);
        else if (size) u = va_arg(ap, size_t);
        else u = va_arg(ap, unsigned);
        str = fmt_u64(end, u, conv == 'u' ? 10 : 16, conv == 'X');
        p = end;
        if (conv == 'p') { mcu_write("0x", 2); count += 2; }
        break;
      }
      default: /* unknown conversion: print it literally */
        buf[0] = '%'; buf[1] = conv; str = buf; p = buf + (conv ? 2 : 1); break;
    }
    int len = (int)(p - str) + neg;
    if (!left) {
      if (zero && neg) { mcu_putc('-'); neg = 0; }
      pad(zero ? '0' : ' ', width - len);
    }
    if (neg) mcu_putc('-');
    mcu_write(str, (size_t)(p - str));
    if (left) pad(' ', width - len);
    count += len > width ? len : width;
  }
  va_end(ap);
  return count;
}

void mcu_exit(int code) {
  mcu_print("mcu: exit ");
  mcu_print_i32(code);
  mcu_putc('\n');
  mcu_port_exit(code);
}

void mcu_check_failed(const char *file, int line, const char *expr) {
  mcu_printf("CHECK failed: %s:%d: %s\n", file, line, expr);
  mcu_exit(1);
}

void mcu_check_eq_failed(const char *file, int line, const char *a_expr, const char *b_expr,
                         int64_t a, int64_t b) {
  mcu_printf("CHECK_EQ failed: %s:%d: %s == %s (%lld vs %lld)\n", file, line, a_expr, b_expr,
             (long long)a, (long long)b);
  mcu_exit(1);
}

/* ---- stack painting ---- */
size_t mcu_stack_size(void) {
  return (size_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit);
}

size_t mcu_stack_used(void) {
  const volatile uint32_t *p = (const volatile uint32_t *)__stack_limit;
  const volatile uint32_t *top = (const volatile uint32_t *)__stack_top;
  while (p < top && *p == MCU_STACK_PATTERN) p++;
  return (size_t)((uintptr_t)top - (uintptr_t)p);
}

__attribute__((noinline)) void mcu_stack_repaint(void) {
  volatile uint32_t marker = 0;
  /* Everything more than 64 bytes below this frame's locals is free. */
  uintptr_t lim = ((uintptr_t)&marker - 64u) & ~(uintptr_t)3u;
  volatile uint32_t *p = (volatile uint32_t *)__stack_limit;
  while ((uintptr_t)p < lim) *p++ = MCU_STACK_PATTERN;
  (void)marker;
}
