/* x87/SSE/AVX state of application threads. The scheduler saves and
 * restores a thread's fpu_state (XSAVE, or FXSAVE without it) on every
 * switch; these helpers give the signal code a synchronous view of it and
 * lay it out in signal frames as Linux does. */
#include "internal.h"
#include <arch/context.h>
#include <mm/kmalloc.h>
#include <sched/thread.h>
#include <uaccess/uaccess.h>

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
	__builtin_memcpy(out, t->fpu_state, arch_fpu_state_size());
	irq_restore(f);
}

void fpu_load(struct uthread *ut, const struct fpu_state *in)
{
	struct thread *t = ut->kt;
	uint64_t f = irq_save();
	__builtin_memcpy(t->fpu_state, in, arch_fpu_state_size());
	if (t == thread_current())
		arch_fpu_restore(t->fpu_state);
	irq_restore(f);
}

#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u

/* struct _fpx_sw_bytes, in the FXSAVE area's software-reserved bytes 464..511. */
struct fpx_sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size, padding[7];
};

bool fpu_xstate(void)
{
	return arch_xcr0 != 0;
}

size_t fpu_frame_size(void)
{
	return arch_xcr0 ? arch_xstate_size + 4 : 512;
}

void fpu_frame_prepare(struct fpu_state *s)
{
	if (!arch_xcr0)
		return;
	struct fpx_sw_bytes sw = { FP_XSTATE_MAGIC1, arch_xstate_size + 4, arch_xcr0, arch_xstate_size, { 0 } };
	__builtin_memcpy(s->fx + 464, &sw, sizeof(sw));
	uint32_t m2 = FP_XSTATE_MAGIC2;
	__builtin_memcpy(s->fx + arch_xstate_size, &m2, 4);
}

int fpu_frame_read(struct fpu_state *s, uint64_t uaddr)
{
	if (copy_from_user(s, (const void *)uaddr, 512))
		return -EFAULT;
	if (!arch_xcr0)
		return 0;
	struct fpx_sw_bytes sw;
	__builtin_memcpy(&sw, s->fx + 464, sizeof(sw));
	bool xs = sw.magic1 == FP_XSTATE_MAGIC1 && sw.xstate_size == arch_xstate_size &&
		  sw.extended_size == arch_xstate_size + 4;
	if (xs) {
		uint32_t m2;
		if (copy_from_user(s->fx + 512, (const void *)(uaddr + 512), arch_xstate_size + 4 - 512))
			return -EFAULT;
		__builtin_memcpy(&m2, s->fx + arch_xstate_size, 4);
		xs = m2 == FP_XSTATE_MAGIC2;
	}
	/* Without the markers only the legacy area counts (as Linux treats it). */
	arch_fpu_sanitize(s, !xs);
	return 0;
}
