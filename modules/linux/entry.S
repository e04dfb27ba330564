/* `syscall` entry. The CPU leaves the user rip in rcx and rflags in r11, and
 * masks IF/DF/TF/AC (MSR_FMASK). We switch to the thread's kernel stack, save
 * a struct trap_frame exactly as the interrupt path does, run the system call
 * with interrupts on, and leave through arch's trap_return (iretq), which
 * also serves frames changed by signal delivery and rt_sigreturn. */
#include <arch/gdt.h>
#include <arch/percpu.h>
#include <arch/trap_frame.h>

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
	SAVE_GPRS
	cld
	xorl %ebp, %ebp
	movq %rsp, %rdi
	sti
	call linux_syscall_dispatch
	cli
	/* Fast return with sysretq when the frame is still what syscall saved
	 * (rcx = rip, r11 = rflags: not changed by signal delivery or
	 * rt_sigreturn) and rip is a canonical user address (sysretq with a
	 * non-canonical rcx would fault in ring 0 on the user stack). */
	movq TF_RIP(%rsp), %rcx
	cmpq TF_RCX(%rsp), %rcx
	jne 1f
	movq TF_RFLAGS(%rsp), %r11
	cmpq TF_R11(%rsp), %r11
	jne 1f
	movabsq $0x00007ffffffff000, %rax
	cmpq %rax, %rcx
	jae 1f
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	addq $8, %rsp                   /* r11: holds rflags for sysretq */
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	addq $8, %rsp                   /* rcx: holds rip for sysretq */
	popq %rbx
	popq %rax
	movq 40(%rsp), %rsp             /* user rsp (past vector, error, rip, cs, rflags) */
	swapgs
	sysretq
1:	jmp trap_return

/* void enter_user_frame(struct trap_frame *tf): tf is at the top of this
 * thread's kernel stack; pop it into ring 3. */
	.globl enter_user_frame
enter_user_frame:
	movq %rdi, %rsp
	jmp trap_return

	.section .note.GNU-stack, "", @progbits
