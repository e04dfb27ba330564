/*
 * Round-robin scheduler with one run queue per CPU (struct runqueue, reached
 * through percpu->sched). Preemption: when other threads are ready, a slice
 * timer is armed on that CPU; on expiry need_resched is set and the
 * interrupt-exit hook switches threads. With nothing else ready no timer runs.
 *
 * Placement: a new or woken thread goes to its last CPU if that one is idle,
 * else to an idle CPU, else to the least loaded one (woken with a reschedule
 * IPI when it is not the caller's). An idle CPU takes a queued thread from a
 * busy CPU before it halts.
 *
 * Locking: a thread's state, on_rq and rq fields change under the lock of the
 * run queue it belongs to (t->rq); rq->curr is the thread that CPU runs. A
 * thread that has just been switched out may be picked by another CPU before
 * its old CPU has left its stack: on_cpu tells, and the new CPU waits.
 *
 * Blocking: a thread marks itself THREAD_BLOCKED and calls schedule(). A
 * preemption in between keeps it on the run queue (like Linux's preempted
 * tasks), so a wakeup that raced with the block is never lost.
 */
#include <sched/thread.h>
#include <sched/wait.h>
#include <arch/context.h>
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/spinlock.h>
#include <arch/trap.h>
#include <console/printk.h>
#include <lib/panic.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/vmap.h>
#include <time/clock.h>

#ifndef CONFIG_SCHED_SLICE_MS
#define CONFIG_SCHED_SLICE_MS 10
#endif

struct runqueue {
	spinlock_t lock;
	struct list ready;
	unsigned nr_ready;
	unsigned cpu;
	struct thread *idle;
	struct thread *curr;     /* what this CPU runs (changes under lock) */
	struct thread *prev;     /* the thread we just switched away from */
	struct thread *migrate;  /* prev, to be queued on another CPU (affinity) */
	struct timer slice;
};

void (*sched_switch_hook)(struct thread *prev, struct thread *next);

static struct runqueue rq0;
static struct thread idle0;
static struct runqueue *rqs[MAX_CPUS];
static struct list all_threads = LIST_INIT(all_threads);
static spinlock_t all_lock = SPINLOCK_INIT;
static unsigned next_id = 1, nthreads;
static uint64_t nswitches, npreempt, nmigrations;

static struct runqueue *this_rq(void)
{
	return this_cpu_read(sched);
}

struct thread *thread_current(void)
{
	return this_cpu_read(current);
}

uint64_t sched_switches(void)
{
	return nswitches;
}

uint64_t sched_preemptions(void)
{
	return npreempt;
}

uint64_t sched_migrations(void)
{
	return nmigrations;
}

unsigned sched_nr_threads(void)
{
	return nthreads;
}

/* One instruction each: a thread preempted in between would otherwise count
 * on the CPU it left. */
void preempt_disable(void)
{
	__asm__ __volatile__("incl %%gs:%c0" : : "i"(__builtin_offsetof(struct percpu, preempt_count)) : "memory");
}

void preempt_enable(void)
{
	__asm__ __volatile__("decl %%gs:%c0" : : "i"(__builtin_offsetof(struct percpu, preempt_count)) : "memory");
	if (this_cpu_read(preempt_count) == 0 && this_cpu_read(need_resched) && irqs_enabled())
		schedule();
}

static bool allowed(const struct thread *t, unsigned cpu)
{
	return !t->affinity || ((t->affinity >> cpu) & 1);
}

static unsigned load(const struct runqueue *rq)
{
	return READ_ONCE(rq->nr_ready) + (READ_ONCE(rq->curr) != rq->idle);
}

/* Where t should run: its last CPU if idle, else an idle CPU, else the least
 * loaded (its last one on a tie). Lock-free reads: a heuristic. */
static struct runqueue *select_rq(struct thread *t, struct runqueue *last)
{
	struct runqueue *best = NULL;
	unsigned best_load = ~0u;

