/* Reset code for the lx106 test image (call0 ABI): set the stack pointer,
 * paint the stack, zero .bss, run mcu_start_c (main + exit). */
    .section .text._start, "ax"
    .literal_position
    .align 4
    .global _start
    .type _start, @function
_start:
    movi    a1, __stack_top
    movi    a2, __stack_limit
    movi    a4, 0xA5A5A5A5
1:  bgeu    a2, a1, 2f          /* paint [__stack_limit, __stack_top) */
    s32i    a4, a2, 0
    addi    a2, a2, 4
    j       1b
2:  movi    a2, __bss_start
    movi    a3, __bss_end
    movi    a4, 0
3:  bgeu    a2, a3, 4f
    s32i    a4, a2, 0
    addi    a2, a2, 4
    j       3b
4:  movi    a2, mcu_vectors     /* exceptions: report and exit (see below) */
    wsr     a2, vecbase
    movi    a2, 0x2F            /* PS: UM=1, EXCM=0, INTLEVEL=15 (no interrupts) */
    wsr     a2, ps
    rsync
    call0   mcu_start_c
5:  j       5b
    .size _start, . - _start

/* Exception vectors (lx106 offsets from VECBASE: debug 0x10, NMI 0x20,
 * kernel 0x30, user 0x50, double 0x70).  Every one reports EXCCAUSE/EPC1
 * and stops the emulator, so a crashing test fails at once instead of
 * hanging until the runner's timeout. */
    .section .text._vectors, "ax"
    .align 256
    .global mcu_vectors
mcu_vectors:
    .org mcu_vectors + 0x10
    j       mcu_exc_stub
    .org mcu_vectors + 0x20
    j       mcu_exc_stub
    .org mcu_vectors + 0x30
    j       mcu_exc_stub
    .org mcu_vectors + 0x50
    j       mcu_exc_stub
    .org mcu_vectors + 0x70
    j       mcu_exc_stub
    .org mcu_vectors + 0x80
    .literal_position
    .align 4
mcu_exc_stub:
    movi    a1, __stack_top
    rsr     a2, exccause
    rsr     a3, epc1
    rsr     a4, excvaddr
    call0   mcu_xtensa_exception
6:  j       6b
