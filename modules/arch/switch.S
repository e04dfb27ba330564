/* void arch_context_switch(uint64_t *save_rsp, uint64_t new_rsp) */
	.text
	.globl arch_context_switch
arch_context_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* First code a new thread runs: r12 = entry, r13 = arg (set by arch_context_init). */
	.globl arch_thread_start
arch_thread_start:
	movq %r13, %rdi
	xorl %ebp, %ebp
	call *%r12
	ud2

	.section .note.GNU-stack, "", @progbits