	if (last && allowed(t, last->cpu) && load(last) == 0)
		return last;
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		struct runqueue *rq = READ_ONCE(rqs[c]);
		if (!rq || !allowed(t, c))
			continue;
		unsigned l = load(rq);
		if (l < best_load || (l == best_load && rq == last)) {
			best = rq;
			best_load = l;
		}
	}
	return best ? best : (last ? last : this_rq());
}

/* Lock the run queue t belongs to (it may move while we wait). */
static struct runqueue *lock_thread_rq(struct thread *t)
{
	for (;;) {
		struct runqueue *rq = READ_ONCE(t->rq);
		spin_lock(&rq->lock);
		if (READ_ONCE(t->rq) == rq)
			return rq;
		spin_unlock(&rq->lock);
	}
}

static void enqueue(struct runqueue *rq, struct thread *t)
{
	list_push_back(&rq->ready, &t->rq_node);
	t->on_rq = true;
	t->rq = rq;
	rq->nr_ready++;
}

static struct thread *dequeue_first(struct runqueue *rq)
{
	struct list *n = list_pop_front(&rq->ready);
	if (!n)
		return NULL;
	struct thread *t = list_entry(n, struct thread, rq_node);
	t->on_rq = false;
	rq->nr_ready--;
	return t;
}

static void slice_expired(struct timer *t)
{
	(void)t;
	this_cpu()->need_resched = true;
}

/* Arm the slice timer when someone else is waiting for the CPU. rq locked,
 * on rq's own CPU (timers fire where they were armed). */
static void update_slice(struct runqueue *rq, struct thread *running)
{
	if (rq->nr_ready && running != rq->idle) {
		if (!rq->slice.armed)
			timer_arm(&rq->slice, clock_monotonic_ns() + CONFIG_SCHED_SLICE_MS * NSEC_PER_MSEC);
	} else {
		timer_cancel(&rq->slice);
	}
}

/* rq gained a ready thread: make its CPU notice. rq locked. */
static void kick_rq(struct runqueue *rq)
{
	if (rq == this_rq()) {
		if (rq->curr == rq->idle)
			this_cpu()->need_resched = true;
		else
			update_slice(rq, rq->curr);
	} else if (rq->curr == rq->idle || !rq->slice.armed) {
		smp_send_reschedule(rq->cpu);
	}
}

/* The reschedule IPI's work on the receiving CPU. */
static void resched_ipi(void)
{
	struct runqueue *rq = this_rq();

	spin_lock(&rq->lock);
	if (rq->nr_ready) {
		if (rq->curr == rq->idle)
			this_cpu()->need_resched = true;
		else
			update_slice(rq, rq->curr);
	}
	spin_unlock(&rq->lock);
}

static void free_thread(struct thread *t)
{
	uint64_t f = spin_lock_irqsave(&all_lock);
	list_remove(&t->all_node);
	nthreads--;
	spin_unlock_irqrestore(&all_lock, f);
	kstack_free(t->stack);
	kfree(t->fpu_state);
	kfree(t);
}

/* Runs on the new thread's stack right after every switch. A dead detached
 * thread is freed here, now that nothing runs on its stack; on_cpu and
 * detached are read and written under all_lock so that exactly one of this
 * and thread_detach() frees it. */
static void finish_switch(void)
{
	struct runqueue *rq = this_rq();
	struct thread *prev = rq->prev, *mig = rq->migrate;

	if (!prev)
		return;
	rq->prev = NULL;
	rq->migrate = NULL;
	uint64_t f = spin_lock_irqsave(&all_lock);
	__atomic_store_n(&prev->on_cpu, false, __ATOMIC_RELEASE);
	bool reap = prev->state == THREAD_DEAD && prev->detached;
	spin_unlock_irqrestore(&all_lock, f);
	if (mig) {
		struct runqueue *to = select_rq(mig, NULL);
		f = spin_lock_irqsave(&to->lock);
		enqueue(to, mig);
		kick_rq(to);
		spin_unlock_irqrestore(&to->lock, f);
		__atomic_fetch_add(&nmigrations, 1, __ATOMIC_RELAXED);
	}
	if (reap)
		free_thread(prev);
}

