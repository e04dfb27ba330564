/* SMP self-tests: they pass on one CPU too, and are run on 2 and 4 by
 * tests/kernel-boot (where cross-CPU races are real under TCG). */
#include <selftest/selftest.h>
#include <arch/smp.h>
#include <arch/spinlock.h>
#include <lib/string.h>
#include <mm/page.h>
#include <mm/vm.h>
#include <mm/vmap.h>
#include <sched/mutex.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <time/clock.h>

SELFTEST(cpus, "smp.cpus")
{
	unsigned n = cpu_count();
	ST_ASSERT(n >= 1 && n <= MAX_CPUS);
	ST_EXPECT_EQ(cpu_percpu(0), &percpus[0]);
	for (unsigned i = 0; i < n; i++) {
		struct percpu *p = cpu_percpu(i);
		ST_ASSERT(p != NULL);
		ST_EXPECT_EQ(p->cpu_id, i);
		ST_EXPECT(p->self == p);
		for (unsigned j = 0; j < i; j++)
			ST_EXPECT(cpu_percpu(j)->apic_id != p->apic_id);
	}
	ST_EXPECT(!cpu_online(n));
	ST_EXPECT(cpu_percpu(n) == NULL);
}

static void record_cpu(void *arg)
{
	((volatile unsigned *)arg)[this_cpu_id()] = this_cpu_id() + 1;
}

SELFTEST(call_function, "smp.call_function")
{
	static volatile unsigned seen[MAX_CPUS];
	memset((void *)seen, 0, sizeof(seen));
	for (unsigned c = 0; c < cpu_count(); c++)
		ST_EXPECT_EQ(smp_call_function(c, record_cpu, (void *)seen, true), 0);
	for (unsigned c = 0; c < cpu_count(); c++)
		ST_EXPECT_EQ(seen[c], c + 1);
	ST_EXPECT(smp_call_function(cpu_count(), record_cpu, (void *)seen, true) < 0);
}

/* One pinned thread per CPU: each must run where it was put. */
struct pinned {
	unsigned want, got;
	struct thread *t;
};

static void pinned_fn(void *arg)
{
	struct pinned *p = arg;
	thread_yield();
	p->got = this_cpu_id();
}

SELFTEST(affinity, "smp.affinity")
{
	static struct pinned p[MAX_CPUS];
	unsigned n = cpu_count();
	uint64_t saved = thread_current()->affinity;
	for (unsigned c = 0; c < n; c++) {
		/* The child inherits the creator's set: set ours, create, restore. */
		thread_set_affinity(thread_current(), 1ull << c);
		ST_EXPECT_EQ(this_cpu_id(), c);
		p[c] = (struct pinned){ .want = c, .got = ~0u };
		p[c].t = thread_create("st-pinned", pinned_fn, &p[c]);
		ST_ASSERT(p[c].t != NULL);
	}
	thread_set_affinity(thread_current(), saved);
	for (unsigned c = 0; c < n; c++) {
		thread_join(p[c].t);
		ST_EXPECT_EQ(p[c].got, c);
	}
}

/* CPU-bound threads, one per CPU, unpinned: placement spreads them, and
 * they count concurrently into one atomic counter and one spinlock-protected
 * counter. */
static volatile bool go, halt;
static volatile uint64_t atomic_count;
static uint64_t locked_count;
static spinlock_t count_lock = SPINLOCK_INIT;
static volatile uint64_t cpus_seen;

static void busy_fn(void *arg)
{
	(void)arg;
	while (!go)
		cpu_relax();
	while (!halt) {
		__atomic_fetch_or(&cpus_seen, 1ull << this_cpu_id(), __ATOMIC_RELAXED);
		for (int i = 0; i < 100; i++) {
			__atomic_fetch_add(&atomic_count, 1, __ATOMIC_RELAXED);
			uint64_t f = spin_lock_irqsave(&count_lock);
			locked_count++;
			spin_unlock_irqrestore(&count_lock, f);
		}
	}
}

SELFTEST(threads_everywhere, "smp.threads_everywhere")
{
	struct thread *t[MAX_CPUS];
	unsigned n = cpu_count();
	go = halt = false;
	atomic_count = locked_count = cpus_seen = 0;
	for (unsigned i = 0; i < n; i++) {
		t[i] = thread_create("st-busy", busy_fn, NULL);
		ST_ASSERT(t[i] != NULL);
	}
	go = true;
	/* Until each CPU ran one (a busy host may not run a vCPU for a while). */
	uint64_t all = n >= 64 ? ~0ull : (1ull << n) - 1, deadline = clock_monotonic_ns() + 10 * NSEC_PER_SEC;
	thread_sleep_ns(50 * NSEC_PER_MSEC);
	while (cpus_seen != all && clock_monotonic_ns() < deadline)
		thread_sleep_ns(10 * NSEC_PER_MSEC);
	halt = true;
	for (unsigned i = 0; i < n; i++)
		thread_join(t[i]);
	ST_EXPECT_EQ(atomic_count, locked_count);
	ST_EXPECT(atomic_count > 0);
	/* Every CPU ran one of them. */
	ST_EXPECT_EQ(cpus_seen, all);
}

