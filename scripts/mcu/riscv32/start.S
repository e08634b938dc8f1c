/* Reset code for the RV32 test image: gp, sp, trap vector, stack paint,
 * .bss clear, then mcu_start_c (main + exit).  Runs in M-mode. */
    .section .text._start, "ax"
    .global _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top
    la      t0, mcu_trap_entry
    csrw    mtvec, t0
    la      t0, __stack_limit
    li      t1, 0xA5A5A5A5
1:  bgeu    t0, sp, 2f          /* paint [__stack_limit, __stack_top) */
    sw      t1, 0(t0)
    addi    t0, t0, 4
    j       1b
2:  la      t0, __bss_start
    la      t1, __bss_end
3:  bgeu    t0, t1, 4f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       3b
4:  call    mcu_start_c
5:  j       5b
    .size _start, . - _start

    /* Any trap is fatal in the tests: report mcause/mepc/mtval and exit. */
    .align 4
    .global mcu_trap_entry
mcu_trap_entry:
    la      sp, __stack_top
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    call    mcu_trap
6:  j       6b
