/* Timer queues: one deadline-sorted list per CPU; each CPU's local APIC
 * timer is programmed for the earliest deadline of its own queue (tickless).
 * A timer fires on the CPU that armed it last. */
#include "time_internal.h"
#include <time/timer.h>
#include <time/clock.h>
#include <irq/irq.h>
#include <arch/smp.h>
#include <arch/spinlock.h>
#include <lib/panic.h>

struct timer_base {
	spinlock_t lock;
	struct list queue;
	struct timer *volatile running; /* whose callback runs now */
};

static struct timer_base bases[MAX_CPUS];
static uint64_t interrupts;
static int timer_vector;

void apic_timer_set_vector(int v);

static struct timer_base *this_base(void)
{
	return &bases[this_cpu_id()];
}

/* Program this CPU's timer. base locked, on its own CPU. */
static void reprogram(struct timer_base *b)
{
	if (list_empty(&b->queue))
		return;
	struct timer *first = list_first_entry(&b->queue, struct timer, node);
	uint64_t now = clock_monotonic_ns();
	apic_timer_program(first->deadline > now ? first->deadline - now : 0);
}

void timer_init(struct timer *t, void (*fn)(struct timer *t), void *data)
{
	list_init(&t->node);
	t->fn = fn;
	t->data = data;
	t->armed = false;
	t->deadline = 0;
	t->base = NULL;
}

/* Lock the base t is queued on (it may move while we wait); NULL if none. */
static struct timer_base *lock_base(struct timer *t)
{
	for (;;) {
		struct timer_base *b = READ_ONCE(t->base);
		if (!b)
			return NULL;
		spin_lock(&b->lock);
		if (READ_ONCE(t->base) == b)
			return b;
		spin_unlock(&b->lock);
	}
}

/* Take t off its queue. When its callback is running on another CPU, wait
 * for it to return: afterwards the owner may free t and what fn uses. */
static bool detach(struct timer *t)
{
	struct timer_base *b = lock_base(t);
	if (!b)
		return false;
	bool was = t->armed;
	if (was) {
		list_remove(&t->node);
		t->armed = false;
	}
	t->base = NULL;
	spin_unlock(&b->lock);
	if (b != this_base())
		while (b->running == t) {
			cpu_relax();
			smp_poll();
		}
	return was;
}

void timer_arm(struct timer *t, uint64_t deadline)
{
	uint64_t f = irq_save();
	struct timer_base *b = this_base();
	detach(t);
	spin_lock(&b->lock);
	t->deadline = deadline;
	t->armed = true;
	t->base = b;
	struct list *pos;
	list_for_each(pos, &b->queue)
		if (list_entry(pos, struct timer, node)->deadline > deadline)
			break;
	list_insert_before(pos, &t->node);
	if (b->queue.next == &t->node)
		reprogram(b);
	spin_unlock(&b->lock);
	irq_restore(f);
}

bool timer_cancel(struct timer *t)
{
	uint64_t f = irq_save();
	bool was = detach(t);
	irq_restore(f);
	return was;
}

uint64_t timer_interrupts(void)
{
	return interrupts;
}

static void expire(void *arg)
{
	(void)arg;
	struct timer_base *b = this_base();

	__atomic_fetch_add(&interrupts, 1, __ATOMIC_RELAXED);
	spin_lock(&b->lock);
	for (;;) {
		if (list_empty(&b->queue))
			break;
		struct timer *t = list_first_entry(&b->queue, struct timer, node);
		if (t->deadline > clock_monotonic_ns())
			break;
		list_remove(&t->node);
		t->armed = false;
		b->running = t;
		/* Callbacks may re-arm timers (including this one): drop the lock. */
		spin_unlock(&b->lock);
		t->fn(t);
		spin_lock(&b->lock);
		b->running = NULL;
	}
	reprogram(b);
	spin_unlock(&b->lock);
}

void apic_timer_init(void)
{
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		spin_init(&bases[c].lock);
		list_init(&bases[c].queue);
	}
	timer_vector = irq_alloc_vector(expire, NULL);
	if (timer_vector < 0)
		panic("time: no vector for the APIC timer");
	apic_timer_set_vector(timer_vector);
}

/* An application processor: the same vector and the boot CPU's measured
 * rates, on its own local APIC timer. */
void timer_cpu_init(void)
{
	apic_timer_set_vector(timer_vector);
}
