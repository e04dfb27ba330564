/* x87/SSE state of application threads. The scheduler saves and restores a
 * thread's fpu_state (FXSAVE format) on every switch; these helpers give the
 * signal code a synchronous view of it. XSAVE/AVX is not enabled
 * (CR4.OSXSAVE stays clear), so programs see no AVX and use SSE code paths. */
#include "internal.h"
#include <arch/context.h>
#include <mm/kmalloc.h>
#include <sched/thread.h>

int fpu_attach(struct thread *t)
{
	if (t->fpu_state)
		return 0;
	void *s = kmalloc(ARCH_FPU_STATE_SIZE);
	if (!s)
		return -ENOMEM;
	arch_fpu_init_state(s);
	uint64_t f = irq_save();
	t->fpu_state = s;
	if (t == thread_current())
		arch_fpu_restore(s);
	irq_restore(f);
	return 0;
}

void fpu_init_state(struct fpu_state *s)
{
	arch_fpu_init_state(s);
}

void fpu_save(struct uthread *ut, struct fpu_state *out)
{
	struct thread *t = ut->kt;
	uint64_t f = irq_save();
	if (t == thread_current())
		arch_fpu_save(t->fpu_state);
	__builtin_memcpy(out, t->fpu_state, sizeof(*out));
	irq_restore(f);
}

void fpu_load(struct uthread *ut, const struct fpu_state *in)
{
	struct thread *t = ut->kt;
	uint64_t f = irq_save();
	__builtin_memcpy(t->fpu_state, in, sizeof(*in));
	if (t == thread_current())
		arch_fpu_restore(t->fpu_state);
	irq_restore(f);
}
