/*
 * struct trap_frame for assembly: SAVE_GPRS pushes the general registers so
 * that, with the vector and error code below them and the CPU's own frame
 * (rip, cs, rflags, rsp, ss) below those, the stack holds a struct trap_frame.
 * <arch/trap.h> checks these offsets against the C structure.
 */
#ifndef ARCH_TRAP_FRAME_H
#define ARCH_TRAP_FRAME_H

#define TF_R11 32
#define TF_RCX 96
#define TF_VECTOR 120
#define TF_RIP 136
#define TF_RFLAGS 152

#ifdef __ASSEMBLY__
.macro SAVE_GPRS
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
.endm
#endif

#endif