static void __schedule(bool preempt)
{
	uint64_t f = irq_save();
	struct percpu *cpu = this_cpu();
	struct runqueue *rq = cpu->sched;
	struct thread *prev = cpu->current, *next;

	spin_lock(&rq->lock);
	cpu->need_resched = false;
	if (prev != rq->idle && !prev->on_rq &&
	    (prev->state == THREAD_RUNNABLE || (preempt && prev->state == THREAD_BLOCKED))) {
		if (prev->state == THREAD_RUNNABLE && !allowed(prev, rq->cpu))
			rq->migrate = prev; /* queued elsewhere once we are off its stack */
		else
			enqueue(rq, prev);
	}
	next = dequeue_first(rq);
	if (!next)
		next = rq->idle;
	rq->curr = next;
	update_slice(rq, next);
	spin_unlock(&rq->lock);

	if (next != prev) {
		/* Another CPU may still be switching away from next. */
		while (__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE)) {
			cpu_relax();
			smp_poll();
		}
		uint64_t now = clock_monotonic_ns();
		prev->run_ns += now - prev->switched_in_at;
		next->switched_in_at = now;
		next->nr_switches++;
		nswitches++;
		if (preempt)
			npreempt++;
		next->on_cpu = true;
		next->cpu = rq->cpu;
		rq->prev = prev;
		cpu->current = next;
		if (next->stack) {
			/* Where ring 3 enters the kernel: interrupts (TSS) and syscall (per-CPU). */
			tss_set_rsp0((uint64_t)next->stack + KSTACK_SIZE);
			cpu->kernel_rsp = (uint64_t)next->stack + KSTACK_SIZE;
		}
		if (prev->fpu_state)
			arch_fpu_save(prev->fpu_state);
		if (next->fpu_state)
			arch_fpu_restore(next->fpu_state);
		if (sched_switch_hook)
			sched_switch_hook(prev, next);
		arch_context_switch(&prev->rsp, next->rsp);
		finish_switch();
	} else {
		rq->migrate = NULL;
	}
	irq_restore(f);
}

void schedule(void)
{
	uint64_t f = irq_save();
	struct percpu *cpu = this_cpu();
	struct thread *cur = cpu->current;

	if (cpu->preempt_count > 0 && cur->state != THREAD_RUNNABLE)
		panic("schedule: thread %s blocks with preemption disabled", cur->name);
	if (cpu->irq_depth > 0)
		panic("schedule: called from an interrupt handler");
	__schedule(false);
	irq_restore(f);
}

/* The preemption point: runs when the outermost interrupt handler returns. */
static void irq_exit(struct trap_frame *tf)
{
	struct percpu *cpu = this_cpu();

	if (cpu->need_resched && cpu->preempt_count == 0 && (tf->rflags & RFLAGS_IF))
		__schedule(true);
}

void thread_wake(struct thread *t)
{
	uint64_t f = irq_save();
	struct runqueue *rq = lock_thread_rq(t);

	if (t->state != THREAD_BLOCKED) {
		spin_unlock_irqrestore(&rq->lock, f);
		return;
	}
	t->state = THREAD_RUNNABLE;
	if (t->on_rq || rq->curr == t) {
		/* Queued (preempted while blocking) or still running: it goes on. */
		spin_unlock_irqrestore(&rq->lock, f);
		return;
	}
	struct runqueue *to = select_rq(t, rq);
	if (to != rq) {
		/* Nobody else queues t meanwhile: it is RUNNABLE, so other wakers
		 * stop at the check above. */
		t->rq = to;
		spin_unlock(&rq->lock);
		spin_lock(&to->lock);
		rq = to;
		__atomic_fetch_add(&nmigrations, 1, __ATOMIC_RELAXED);
	}
	enqueue(rq, t);
	kick_rq(rq);
	spin_unlock_irqrestore(&rq->lock, f);
}

void thread_kick(struct thread *t)
{
	uint64_t f = irq_save();
	struct runqueue *rq = READ_ONCE(t->rq);
	if (rq && READ_ONCE(rq->curr) == t && rq != this_rq())
		smp_send_reschedule(rq->cpu);
	irq_restore(f);
}

