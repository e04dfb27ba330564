/* One-shot timers on the monotonic clock, driven by the local APIC timer in
 * one-shot mode (no periodic tick: an idle kernel takes no interrupts).
 * Callbacks run in interrupt context with interrupts disabled, and must not
 * block. Each CPU has its own queue and timer; a timer fires on the CPU that
 * armed it. */
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
	void *base;                  /* the CPU queue it is on (timer.c) */
};

void timer_init(struct timer *t, void (*fn)(struct timer *t), void *data);
/* (Re)arm for an absolute monotonic deadline; a past deadline fires at once. */
void timer_arm(struct timer *t, uint64_t deadline_ns);
/* Returns true when the timer was pending (and now will not fire). */
bool timer_cancel(struct timer *t);

/* Start this CPU's timer (application processors; the boot CPU's is set up
 * by time_init). */
void timer_cpu_init(void);

/* Number of timer interrupts taken on all CPUs (tests, diagnostics). */
uint64_t timer_interrupts(void);

#endif
