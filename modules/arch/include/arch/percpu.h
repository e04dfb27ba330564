/* Per-CPU data, reached through GS base in kernel mode. Only the boot CPU exists
 * today; the layout is ready for more (SMP is a later issue). */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

#define PERCPU_SELF 0
#define PERCPU_SCRATCH_RSP 8   /* syscall entry: user rsp saved here */
#define PERCPU_KERNEL_RSP 16   /* syscall entry: kernel stack top */

#ifndef __ASSEMBLY__
#include <stdint.h>
#include <stdbool.h>

#define MAX_CPUS 1

struct percpu {
	struct percpu *self;
	uint64_t scratch_rsp;
	uint64_t kernel_rsp;
	unsigned cpu_id;
	unsigned apic_id;
	int preempt_count;     /* >0: the scheduler must not switch away */
	int irq_depth;         /* nesting of interrupt handlers */
	bool need_resched;
	void *current;         /* struct thread *, owned by sched */
	void *sched;           /* per-CPU scheduler state, owned by sched */
};

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ __volatile__("mov %%gs:0, %0" : "=r"(p));
	return p;
}

extern struct percpu percpu_boot;

#endif
#endif