unsigned thread_cpu(struct thread *t)
{
	return READ_ONCE(t->cpu);
}

void thread_set_affinity(struct thread *t, uint64_t mask)
{
	uint64_t all = 0;
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (READ_ONCE(rqs[c]))
			all |= 1ull << c;
	mask &= all;
	t->affinity = mask == all ? 0 : mask;
	if (t == thread_current() && !allowed(t, this_cpu_id()))
		thread_yield(); /* __schedule moves it */
}

void thread_block(void)
{
	uint64_t f = irq_save();
	thread_current()->state = THREAD_BLOCKED;
	schedule();
	irq_restore(f);
}

void thread_yield(void)
{
	uint64_t f = irq_save();
	if (this_cpu()->preempt_count == 0)
		__schedule(false);
	irq_restore(f);
}

static void sleep_timeout(struct timer *tm)
{
	thread_wake(tm->data);
}

void thread_sleep_until(uint64_t deadline)
{
	struct thread *t = thread_current();

	while (clock_monotonic_ns() < deadline) {
		uint64_t f = irq_save();
		t->state = THREAD_BLOCKED;
		timer_arm(&t->sleep_timer, deadline);
		schedule();
		timer_cancel(&t->sleep_timer);
		irq_restore(f);
	}
}

void thread_sleep_ns(uint64_t ns)
{
	thread_sleep_until(clock_monotonic_ns() + ns);
}

bool wait_block(uint64_t deadline)
{
	struct thread *t = thread_current();

	if (deadline) {
		if (clock_monotonic_ns() >= deadline) {
			t->state = THREAD_RUNNABLE;
			return false;
		}
		timer_arm(&t->sleep_timer, deadline);
	}
	schedule();
	if (deadline) {
		timer_cancel(&t->sleep_timer);
		return clock_monotonic_ns() < deadline;
	}
	return true;
}

static void thread_entry(void *arg)
{
	struct thread *t = arg;

	finish_switch();
	irq_enable();
	t->fn(t->arg);
	thread_exit();
}

static void init_thread(struct thread *t, const char *name)
{
	strlcpy(t->name, name, sizeof(t->name));
	timer_init(&t->sleep_timer, sleep_timeout, t);
	wait_queue_init(&t->join_wq);
	list_init(&t->rq_node);
	t->state = THREAD_RUNNABLE;
	uint64_t f = spin_lock_irqsave(&all_lock);
	t->id = next_id++;
	nthreads++;
	list_push_back(&all_threads, &t->all_node);
	spin_unlock_irqrestore(&all_lock, f);
}

struct thread *thread_create_flags(const char *name, void (*fn)(void *), void *arg, unsigned flags)
{
	struct thread *t = kzalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->stack = kstack_alloc();
	if (flags & THREAD_FPU) {
		/* kmalloc aligns to the size class: >= 512 bytes here, enough for XSAVE's 64. */
		STATIC_ASSERT(ARCH_FPU_STATE_ALIGN <= 512, "FPU state alignment");
		t->fpu_state = kmalloc(ARCH_FPU_STATE_SIZE);
		if (t->fpu_state)
			arch_fpu_init_state(t->fpu_state);
	}
	if (!t->stack || ((flags & THREAD_FPU) && !t->fpu_state)) {
		if (t->stack)
			kstack_free(t->stack);
		kfree(t->fpu_state);
		kfree(t);
		return NULL;
	}
	t->fn = fn;
	t->arg = arg;
	t->rsp = arch_context_init((uint64_t)t->stack + KSTACK_SIZE, thread_entry, t);
	init_thread(t, name);
	/* A child inherits its creator's CPU set, as on Linux. */
	t->affinity = thread_current()->affinity;
	uint64_t f = irq_save();
	struct runqueue *to = select_rq(t, NULL);
	t->rq = to;
	t->cpu = to->cpu;
	t->state = THREAD_BLOCKED;
	irq_restore(f);
	thread_wake(t);
	return t;
}

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg)
{
	return thread_create_flags(name, fn, arg, 0);
}

