/* Vector table and reset code for the Cortex-M4 test image: enable the FPU
 * (hard-float ABI), paint the stack, clear .bss, run mcu_start_c. */
    .syntax unified
    .thumb

    .section .vectors, "a"
    .align 2
    .global __vectors
__vectors:
    .word __stack_top
    .word Reset_Handler
    .word mcu_fault_nmi        /* NMI */
    .word mcu_fault_hard       /* HardFault */
    .word mcu_fault_hard       /* MemManage */
    .word mcu_fault_hard       /* BusFault */
    .word mcu_fault_hard       /* UsageFault */
    .word 0, 0, 0, 0
    .word mcu_fault_hard       /* SVCall */
    .word mcu_fault_hard       /* DebugMon */
    .word 0
    .word mcu_fault_hard       /* PendSV */
    .word mcu_systick_handler  /* SysTick */

    .section .text.Reset_Handler, "ax"
    .align 2
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
    ldr     r0, =__stack_top
    mov     sp, r0
    /* CPACR: full access to CP10/CP11 (FPU) */
    ldr     r0, =0xE000ED88
    ldr     r1, [r0]
    orr     r1, r1, #(0xF << 20)
    str     r1, [r0]
    dsb
    isb
    ldr     r0, =__stack_limit
    ldr     r1, =__stack_top
    ldr     r2, =0xA5A5A5A5
1:  cmp     r0, r1              /* paint [__stack_limit, __stack_top) */
    bhs     2f
    str     r2, [r0], #4
    b       1b
2:  ldr     r0, =__bss_start
    ldr     r1, =__bss_end
    movs    r2, #0
3:  cmp     r0, r1
    bhs     4f
    str     r2, [r0], #4
    b       3b
4:  bl      mcu_start_c
5:  b       5b
    .pool
    .size Reset_Handler, . - Reset_Handler
