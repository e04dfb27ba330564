/* Kernel thread context switch: only callee-saved registers are switched; the
 * rest are already saved by the C calling convention or by the trap frame. */
#ifndef ARCH_CONTEXT_H
#define ARCH_CONTEXT_H

#include <stdint.h>

/* Save the current stack pointer into *save_rsp and continue on new_rsp. */
void arch_context_switch(uint64_t *save_rsp, uint64_t new_rsp);

/* Prepare a fresh stack so that the first switch to it calls entry(arg) with
 * interrupts disabled; entry must not return. Returns the initial rsp. */
uint64_t arch_context_init(uint64_t stack_top, void (*entry)(void *), void *arg);

/* FPU/SSE state of threads that run user code (the kernel itself is built
 * without SSE, so kernel-only threads need none): fxsave format. */
#define ARCH_FPU_STATE_SIZE 512
#define ARCH_FPU_STATE_ALIGN 64

static inline void arch_fpu_save(void *state)
{
	__asm__ __volatile__("fxsave64 (%0)" : : "r"(state) : "memory");
}

static inline void arch_fpu_restore(const void *state)
{
	__asm__ __volatile__("fxrstor64 (%0)" : : "r"(state) : "memory");
}

/* A clean initial state (default control words, all registers zero). */
void arch_fpu_init_state(void *state);

#endif
