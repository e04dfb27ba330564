/* Calibration and the monotonic clock. The TSC frequency comes from CPUID
 * when the CPU or hypervisor reports it, else from a short PIT measurement
 * (CONFIG_TSC_CALIBRATE_MS) that also calibrates the APIC timer. */
#include "time_internal.h"
#include <time/clock.h>
#include <time/timer.h>
#include <arch/cpu.h>
#include <console/printk.h>
#include <lib/ktable.h>
#include <lib/panic.h>
#include <irq/lapic.h>

#ifndef CONFIG_TSC_CALIBRATE_MS
#define CONFIG_TSC_CALIBRATE_MS 10
#endif

KTABLE_DECLARE(struct clock_source, clocksource);
KTABLE_DEFINE(struct clock_source, clocksource);

uint64_t tsc_hz;
static uint64_t tsc_mult; /* ns = ticks * mult >> 32 */
static uint64_t tsc_base;
static const struct clock_source *source;
static uint64_t source_base;
static const char *calib = "pit";

static uint64_t tsc_ns(void)
{
	return (uint64_t)(((unsigned __int128)(rdtsc() - tsc_base) * tsc_mult) >> 32);
}

uint64_t clock_monotonic_ns(void)
{
	if (source)
		return source->read_ns() - source_base;
	return tsc_ns();
}

const char *clock_source_name(void)
{
	return source ? source->name : "tsc";
}

uint64_t clock_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t clock_timer_hz(void)
{
	return apic_timer_hz;
}

const char *clock_calibration_source(void)
{
	return calib;
}

void clock_delay_us(uint64_t us)
{
	uint64_t end = clock_monotonic_ns() + us * NSEC_PER_USEC;
	while (clock_monotonic_ns() < end)
		cpu_relax();
}

/* Frequencies the platform states: CPUID 0x15 (TSC/crystal ratio) or the
 * hypervisor timing leaf 0x40000010 (KVM, VMware: TSC and bus kHz). */
static bool cpuid_frequencies(void)
{
	uint32_t a, b, c, d, max;

	if (cpu_has(CPU_HYPERVISOR)) {
		cpuid(0x40000000, 0, &max, &b, &c, &d);
		if (max >= 0x40000010) {
			cpuid(0x40000010, 0, &a, &b, &c, &d);
			if (a && b) {
				tsc_hz = (uint64_t)a * 1000;
				apic_timer_hz = (uint64_t)b * 1000 / 16;
				return true;
			}
		}
	}
	return false;
}

void apic_timer_set_vector(int v);

/* Without a PIT (Firecracker), measure against a paravirtual clock source. */
static int source_calibrate(unsigned ms, uint64_t *tsc_out, uint64_t *apic_out)
{
	if (!source)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		unsigned len = pass ? ms : 1;
		uint64_t n0 = source->read_ns(), t0 = rdtsc(), n1;
		apic_timer_start_count();
		while ((n1 = source->read_ns()) - n0 < len * NSEC_PER_MSEC)
			cpu_relax();
		uint64_t t1 = rdtsc();
		uint32_t a = apic_timer_elapsed();
		*tsc_out = (t1 - t0) * NSEC_PER_SEC / (n1 - n0); /* < 2^64 for ms <= 50 */
		*apic_out = (uint64_t)a * NSEC_PER_SEC / (n1 - n0);
	}
	return 0;
}

void time_init(void)
{
	const struct clock_source *cs;
	int r;

	ktable_foreach(cs, clocksource) {
		if (cs->probe()) {
			source = cs;
			source_base = cs->read_ns();
			break;
		}
	}
	if (cpuid_frequencies())
		calib = "cpuid";
	else if ((r = pit_calibrate(CONFIG_TSC_CALIBRATE_MS, &tsc_hz, &apic_timer_hz)) == 0)
		calib = "pit";
	else if (r == -2)
		panic("time: the host is too busy to calibrate the TSC against the PIT");
	else if (!source_calibrate(CONFIG_TSC_CALIBRATE_MS, &tsc_hz, &apic_timer_hz))
		calib = source->name;
	else
		panic("time: no PIT or paravirtual clock to calibrate the TSC and APIC timer against");
	if (tsc_hz < 1000000 || apic_timer_hz < 1000)
		panic("time: implausible calibration (TSC %lu Hz, APIC timer %lu Hz)", (unsigned long)tsc_hz,
		      (unsigned long)apic_timer_hz);
	tsc_mult = (NSEC_PER_SEC << 32) / tsc_hz;
	tsc_base = rdtsc();

	rtc_init();
	apic_timer_init();
	printk(LOG_INFO, "time: clock %s, TSC %lu.%03lu MHz, APIC timer %lu kHz (calibrated by %s)\n",
	       clock_source_name(), (unsigned long)(tsc_hz / 1000000), (unsigned long)(tsc_hz / 1000 % 1000),
	       (unsigned long)(apic_timer_hz / 1000), calib);
}
