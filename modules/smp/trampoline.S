/*
 * Application processor start-up. A SIPI starts the CPU in real mode at
 * TRAMP_PHYS; this code (copied there by ap.c) goes to protected mode, then
 * to long mode on temporary page tables that identity-map the first 2 MiB and
 * share the kernel's higher half, and calls ap_main(arg) on the AP's stack.
 * Addresses are absolute: T(x) is where label x lands in the copied page.
 */
#include <smp/trampoline.h>

#define T(x) (TRAMP_PHYS + (x) - ap_trampoline)

	.section .rodata
	.balign 16
	.globl ap_trampoline, ap_trampoline_end, ap_tramp_data

	.code16
ap_trampoline:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl T(tr_gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax                    /* PE */
	movl %eax, %cr0
	ljmpl $0x08, $T(tr_pm32)

	.code32
tr_pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $(1 << 5), %eax             /* PAE */
	movl %eax, %cr4
	movl T(tr_data), %eax           /* cr3 */
	movl %eax, %cr3
	movl $0xc0000080, %ecx          /* EFER: LME (+ NXE: the kernel's PTEs use NX) */
	rdmsr
	orl T(tr_data) + 4, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax           /* PG | WP | PE */
	movl %eax, %cr0
	ljmpl $0x18, $T(tr_lm64)

	.code64
tr_lm64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movq T(tr_data) + 8, %rsp       /* stack */
	movq T(tr_data) + 16, %rdi      /* arg */
	movq T(tr_data) + 24, %rax      /* entry */
	xorl %ebp, %ebp                 /* terminates backtraces */
	call *%rax
1:	cli
	hlt
	jmp 1b

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x08 code, 32-bit */
	.quad 0x00cf92000000ffff        /* 0x10 data */
	.quad 0x00af9a000000ffff        /* 0x18 code, 64-bit */
tr_gdt_ptr:
	.word 31
	.long T(tr_gdt)

	.balign 8
ap_tramp_data:
tr_data:
	.skip 32                        /* struct ap_tramp_data */
ap_trampoline_end:

	.section .note.GNU-stack, "", @progbits
