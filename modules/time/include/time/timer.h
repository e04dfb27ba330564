/* One-shot timers on the monotonic clock, driven by the local APIC timer in
 * one-shot mode (no periodic tick: an idle kernel takes no interrupts).
 * Callbacks run in interrupt context with interrupts disabled, and must not
 * block. */
#ifndef TIME_TIMER_H
#define TIME_TIMER_H

#include <stdbool.h>
#include <stdint.h>
#include <lib/list.h>

struct timer {
	struct list node;
	uint64_t deadline;           /* monotonic ns */
	void (*fn)(struct timer *t);
	void *data;                  /* for the owner */
	bool armed;
};

void timer_init(struct timer *t, void (*fn)(struct timer *t), void *data);
/* (Re)arm for an absolute monotonic deadline; a past deadline fires at once. */
void timer_arm(struct timer *t, uint64_t deadline_ns);
/* Returns true when the timer was pending (and now will not fire). */
bool timer_cancel(struct timer *t);

/* Number of timer interrupts taken (tests, diagnostics). */
uint64_t timer_interrupts(void);

#endif
