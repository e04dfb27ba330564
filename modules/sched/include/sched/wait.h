/* Wait queues: sleep until a condition holds. The waker changes the state
 * first, then calls wake_up_*(); the condition is rechecked after every wakeup. */
#ifndef SCHED_WAIT_H
#define SCHED_WAIT_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/spinlock.h>
#include <lib/list.h>
#include <time/clock.h>

struct thread;

struct wait_queue {
	spinlock_t lock;
	struct list waiters;
};

struct waiter {
	struct list node;
	struct thread *thread;
	bool queued;
};

#define WAIT_QUEUE_INIT(name) { SPINLOCK_INIT, LIST_INIT((name).waiters) }

void wait_queue_init(struct wait_queue *wq);
/* Wake the first waiter / every waiter. Safe from interrupt context. */
void wake_up_one(struct wait_queue *wq);
void wake_up_all(struct wait_queue *wq);
bool wait_queue_empty(struct wait_queue *wq);

/* Building blocks of the wait_event macros. */
void wait_prepare(struct wait_queue *wq, struct waiter *w);
void wait_finish(struct wait_queue *wq, struct waiter *w);
/* Block; returns false when the absolute deadline (0 = none) passed. */
bool wait_block(uint64_t deadline_ns);

/* Sleep until cond is true. */
#define wait_event(wq, cond)                           \
	do {                                           \
		struct waiter __w = { .queued = false }; \
		for (;;) {                             \
			wait_prepare((wq), &__w);      \
			if (cond)                      \
				break;                 \
			wait_block(0);                 \
		}                                      \
		wait_finish((wq), &__w);               \
	} while (0)

/* Sleep until cond is true or timeout_ns passed; evaluates to true when cond held. */
#define wait_event_timeout(wq, cond, timeout_ns)                                  \
	({                                                                        \
		struct waiter __w = { .queued = false };                          \
		uint64_t __deadline = clock_monotonic_ns() + (timeout_ns);        \
		bool __ok;                                                        \
		for (;;) {                                                        \
			wait_prepare((wq), &__w);                                 \
			if ((__ok = (cond)))                                      \
				break;                                            \
			if (!wait_block(__deadline) && !(__ok = (cond)))          \
				break;                                            \
		}                                                                 \
		wait_finish((wq), &__w);                                          \
		__ok;                                                             \
	})

#endif
