/* `syscall` entry. The CPU leaves the user rip in rcx and rflags in r11, and
 * masks IF/DF/TF/AC (MSR_FMASK). We switch to the thread's kernel stack, save
 * a struct trap_frame exactly as the interrupt path does, run the system call
 * with interrupts on, and leave through arch's trap_return (iretq), which
 * also serves frames changed by signal delivery and rt_sigreturn. */
#include <arch/gdt.h>
#include <arch/percpu.h>

	.text
	.globl linux_syscall_entry
linux_syscall_entry:
	swapgs
	movq %rsp, %gs:PERCPU_SCRATCH_RSP
	movq %gs:PERCPU_KERNEL_RSP, %rsp
	pushq $USER_DS                  /* ss */
	pushq %gs:PERCPU_SCRATCH_RSP    /* rsp */
	pushq %r11                      /* rflags */
	pushq $USER_CS                  /* cs */
	pushq %rcx                      /* rip */
	pushq $0                        /* error */
	pushq $0x80                     /* vector: marks a system call frame */
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	xorl %ebp, %ebp
	movq %rsp, %rdi
	sti
	call linux_syscall_dispatch
	cli
	jmp trap_return

/* void enter_user_frame(struct trap_frame *tf): tf is at the top of this
 * thread's kernel stack; pop it into ring 3. */
	.globl enter_user_frame
enter_user_frame:
	movq %rdi, %rsp
	jmp trap_return

	.section .note.GNU-stack, "", @progbits
