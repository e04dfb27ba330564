/* Per-CPU data, reached through GS base in kernel mode. One struct percpu per
 * CPU (percpus[cpu_id]); the boot CPU is percpus[0]. */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

#define PERCPU_SELF 0
#define PERCPU_SCRATCH_RSP 8   /* syscall entry: user rsp saved here */
#define PERCPU_KERNEL_RSP 16   /* syscall entry: kernel stack top */

#ifndef __ASSEMBLY__
#include <stdint.h>
#include <stdbool.h>
#include <lib/compiler.h>

#ifdef CONFIG_NR_CPUS
#define MAX_CPUS CONFIG_NR_CPUS
#else
#define MAX_CPUS 1
#endif

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

struct percpu {
	struct percpu *self;
	uint64_t scratch_rsp;
	uint64_t kernel_rsp;
	unsigned cpu_id;
	unsigned apic_id;
	int preempt_count;     /* >0: the scheduler must not switch away */
	int irq_depth;         /* nesting of interrupt handlers */
	volatile bool need_resched;
	volatile bool tlb_pending;   /* a TLB shootdown request waits (arch/smp.c) */
	volatile bool online;
	void *current;         /* struct thread *, owned by sched */
	void *sched;           /* per-CPU scheduler state, owned by sched */
	void *timers;          /* per-CPU timer queue, owned by time */
	void *mm;              /* user address space in CR3 (NULL: the kernel's), owned by uvm */
	uint64_t gdt[8] __aligned(16);
	struct tss tss __aligned(16);
};

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ __volatile__("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* One field of this CPU's data in a single instruction: safe where the caller
 * could be preempted and moved to another CPU between two instructions. */
#define this_cpu_read(field)                                                              \
	({                                                                                \
		__typeof__(((struct percpu *)0)->field) __v;                              \
		__asm__ __volatile__("mov %%gs:%c1, %0"                                   \
				     : "=r"(__v)                                          \
				     : "i"(__builtin_offsetof(struct percpu, field)));    \
		__v;                                                                      \
	})

extern struct percpu percpus[MAX_CPUS];
#define percpu_boot (percpus[0])

/* Load this CPU's GDT and TSS (IST stacks from ist_top[0..2]) and point GS
 * base at cpu. */
void gdt_init_cpu(struct percpu *cpu, const uint64_t ist_top[3]);

#endif
#endif
