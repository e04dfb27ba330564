/* Clocks. The monotonic clock counts nanoseconds since boot, from kvmclock
 * when the hypervisor offers it, else the TSC calibrated at boot. */
#ifndef TIME_CLOCK_H
#define TIME_CLOCK_H

#include <stdint.h>
#include <stdbool.h>

#define NSEC_PER_USEC 1000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_SEC 1000000000ull

/* Calibrate, pick the clock source, set up the timer interrupt. */
void time_init(void);

uint64_t clock_monotonic_ns(void);
/* Wall-clock time (ns since 1970), from the RTC at boot plus the monotonic clock;
 * 0-based when the platform has no RTC. */
uint64_t clock_realtime_ns(void);
/* Busy-wait; for drivers that need short hardware delays. */
void clock_delay_us(uint64_t us);

/* For clocks read in user mode (the vDSO): when the monotonic clock is the
 * TSC, ns = (rdtsc() - *base) * *mult >> 32, exactly as clock_monotonic_ns
 * computes it, and true; false for another source (kvmclock). */
bool clock_tsc_params(uint64_t *base, uint64_t *mult);
/* Realtime minus monotonic (fixed after boot: there is no settimeofday). */
uint64_t clock_realtime_offset_ns(void);

const char *clock_source_name(void);  /* "tsc" or "kvmclock" */
uint64_t clock_tsc_hz(void);          /* calibrated TSC frequency */
uint64_t clock_timer_hz(void);        /* APIC timer input frequency (after its divider) */
const char *clock_calibration_source(void);  /* "pit", "cpuid", "kvmclock" */

/* The 8254 PIT as an independent reference (tests, diagnostics): busy-waits
 * about ms milliseconds (<= 40) and reports the time that passed according to
 * the PIT and according to the monotonic clock. Returns 0, or -1 without a PIT
 * or when the wait was interrupted for too long to measure. */
int pit_compare(unsigned ms, uint64_t *pit_ns, uint64_t *clock_ns);

#endif
