#ifndef TIME_INTERNAL_H
#define TIME_INTERNAL_H

#include <stdint.h>
#include <stdbool.h>

/* kvmclock.c (CONFIG_KVMCLOCK) registers itself as a clock source. */
#include <time/clocksource.h>

extern uint64_t tsc_hz;
extern uint64_t apic_timer_hz;

/* Measure the TSC and APIC timer rates against the PIT for about ms ms.
 * Returns 0, -1 without a PIT, -2 when no measurement was usable. */
int pit_calibrate(unsigned ms, uint64_t *tsc_hz, uint64_t *apic_hz);
void apic_timer_start_count(void);
uint32_t apic_timer_elapsed(void); /* stops the count */
uint32_t apic_timer_current(void);
void apic_timer_init(void);
void apic_timer_program(uint64_t delta_ns);
void rtc_init(void);
uint64_t rtc_boot_epoch_ns(void);

#endif
