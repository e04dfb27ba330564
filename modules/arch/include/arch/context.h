/* Kernel thread context switch: only callee-saved registers are switched; the
 * rest are already saved by the C calling convention or by the trap frame. */
#ifndef ARCH_CONTEXT_H
#define ARCH_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

/* Save the current stack pointer into *save_rsp and continue on new_rsp. */
void arch_context_switch(uint64_t *save_rsp, uint64_t new_rsp);

/* Prepare a fresh stack so that the first switch to it calls entry(arg) with
 * interrupts disabled; entry must not return. Returns the initial rsp. */
uint64_t arch_context_init(uint64_t stack_top, void (*entry)(void *), void *arg);

/* FPU/SSE/AVX state of threads that run user code (the kernel itself is
 * built without SSE, so kernel-only threads need none). With XSAVE
 * (CR4.OSXSAVE, XCR0 = the user state components the CPU supports among
 * x87, SSE, AVX and AVX-512) the state is an XSAVE area in the standard
 * format, arch_fpu_state_size() bytes; without it, 512 bytes of FXSAVE.
 * Either way 64-byte aligned. */
#define ARCH_FPU_STATE_MAX 4096
#define ARCH_FPU_STATE_ALIGN 64
#define ARCH_FPU_STATE_SIZE arch_fpu_state_size()

/* Set up by arch_init: 0 when XSAVE is off. */
extern uint64_t arch_xcr0;
extern uint32_t arch_xstate_size;

static inline uint32_t arch_fpu_state_size(void)
{
	return arch_xcr0 ? arch_xstate_size : 512;
}

static inline void arch_fpu_save(void *state)
{
	if (arch_xcr0)
		__asm__ __volatile__("xsave64 (%0)" : : "r"(state), "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ __volatile__("fxsave64 (%0)" : : "r"(state) : "memory");
}

static inline void arch_fpu_restore(const void *state)
{
	if (arch_xcr0)
		__asm__ __volatile__("xrstor64 (%0)" : : "r"(state), "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ __volatile__("fxrstor64 (%0)" : : "r"(state) : "memory");
}

/* Make an XSAVE area from user memory safe for XRSTOR (which faults on a
 * bad header): XSTATE_BV within XCR0, compacted format and reserved bytes
 * cleared. fxsave_only: the area holds only the legacy 512 bytes. */
void arch_fpu_sanitize(void *state, bool fxsave_only);

/* A clean initial state (default control words, all registers zero). */
void arch_fpu_init_state(void *state);

#endif
