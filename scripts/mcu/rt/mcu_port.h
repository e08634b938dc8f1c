/* Per-architecture hooks implemented by scripts/mcu/<arch>/port.c. */
#ifndef ARIO_MCU_PORT_H
#define ARIO_MCU_PORT_H
#include "mcu_test.h"
void mcu_port_init(void);                     /* called before main */
MCU_NORETURN void mcu_port_exit(int code);    /* stop the emulator */
/* Provided by each linker script: the stack is [__stack_limit, __stack_top). */
extern uint32_t __stack_limit[], __stack_top[];
#define MCU_STACK_PATTERN 0xA5A5A5A5u
#endif
