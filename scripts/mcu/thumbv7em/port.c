/* Cortex-M port for QEMU mps2-an386 with Arm semihosting
 * (-semihosting-config enable=on,target=native): console through SYS_WRITE0,
 * exit through SYS_EXIT (status 0) or SYS_EXIT_EXTENDED (other status), time
 * from SysTick (24-bit, core clock, wraps counted in its interrupt). */
#include "mcu_port.h"

#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_Stopped_ApplicationExit 0x20026

static int semihost(int op, const void *arg) {
  register int r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYSTICK_RELOAD 0x00FFFFFFu

static volatile uint32_t systick_wraps;

void mcu_systick_handler(void);
void mcu_systick_handler(void) { systick_wraps++; }

void mcu_port_init(void) {
  SYST_RVR = SYSTICK_RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 7; /* enable, interrupt, processor clock */
}

void mcu_write(const char *buf, size_t len) {
  char chunk[65];
  while (len) {
    size_t n = len < 64 ? len : 64;
    for (size_t i = 0; i < n; i++) chunk[i] = buf[i] ? buf[i] : ' ';
    chunk[n] = 0;
    semihost(SYS_WRITE0, chunk);
    buf += n;
    len -= n;
  }
}

void mcu_port_exit(int code) {
  if (code == 0) {
    semihost(SYS_EXIT, (const void *)ADP_Stopped_ApplicationExit);
  } else {
    uint32_t block[2] = {ADP_Stopped_ApplicationExit, (uint32_t)code};
    semihost(SYS_EXIT_EXTENDED, block);
    semihost(SYS_EXIT, (const void *)0x20023 /* ADP_Stopped_RunTimeErrorUnknown */);
  }
  for (;;) {
  }
}

uint64_t mcu_ticks(void) {
  uint32_t w1, w2, cv;
  do {
    w1 = systick_wraps;
    cv = SYST_CVR;
    w2 = systick_wraps;
  } while (w1 != w2);
  return (uint64_t)w1 * (SYSTICK_RELOAD + 1u) + (SYSTICK_RELOAD - cv);
}
/* mps2-an386 core clock (SYSCLK) */
uint32_t mcu_ticks_hz(void) { return 25000000u; }

void mcu_fault_hard(void);
void mcu_fault_hard(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  mcu_printf("FAULT exception=%u CFSR=%x HFSR=%x\n", (unsigned)(ipsr & 0x1FF),
             (unsigned)*(volatile uint32_t *)0xE000ED28u,
             (unsigned)*(volatile uint32_t *)0xE000ED2Cu);
  mcu_exit(3);
}
void mcu_fault_nmi(void);
void mcu_fault_nmi(void) { mcu_fault_hard(); }
