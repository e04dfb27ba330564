/*
 * Round-robin scheduler. Each CPU has a run queue (struct runqueue, reached
 * through percpu->sched); only the boot CPU exists today. Preemption: when
 * other threads are ready, a slice timer is armed; on expiry need_resched is
 * set and the interrupt-exit hook switches threads. With nothing else ready no
 * timer runs at all.
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
	struct thread *idle;
	struct thread *prev;     /* the thread we just switched away from */
	struct timer slice;
};

void (*sched_switch_hook)(struct thread *prev, struct thread *next);

static struct runqueue rq0;
static struct thread idle0;
static struct list all_threads = LIST_INIT(all_threads);
static spinlock_t all_lock = SPINLOCK_INIT;
static unsigned next_id = 1, nthreads;
static uint64_t nswitches, npreempt;

static struct runqueue *this_rq(void)
{
	return this_cpu()->sched;
}

struct thread *thread_current(void)
{
	return this_cpu()->current;
}

uint64_t sched_switches(void)
{
	return nswitches;
}

uint64_t sched_preemptions(void)
{
	return npreempt;
}

unsigned sched_nr_threads(void)
{
	return nthreads;
}

void preempt_disable(void)
{
	this_cpu()->preempt_count++;
	barrier();
}

void preempt_enable(void)
{
	barrier();
	struct percpu *cpu = this_cpu();
	if (--cpu->preempt_count == 0 && cpu->need_resched && irqs_enabled())
		schedule();
}

static void enqueue(struct runqueue *rq, struct thread *t)
{
	list_push_back(&rq->ready, &t->rq_node);
	t->on_rq = true;
}

static void slice_expired(struct timer *t)
{
	(void)t;
	this_cpu()->need_resched = true;
}

/* Arm the slice timer when someone else is waiting for the CPU. rq locked. */
static void update_slice(struct runqueue *rq, struct thread *running)
{
	if (!list_empty(&rq->ready) && running != rq->idle)
		timer_arm(&rq->slice, clock_monotonic_ns() + CONFIG_SCHED_SLICE_MS * NSEC_PER_MSEC);
	else
		timer_cancel(&rq->slice);
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
	struct thread *prev = rq->prev;

	if (!prev)
		return;
	rq->prev = NULL;
	uint64_t f = spin_lock_irqsave(&all_lock);
	prev->on_cpu = false;
	bool reap = prev->state == THREAD_DEAD && prev->detached;
	spin_unlock_irqrestore(&all_lock, f);
	if (reap)
		free_thread(prev);
}

static void __schedule(bool preempt)
{
	struct percpu *cpu = this_cpu();
	struct runqueue *rq = cpu->sched;
	struct thread *prev = cpu->current, *next;

	uint64_t f = irq_save();
	spin_lock(&rq->lock);
	cpu->need_resched = false;
	if (prev != rq->idle && !prev->on_rq &&
	    (prev->state == THREAD_RUNNABLE || (preempt && prev->state == THREAD_BLOCKED)))
		enqueue(rq, prev);
	if (list_empty(&rq->ready)) {
		next = rq->idle;
	} else {
		next = list_entry(list_pop_front(&rq->ready), struct thread, rq_node);
		next->on_rq = false;
	}
	update_slice(rq, next);
	spin_unlock(&rq->lock);

	if (next != prev) {
		uint64_t now = clock_monotonic_ns();
		prev->run_ns += now - prev->switched_in_at;
		next->switched_in_at = now;
		next->nr_switches++;
		nswitches++;
		if (preempt)
			npreempt++;
		next->on_cpu = true;
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
	}
	irq_restore(f);
}

void schedule(void)
{
	struct percpu *cpu = this_cpu();
	struct thread *cur = cpu->current;

	if (cpu->preempt_count > 0 && cur->state != THREAD_RUNNABLE)
		panic("schedule: thread %s blocks with preemption disabled", cur->name);
	if (cpu->irq_depth > 0)
		panic("schedule: called from an interrupt handler");
	__schedule(false);
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
	struct runqueue *rq = this_rq();

	uint64_t f = spin_lock_irqsave(&rq->lock);
	if (t->state == THREAD_BLOCKED) {
		t->state = THREAD_RUNNABLE;
		if (!t->on_rq && t != this_cpu()->current) {
			enqueue(rq, t);
			if (this_cpu()->current == rq->idle)
				this_cpu()->need_resched = true;
			else if (!rq->slice.armed)
				update_slice(rq, this_cpu()->current);
		}
	}
	spin_unlock_irqrestore(&rq->lock, f);
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
	if (this_cpu()->preempt_count == 0)
		__schedule(false);
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
		STATIC_ASSERT(ARCH_FPU_STATE_SIZE == 512, "kmalloc(512) gives 512-byte alignment");
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
	t->state = THREAD_BLOCKED;
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
	while (READ_ONCE(t->on_cpu))
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

void sched_init(void)
{
	struct percpu *cpu = this_cpu();

	spin_init(&rq0.lock);
	list_init(&rq0.ready);
	timer_init(&rq0.slice, slice_expired, NULL);
	init_thread(&idle0, "idle");
	idle0.on_cpu = true;
	idle0.switched_in_at = clock_monotonic_ns();
	rq0.idle = &idle0;
	cpu->sched = &rq0;
	cpu->current = &idle0;
	trap_irq_exit_hook = irq_exit;
}

void sched_idle_loop(void)
{
	struct percpu *cpu = this_cpu();

	for (;;) {
		irq_disable();
		if (!cpu->need_resched && list_empty(&rq0.ready))
			sti_hlt(); /* woken by the next interrupt */
		else
			irq_enable();
		__schedule(false);
	}
}
