/* CPUs: identity, count, cross-CPU calls and TLB shootdown. Valid with one
 * CPU too (everything then stays local). Application processors are started
 * by the smp module (CONFIG_SMP) at INIT_CORE, so from INIT_SUBSYS on
 * cpu_count() is final: drivers size their per-CPU queues by it. CPU ids are
 * dense, 0 (the boot CPU) .. cpu_count() - 1. */
#ifndef ARCH_SMP_H
#define ARCH_SMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <arch/percpu.h>
#include <lib/ktable.h>

/* Number of CPUs online. */
unsigned cpu_count(void);

/* This CPU's id. Only stable while the caller cannot migrate (interrupts or
 * preemption disabled); otherwise a hint, as Linux's getcpu. */
static inline unsigned this_cpu_id(void)
{
	unsigned id;
	__asm__ __volatile__("movl %%gs:%c1, %0" : "=r"(id) : "i"(__builtin_offsetof(struct percpu, cpu_id)));
	return id;
}

bool cpu_online(unsigned cpu);
/* The per-CPU data of an online CPU (NULL otherwise). */
struct percpu *cpu_percpu(unsigned cpu);

/* Run fn(arg) on cpu, in interrupt context there (interrupts off, must not
 * block). wait: return only when it ran. On the calling CPU it runs at once.
 * Returns 0, or -EINVAL for a CPU that is not online. */
int smp_call_function(unsigned cpu, void (*fn)(void *arg), void *arg, bool wait);
/* fn(arg) on every online CPU but the caller's; waits for all. */
void smp_call_function_others(void (*fn)(void *arg), void *arg);

/* Make cpu take an interrupt soon; its scheduler's hook runs on return from
 * it (reschedule IPI). No-op for the caller's own CPU. */
void smp_send_reschedule(unsigned cpu);
/* Installed by sched: runs on the target CPU for every reschedule IPI. */
extern void (*smp_reschedule_hook)(void);

/* After changing page-table entries that any CPU may have cached (the
 * kernel's half, which every address space shares):
 * invalidate [va, va + len) on this CPU and every other online CPU, and wait
 * until they did. len == 0 or a large range flushes the whole TLB. Safe with
 * interrupts off: every spin loop services shootdown requests. */
void tlb_shootdown(uintptr_t va, size_t len);
/* The same on the CPUs in the mask only (bit n = CPU n; CPUs >= 64 always):
 * those that may hold a user address space's entries (uvm). */
void tlb_shootdown_cpus(uint64_t cpus, uintptr_t va, size_t len);

/* Serve a pending shootdown request; spin loops call it through smp_poll(). */
void tlb_service(void);
static inline void smp_poll(void)
{
	if (__builtin_expect(this_cpu()->tlb_pending, 0))
		tlb_service();
}

/* Bring-up steps of one CPU, run by every application processor as it starts
 * (in priority order), after its GDT/IDT, local APIC, timer and scheduler are
 * set up: MSRs a module programs on the boot CPU in its own init. */
struct cpu_init {
	const char *name;
	void (*fn)(void);
};
KTABLE_DECLARE(struct cpu_init, cpuinit);
#define CPU_INIT(prio, fn) KTABLE_ENTRY(struct cpu_init, cpuinit, prio, __cpuinit_##fn) = { #fn, fn }

/* For the smp module: mark the calling CPU online (its id is then counted). */
void smp_set_online(struct percpu *cpu);
/* Fixed vectors of the IPIs (above the irq module's dynamic range). */
#define IPI_RESCHEDULE 0xf0
#define IPI_CALL 0xf1
#define IPI_TLB 0xf2

#endif
