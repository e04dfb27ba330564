#include <arch/context.h>
#include <lib/string.h>

void arch_thread_start(void);

uint64_t arch_context_init(uint64_t stack_top, void (*entry)(void *), void *arg)
{
	uint64_t *sp = (uint64_t *)(stack_top & ~15ul);

	/* After the six pops and ret, rsp is 16-aligned, so arch_thread_start's
	 * call gives entry the usual 16n+8 alignment. */
	*--sp = (uint64_t)arch_thread_start; /* return address */
	*--sp = 0;                         /* rbp */
	*--sp = 0;                         /* rbx */
	*--sp = (uint64_t)entry;           /* r12 */
	*--sp = (uint64_t)arg;             /* r13 */
	*--sp = 0;                         /* r14 */
	*--sp = 0;                         /* r15 */
	return (uint64_t)sp;
}

uint64_t arch_xcr0;
uint32_t arch_xstate_size;

void arch_fpu_init_state(void *state)
{
	uint8_t *s = state;

	memset(s, 0, arch_fpu_state_size());
	*(uint16_t *)(s + 0) = 0x037f;  /* FCW: all x87 exceptions masked, 64-bit precision */
	*(uint32_t *)(s + 24) = 0x1f80; /* MXCSR: all SSE exceptions masked */
	if (arch_xcr0)
		*(uint64_t *)(s + 512) = 3; /* XSTATE_BV: x87 and SSE from here, the rest in its init state */
}

void arch_fpu_sanitize(void *state, bool fxsave_only)
{
	uint8_t *s = state;
	if (!arch_xcr0)
		return;
	uint64_t *hdr = (uint64_t *)(s + 512);
	uint64_t bv = fxsave_only ? 3 : hdr[0] & arch_xcr0;
	memset(hdr, 0, 64);
	hdr[0] = bv;
	if (fxsave_only)
		memset(s + 576, 0, arch_xstate_size - 576);
}
