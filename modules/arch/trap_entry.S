/* Interrupt/exception entry: one 16-byte stub per vector pushes a dummy error
 * code (when the CPU does not) and the vector, then trap_common saves the
 * general registers as struct trap_frame and calls trap_dispatch(). */
#include <arch/gdt.h>
#include <arch/trap_frame.h>

/* Vectors where the CPU pushes an error code. */
#define HAS_ERR(n) ((n) == 8 || ((n) >= 10 && (n) <= 14) || (n) == 17 || (n) == 21 || (n) == 29 || (n) == 30)

	.text
	.balign 16
	.globl trap_stubs
trap_stubs:
	vec = 0
	.rept 256
	.balign 16
	.if HAS_ERR(vec) == 0
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	vec = vec + 1
	.endr

trap_common:
	/* From ring 3: switch GS to the kernel's per-CPU base. */
	testb $3, 24(%rsp)
	jz 1f
	swapgs
1:	SAVE_GPRS
	cld
	movq %rsp, %rdi
	/* Fake call frame so backtraces continue into the interrupted code. */
	pushq 17 * 8(%rsp)              /* interrupted rip */
	pushq %rbp
	movq %rsp, %rbp
	call trap_dispatch
	addq $16, %rsp
	.globl trap_return
trap_return:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	testb $3, 24(%rsp)
	jz 2f
	swapgs
2:	addq $16, %rsp                  /* vector, error code */
	iretq

	.section .note.GNU-stack, "", @progbits
