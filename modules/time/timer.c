/* Timer queue: a deadline-sorted list; the APIC timer is always programmed
 * for the earliest deadline (tickless). One queue today; per-CPU with SMP. */
#include "time_internal.h"
#include <time/timer.h>
#include <time/clock.h>
#include <irq/irq.h>
#include <arch/spinlock.h>
#include <lib/panic.h>

static struct list queue = LIST_INIT(queue);
static spinlock_t lock = SPINLOCK_INIT;
static uint64_t interrupts;

void apic_timer_set_vector(int v);

static void reprogram(void)
{
	if (list_empty(&queue))
		return;
	struct timer *first = list_first_entry(&queue, struct timer, node);
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
}

void timer_arm(struct timer *t, uint64_t deadline)
{
	uint64_t f = spin_lock_irqsave(&lock);
	if (t->armed)
		list_remove(&t->node);
	t->deadline = deadline;
	t->armed = true;
	struct list *pos;
	list_for_each(pos, &queue)
		if (list_entry(pos, struct timer, node)->deadline > deadline)
			break;
	list_insert_before(pos, &t->node);
	if (queue.next == &t->node)
		reprogram();
	spin_unlock_irqrestore(&lock, f);
}

bool timer_cancel(struct timer *t)
{
	uint64_t f = spin_lock_irqsave(&lock);
	bool was = t->armed;
	if (was) {
		list_remove(&t->node);
		t->armed = false;
	}
	spin_unlock_irqrestore(&lock, f);
	return was;
}

uint64_t timer_interrupts(void)
{
	return interrupts;
}

static void expire(void *arg)
{
	(void)arg;
	interrupts++;
	spin_lock(&lock);
	for (;;) {
		if (list_empty(&queue))
			break;
		struct timer *t = list_first_entry(&queue, struct timer, node);
		if (t->deadline > clock_monotonic_ns())
			break;
		list_remove(&t->node);
		t->armed = false;
		/* Callbacks may re-arm timers (including this one): drop the lock. */
		spin_unlock(&lock);
		t->fn(t);
		spin_lock(&lock);
	}
	reprogram();
	spin_unlock(&lock);
}

void apic_timer_init(void)
{
	int v = irq_alloc_vector(expire, NULL);
	if (v < 0)
		panic("time: no vector for the APIC timer");
	apic_timer_set_vector(v);
}
