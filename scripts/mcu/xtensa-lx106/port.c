/* lx106 port: console and exit through the Xtensa ISS "simcall" semihosting
 * that QEMU implements with -semihosting (target/xtensa/xtensa-semi.c):
 * a2 = call number (1 = exit, 4 = write), a3.. = arguments, result in a2. */
#include "mcu_port.h"

static long simcall3(long nr, long a, long b, long c) {
  register long a2 __asm__("a2") = nr;
  register long a3 __asm__("a3") = a;
  register long a4 __asm__("a4") = b;
  register long a5 __asm__("a5") = c;
  __asm__ volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
  return a2;
}

void mcu_port_init(void) {}

void mcu_write(const char *buf, size_t len) {
  while (len) {
    long n = simcall3(4 /* SYS_write */, 1 /* stdout */, (long)buf, (long)len);
    if (n <= 0) break;
    buf += n;
    len -= (size_t)n;
  }
}

void mcu_port_exit(int code) {
  simcall3(1 /* SYS_exit */, code, 0, 0);
  for (;;) {
  }
}

/* CCOUNT: the core's cycle counter (32 bit), extended to 64 bits here. */
uint64_t mcu_ticks(void) {
  static uint32_t last, high;
  uint32_t now;
  __asm__ volatile("rsr %0, ccount" : "=r"(now));
  if (now < last) high++;
  last = now;
  return ((uint64_t)high << 32) | now;
}
/* Nominal ESP8266 CPU clock; QEMU's CCOUNT rate is its own configured clock. */
uint32_t mcu_ticks_hz(void) { return 80000000u; }

MCU_NORETURN void mcu_xtensa_exception(uint32_t cause, uint32_t epc1, uint32_t vaddr);
void mcu_xtensa_exception(uint32_t cause, uint32_t epc1, uint32_t vaddr) {
  mcu_printf("EXCEPTION exccause=%u epc1=%x excvaddr=%x\n", (unsigned)cause, (unsigned)epc1,
             (unsigned)vaddr);
  mcu_exit(3);
}
