/* Cross-CPU services that exist whether or not application processors are
 * started: CPU identity and count, call-function and reschedule IPIs, TLB
 * shootdown. With one CPU online every request stays local. */
#include <arch/smp.h>
#include <arch/cpu.h>
#include <arch/spinlock.h>
#include <arch/trap.h>
#include <irq/lapic.h>
#include <lib/errno.h>
#include <lib/list.h>
#include <lib/panic.h>
#include <mm/kmalloc.h>

KTABLE_DEFINE(struct cpu_init, cpuinit);

static volatile unsigned nr_online = 1;
void (*smp_reschedule_hook)(void);

unsigned cpu_count(void)
{
	return nr_online;
}

bool cpu_online(unsigned cpu)
{
	return cpu < MAX_CPUS && percpus[cpu].online;
}

struct percpu *cpu_percpu(unsigned cpu)
{
	return cpu_online(cpu) ? &percpus[cpu] : NULL;
}

/* --- TLB shootdown --- */

/* Past this many pages one full flush is cheaper than invlpg per page. */
#define TLB_FULL_PAGES 32

static spinlock_t tlb_lock = SPINLOCK_INIT;
static volatile uintptr_t tlb_va;
static volatile size_t tlb_len;
static volatile unsigned tlb_acks;

static void flush_all_local(void)
{
	uint64_t cr4 = read_cr4();
	if (cr4 & CR4_PGE) {
		/* Toggling PGE drops global (kernel) entries too. */
		write_cr4(cr4 & ~CR4_PGE);
		write_cr4(cr4);
	} else {
		write_cr3(read_cr3());
	}
}

static void flush_local(uintptr_t va, size_t len)
{
	if (len == 0 || len > TLB_FULL_PAGES * 4096ul) {
		flush_all_local();
		return;
	}
	for (uintptr_t a = va & ~4095ul; a < va + len; a += 4096)
		invlpg(a);
}

void tlb_service(void)
{
	struct percpu *c = this_cpu();
	/* An IPI and a spin loop may both try: exactly one serves the request. */
	if (!__atomic_exchange_n(&c->tlb_pending, false, __ATOMIC_ACQUIRE))
		return;
	flush_local(tlb_va, tlb_len);
	__atomic_fetch_sub(&tlb_acks, 1, __ATOMIC_RELEASE);
}

void tlb_shootdown_cpus(uint64_t cpus, uintptr_t va, size_t len)
{
	uint64_t f = irq_save();
	unsigned self = this_cpu_id();
	if (self < 64 && (cpus & (1ull << self)))
		flush_local(va, len);
	if (nr_online == 1) {
		irq_restore(f);
		return;
	}
	/* Waiting for this lock serves other CPUs' requests (spin_lock polls). */
	spin_lock(&tlb_lock);
	unsigned n = 0;
	tlb_va = va;
	tlb_len = len;
	/* The page-table change is visible before any CPU reads the request. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (c != self && percpus[c].online && (c >= 64 || (cpus & (1ull << c))))
			n++;
	tlb_acks = n;
	for (unsigned c = 0; c < MAX_CPUS && n; c++) {
		if (c == self || !percpus[c].online || (c < 64 && !(cpus & (1ull << c))))
			continue;
		__atomic_store_n(&percpus[c].tlb_pending, true, __ATOMIC_RELEASE);
		lapic_send_ipi(percpus[c].apic_id, IPI_TLB);
	}
	while (__atomic_load_n(&tlb_acks, __ATOMIC_ACQUIRE))
		cpu_relax();
	spin_unlock(&tlb_lock);
	irq_restore(f);
}

void tlb_shootdown(uintptr_t va, size_t len)
{
	tlb_shootdown_cpus(~0ull, va, len);
}

static void tlb_ipi(struct trap_frame *tf)
{
	(void)tf;
	tlb_service();
	lapic_eoi();
}

/* --- call function --- */

struct call_req {
	struct list node;
	void (*fn)(void *);
	void *arg;
	bool wait;
	volatile bool done;
};

static struct {
	spinlock_t lock;
	struct list reqs;
} queues[MAX_CPUS];

static void run_calls(void)
{
	unsigned self = this_cpu_id();
	for (;;) {
		uint64_t f = spin_lock_irqsave(&queues[self].lock);
		struct list *n = list_pop_front(&queues[self].reqs);
		spin_unlock_irqrestore(&queues[self].lock, f);
		if (!n)
			return;
		struct call_req *r = list_entry(n, struct call_req, node);
		bool wait = r->wait;
		r->fn(r->arg);
		if (wait)
			__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
		else
			kfree(r);
	}
}

static void call_ipi(struct trap_frame *tf)
{
	(void)tf;
	run_calls();
	lapic_eoi();
}

int smp_call_function(unsigned cpu, void (*fn)(void *), void *arg, bool wait)
{
	if (!cpu_online(cpu))
		return -EINVAL;
	uint64_t f = irq_save();
	if (cpu == this_cpu_id()) {
		fn(arg);
		irq_restore(f);
		return 0;
	}
	struct call_req local = { .fn = fn, .arg = arg, .wait = true };
	struct call_req *r = &local;
	if (!wait) {
		r = kmalloc(sizeof(*r));
		if (!r) {
			irq_restore(f);
			return -ENOMEM;
		}
		*r = (struct call_req){ .fn = fn, .arg = arg, .wait = false };
	}
	spin_lock(&queues[cpu].lock);
	list_push_back(&queues[cpu].reqs, &r->node);
	spin_unlock(&queues[cpu].lock);
	lapic_send_ipi(percpus[cpu].apic_id, IPI_CALL);
	/* Two CPUs calling each other with interrupts off: serve ours meanwhile. */
	while (wait && !__atomic_load_n(&local.done, __ATOMIC_ACQUIRE)) {
		cpu_relax();
		smp_poll();
		run_calls();
	}
	irq_restore(f);
	return 0;
}

void smp_call_function_others(void (*fn)(void *), void *arg)
{
	unsigned self = this_cpu_id();
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (c != self && percpus[c].online)
			smp_call_function(c, fn, arg, true);
}

/* --- reschedule --- */

void smp_send_reschedule(unsigned cpu)
{
	if (cpu_online(cpu) && cpu != this_cpu_id())
		lapic_send_ipi(percpus[cpu].apic_id, IPI_RESCHEDULE);
}

static void resched_ipi(struct trap_frame *tf)
{
	(void)tf;
	if (smp_reschedule_hook)
		smp_reschedule_hook();
	lapic_eoi();
}

void smp_set_online(struct percpu *cpu)
{
	__atomic_store_n(&cpu->online, true, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&nr_online, 1, __ATOMIC_SEQ_CST);
	/* A shootdown that ran before we were online did not ask us. */
	flush_all_local();
}

void smp_arch_init(void)
{
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		spin_init(&queues[c].lock);
		list_init(&queues[c].reqs);
	}
	percpu_boot.online = true;
	trap_set_handler(IPI_RESCHEDULE, resched_ipi);
	trap_set_handler(IPI_CALL, call_ipi);
	trap_set_handler(IPI_TLB, tlb_ipi);
}
