/* Clock sources other modules provide (kvmclock, Hyper-V's reference TSC
 * page...): time_init() takes the first whose probe() succeeds, in priority
 * order, as the monotonic clock, and asks it for the TSC rate. */
#ifndef TIME_CLOCKSOURCE_H
#define TIME_CLOCKSOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <lib/ktable.h>

struct clock_source {
	const char *name;
	uint64_t (*read_ns)(void); /* raw ns, any origin */
	bool (*probe)(void);       /* usable on this machine? (runs once, before timers) */
	uint64_t (*tsc_hz)(void);  /* the TSC rate it states, 0 if none (may be NULL) */
};

/* prio: 1..8, lower is tried first. */
#define CLOCK_SOURCE(ident, prio) KTABLE_ENTRY(struct clock_source, clocksource, prio, __clocksource_##ident)

#endif
