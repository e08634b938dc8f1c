/* static_loop.c: the static memory of one loop, as firmware declares it
 * (ARIO_LOOP_STATIC). scripts/cross.ts compiles it beside the core to report
 * the reactor's RAM for ARIO_MCU_ENTRIES ops; it is not part of libario.a. */
#include "ario.h"

#ifndef ARIO_MCU_ENTRIES
#define ARIO_MCU_ENTRIES 16
#endif

#if defined(__GNUC__) || defined(__clang__)
__attribute__((aligned(16)))
#endif
unsigned char ario_mcu_loop_mem[ARIO_MEM_SIZE(ARIO_MCU_ENTRIES)];