void thread_exit(void)
{
	struct thread *t = thread_current();

	if (t == this_rq()->idle)
		panic("the idle thread cannot exit");
	irq_disable();
	uint64_t f = spin_lock_irqsave(&all_lock);
	t->state = THREAD_DEAD;
	spin_unlock_irqrestore(&all_lock, f);
	wake_up_all(&t->join_wq);
	timer_cancel(&t->sleep_timer);
	__schedule(false);
	panic("a dead thread was scheduled");
}

void thread_join(struct thread *t)
{
	if (t == thread_current())
		panic("thread_join: %s joins itself", t->name);
	wait_event(&t->join_wq, READ_ONCE(t->state) == THREAD_DEAD);
	while (__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE))
		cpu_relax();
	free_thread(t);
}

void thread_detach(struct thread *t)
{
	uint64_t f = spin_lock_irqsave(&all_lock);
	t->detached = true;
	bool reap = t->state == THREAD_DEAD && !t->on_cpu;
	spin_unlock_irqrestore(&all_lock, f);
	if (reap)
		free_thread(t);
}

static void rq_init(struct runqueue *rq, struct thread *idle, unsigned cpu)
{
	spin_init(&rq->lock);
	list_init(&rq->ready);
	timer_init(&rq->slice, slice_expired, NULL);
	rq->cpu = cpu;
	init_thread(idle, "idle");
	idle->on_cpu = true;
	idle->switched_in_at = clock_monotonic_ns();
	idle->rq = rq;
	idle->cpu = cpu;
	rq->idle = idle;
	rq->curr = idle;
	struct percpu *p = this_cpu();
	p->sched = rq;
	p->current = idle;
	__atomic_store_n(&rqs[cpu], rq, __ATOMIC_RELEASE);
}

void sched_init(void)
{
	rq_init(&rq0, &idle0, 0);
	trap_irq_exit_hook = irq_exit;
	smp_reschedule_hook = resched_ipi;
}

void sched_init_ap(void)
{
	struct runqueue *rq = kzalloc(sizeof(*rq));
	struct thread *idle = kzalloc(sizeof(*idle));
	if (!rq || !idle)
		panic("sched: out of memory for CPU %u", this_cpu_id());
	rq_init(rq, idle, this_cpu_id());
}

/* Take one queued thread that may run here from a CPU that is busy with
 * another. Interrupts off. */
static bool steal(struct runqueue *me)
{
	for (unsigned i = 1; i < MAX_CPUS; i++) {
		struct runqueue *rq = READ_ONCE(rqs[(me->cpu + i) % MAX_CPUS]);
		if (!rq || !READ_ONCE(rq->nr_ready) || READ_ONCE(rq->curr) == rq->idle)
			continue;
		if (!spin_trylock(&rq->lock))
			continue;
		struct thread *t = NULL, *c;
		list_for_each_entry(c, &rq->ready, rq_node) {
			if (!c->on_cpu && allowed(c, me->cpu)) {
				t = c;
				break;
			}
		}
		if (t) {
			list_remove(&t->rq_node);
			t->on_rq = false;
			rq->nr_ready--;
			t->rq = me; /* RUNNABLE and off every queue: wakers leave it alone */
		}
		spin_unlock(&rq->lock);
		if (t) {
			spin_lock(&me->lock);
			enqueue(me, t);
			spin_unlock(&me->lock);
			__atomic_fetch_add(&nmigrations, 1, __ATOMIC_RELAXED);
			return true;
		}
	}
	return false;
}

void sched_idle_loop(void)
{
	struct percpu *cpu = this_cpu();
	struct runqueue *rq = cpu->sched;

	for (;;) {
		irq_disable();
		if (!cpu->need_resched && !READ_ONCE(rq->nr_ready) && !steal(rq))
			sti_hlt(); /* woken by the next interrupt (a reschedule IPI) */
		else
			irq_enable();
		__schedule(false);
	}
}
