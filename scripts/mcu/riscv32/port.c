/* RV32 port for QEMU `virt`: console on the NS16550 UART at 0x10000000,
 * exit through the SiFive test device at 0x100000 (0x5555 = pass,
 * (code << 16) | 0x3333 = fail with that exit status), time from the
 * CLINT's mtime (10 MHz) at 0x0200BFF8. */
#include "mcu_port.h"

#define UART0 ((volatile uint8_t *)0x10000000u)
#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define SIFIVE_TEST (*(volatile uint32_t *)0x00100000u)
#define CLINT_MTIME_LO (*(volatile uint32_t *)0x0200BFF8u)
#define CLINT_MTIME_HI (*(volatile uint32_t *)0x0200BFFCu)

void mcu_port_init(void) {}

void mcu_write(const char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    while (!(UART0[UART_LSR] & UART_LSR_THRE)) {
    }
    UART0[UART_THR] = (uint8_t)buf[i];
  }
}

void mcu_port_exit(int code) {
  SIFIVE_TEST = code == 0 ? 0x5555u : (((uint32_t)code & 0xFFFFu) << 16) | 0x3333u;
  for (;;) {
  }
}

uint64_t mcu_ticks(void) {
  uint32_t hi, lo;
  do {
    hi = CLINT_MTIME_HI;
    lo = CLINT_MTIME_LO;
  } while (hi != CLINT_MTIME_HI);
  return ((uint64_t)hi << 32) | lo;
}
uint32_t mcu_ticks_hz(void) { return 10000000u; }

MCU_NORETURN void mcu_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval);
void mcu_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval) {
  mcu_printf("TRAP mcause=%x mepc=%x mtval=%x\n", (unsigned)mcause, (unsigned)mepc,
             (unsigned)mtval);
  mcu_exit(3);
}
