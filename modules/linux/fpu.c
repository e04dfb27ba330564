/* x87/SSE state per application thread (FXSAVE format). The kernel itself
 * never uses the FPU (-mno-sse), so the registers keep the state of the last
 * user thread that ran ("owner") and are saved only when another user thread
 * takes the CPU. XSAVE/AVX is not enabled (CR4.OSXSAVE stays clear), so
 * programs see no AVX and use their SSE code paths. */
#include "internal.h"
#include <lib/string.h>

static struct uthread *owner;
static struct fpu_state initial;
static bool initial_ready;

static void fxsave(struct fpu_state *s)
{
	__asm__ __volatile__("fxsave64 %0" : "=m"(*s));
}

static void fxrstor(const struct fpu_state *s)
{
	__asm__ __volatile__("fxrstor64 %0" : : "m"(*s));
}

void fpu_init_state(struct fpu_state *s)
{
	if (!initial_ready) {
		/* A clean state: FCW 0x37f, MXCSR 0x1f80 (all exceptions masked). */
		uint64_t f = irq_save();
		struct fpu_state tmp;
		if (owner)
			fxsave(&owner->fpu);
		uint32_t mxcsr = 0x1f80;
		__asm__ __volatile__("fninit; ldmxcsr %0" : : "m"(mxcsr));
		fxsave(&tmp);
		initial = tmp;
		if (owner)
			fxrstor(&owner->fpu);
		initial_ready = true;
		irq_restore(f);
	}
	*s = initial;
}

void fpu_save(struct uthread *ut)
{
	uint64_t f = irq_save();
	if (owner == ut)
		fxsave(&ut->fpu);
	irq_restore(f);
}

void fpu_load(struct uthread *ut)
{
	uint64_t f = irq_save();
	if (owner == ut)
		fxrstor(&ut->fpu);
	irq_restore(f);
}

void fpu_forget(struct uthread *ut)
{
	uint64_t f = irq_save();
	if (owner == ut)
		owner = NULL;
	irq_restore(f);
}

void fpu_switch_to(struct uthread *ut)
{
	if (owner == ut)
		return;
	if (owner)
		fxsave(&owner->fpu);
	fxrstor(&ut->fpu);
	owner = ut;
}
