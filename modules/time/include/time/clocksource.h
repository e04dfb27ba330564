/* Clock sources (kvmclock, Xen's pvclock): time_init probes them in priority
 * order before the PIT, uses the first that answers, and may take the TSC
 * rate it states. Probed once, before runtime disposal: a platform module's
 * source may live in its disposable sections. */
#ifndef TIME_CLOCKSOURCE_H
#define TIME_CLOCKSOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <lib/ktable.h>

struct clock_source {
	const char *name;
	uint64_t (*read_ns)(void); /* raw ns, any origin */
	bool (*probe)(void);       /* usable on this machine? */
	uint64_t (*tsc_hz)(void);  /* the TSC rate it states, 0 if none (may be NULL) */
};
KTABLE_DECLARE(struct clock_source, clocksource);

/* prio: 1..8, lower is probed first. */
#define CLOCK_SOURCE(prio, ident) KTABLE_ENTRY(struct clock_source, clocksource, prio, __clocksource_##ident)

#endif