/* Ping-pong through wait queues between threads on different CPUs. */
#define ROUNDS 2000
static struct wait_queue ping_wq = WAIT_QUEUE_INIT(ping_wq);
static volatile int turn;
static volatile unsigned wrong_cpu;

static void ponger(void *arg)
{
	unsigned home = (unsigned)(uintptr_t)arg;
	for (int i = 0; i < ROUNDS; i++) {
		wait_event(&ping_wq, turn == 1);
		if (this_cpu_id() != home)
			wrong_cpu++;
		turn = 0;
		wake_up_all(&ping_wq);
	}
}

SELFTEST(cross_wake, "smp.cross_wake")
{
	unsigned n = cpu_count();
	unsigned me = n > 1 ? 0 : 0, other = n > 1 ? 1 : 0;
	uint64_t saved = thread_current()->affinity;
	turn = 0;
	wrong_cpu = 0;
	thread_set_affinity(thread_current(), 1ull << other);
	struct thread *p = thread_create("st-pong", ponger, (void *)(uintptr_t)other);
	thread_set_affinity(thread_current(), 1ull << me);
	ST_ASSERT(p != NULL);
	for (int i = 0; i < ROUNDS; i++) {
		turn = 1;
		wake_up_all(&ping_wq);
		wait_event(&ping_wq, turn == 0);
	}
	thread_join(p);
	thread_set_affinity(thread_current(), saved);
	ST_EXPECT_EQ(wrong_cpu, 0);
}

/* Mutex and semaphore contention from every CPU. */
static struct mutex m = MUTEX_INIT(m);
static volatile int in_cs, violations;
static int m_counter;

static void mutex_fn(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		mutex_lock(&m);
		if (__atomic_fetch_add(&in_cs, 1, __ATOMIC_SEQ_CST))
			violations++;
		m_counter++;
		__atomic_fetch_sub(&in_cs, 1, __ATOMIC_SEQ_CST);
		mutex_unlock(&m);
	}
}

SELFTEST(mutex, "smp.mutex")
{
	struct thread *t[2 * MAX_CPUS];
	unsigned n = 2 * cpu_count();
	m_counter = violations = in_cs = 0;
	for (unsigned i = 0; i < n; i++) {
		t[i] = thread_create("st-smp-mutex", mutex_fn, NULL);
		ST_ASSERT(t[i] != NULL);
	}
	for (unsigned i = 0; i < n; i++)
		thread_join(t[i]);
	ST_EXPECT_EQ(violations, 0);
	ST_EXPECT_EQ(m_counter, (int)n * 2000);
}

/* TLB shootdown: another CPU reads a kernel mapping (caching it), we point
 * the address at a different page, and it must see the new page at once. */
static volatile uintptr_t tlb_va;
static volatile int tlb_phase;
static volatile uint64_t tlb_read[2];

static void tlb_reader(void *arg)
{
	(void)arg;
	tlb_read[0] = *(volatile uint64_t *)tlb_va;
	tlb_phase = 1;
	while (tlb_phase != 2)
		cpu_relax();
	tlb_read[1] = *(volatile uint64_t *)tlb_va;
	tlb_phase = 3;
}

SELFTEST(tlb_shootdown, "smp.tlb_shootdown")
{
	uint64_t *a = page_alloc(0, PAGE_ZERO), *b = page_alloc(0, PAGE_ZERO);
	ST_ASSERT(a && b);
	a[0] = 0xaaaa;
	b[0] = 0xbbbb;
	void *va = memremap(virt_to_phys(a), 4096);
	ST_ASSERT(va != NULL);
	tlb_va = (uintptr_t)va;
	tlb_phase = 0;
	unsigned other = cpu_count() > 1 ? 1 : 0;
	uint64_t saved = thread_current()->affinity;
	thread_set_affinity(thread_current(), 1ull << other);
	struct thread *r = thread_create("st-tlb", tlb_reader, NULL);
	thread_set_affinity(thread_current(), cpu_count() > 1 ? 1ull : 0);
	ST_ASSERT(r != NULL);
	while (tlb_phase != 1)
		thread_yield();
	ST_EXPECT_EQ(vm_map(vm_kernel_root(), tlb_va, virt_to_phys(b), 4096, VM_WRITE | VM_GLOBAL), 0);
	tlb_phase = 2;
	thread_join(r);
	thread_set_affinity(thread_current(), saved);
	ST_EXPECT_EQ(tlb_read[0], 0xaaaa);
	ST_EXPECT_EQ(tlb_read[1], 0xbbbb);
	iounmap(va, 4096);
	page_free(a, 0);
	page_free(b, 0);
}
