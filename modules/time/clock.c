/* Calibration and the monotonic clock. The TSC and APIC timer rates come
 * from the command line (osvb run passes them under TCG), the hypervisor's
 * CPUID leaf, kvmclock, or else a short PIT measurement (CONFIG_TSC_CALIBRATE_MS);
 * see calibrate(). */
#include "time_internal.h"
#include <time/clock.h>
#include <time/timer.h>
#include <arch/cpu.h>
#include <console/printk.h>
#include <lib/ktable.h>
#include <lib/panic.h>
#include <irq/lapic.h>
#include <cmdline/cmdline.h>
#include <lib/printf.h>
#include <shutdown/shutdown.h>

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
static const char *calib = "none";

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

bool clock_tsc_params(uint64_t *base, uint64_t *mult)
{
	*base = tsc_base;
	*mult = tsc_mult;
	return !source && tsc_mult;
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

/* The TSC rate from the CPU's own leaves: 0x15 (crystal and ratio), else
 * 0x16's base frequency in MHz. A last resort: 0x16 is rounded. */
static uint64_t cpuid_tsc_hz(void)
{
	uint32_t max, a, b, c, d;

	cpuid(0, 0, &max, &b, &c, &d);
	if (max >= 0x15) {
		cpuid(0x15, 0, &a, &b, &c, &d);
		if (a && b && c)
			return (uint64_t)c * b / a;
	}
	if (max >= 0x16) {
		cpuid(0x16, 0, &a, &b, &c, &d);
		if (a & 0xffff)
			return (uint64_t)(a & 0xffff) * 1000000;
	}
	return 0;
}

/* Rates the launcher passed (osvb run learns them from an earlier boot's
 * measurement on the same host, see osvb_clock_record below). */
static bool cmdline_frequencies(void)
{
	long long tsc_khz = cmdline_get_int("tsc_khz", 0);
	long long apic_khz = cmdline_get_int("apic_timer_khz", 0);

	if (tsc_khz < 1000 || tsc_khz > 100000000)
		return false;
	tsc_hz = (uint64_t)tsc_khz * 1000;
	if (apic_khz >= 1 && apic_khz <= 100000000)
		apic_timer_hz = (uint64_t)apic_khz * 1000;
	return true;
}
CMDLINE_OPTION(tsc_khz, "tsc_khz", "the TSC rate in kHz (skips its measurement)");
CMDLINE_OPTION(apic_timer_khz, "apic_timer_khz", "the APIC timer rate at divide-by-16 in kHz");

void apic_timer_set_vector(int v);

/* The APIC timer against the TSC once the TSC rate is known: one short
 * count, no reference clock needed. */
static void apic_from_tsc(unsigned us)
{
	uint64_t t0 = rdtsc(), len = tsc_hz * us / 1000000;
	apic_timer_start_count();
	while (rdtsc() - t0 < len)
		cpu_relax();
	uint64_t t1 = rdtsc();
	uint32_t a = apic_timer_elapsed();
	apic_timer_hz = (uint64_t)a * tsc_hz / (t1 - t0);
}

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

/* Tell the host what the PIT measurement found: osvb run passes it back as
 * osvb.tsc_khz / osvb.apic_timer_khz on later boots (TCG: the guest's TSC is
 * the host's), so only the first boot on a host pays for the measurement. */
static void osvb_clock_record(void)
{
	char line[80];
	snprintf(line, sizeof(line), "osvb-clock: tsc_khz=%lu apic_timer_khz=%lu\n", (unsigned long)(tsc_hz / 1000),
		 (unsigned long)(apic_timer_hz / 1000));
	shutdown_host_record(line);
}

/* Sources in order of trust; the PIT is one fallback among several and a
 * failed measurement moves on to the next, never a panic while one is left. */
static const char *calibrate(void)
{
	uint64_t hz;

	if (cmdline_frequencies()) {
		if (!apic_timer_hz)
			apic_from_tsc(1000);
		return "osvb.tsc_khz";
	}
	if (cpuid_frequencies())
		return "cpuid";
	if (source && source->tsc_hz && (hz = source->tsc_hz()) != 0) {
		tsc_hz = hz;
		apic_from_tsc(1000);
		return source->name;
	}
	if (pit_calibrate(CONFIG_TSC_CALIBRATE_MS, &tsc_hz, &apic_timer_hz) == 0) {
		osvb_clock_record();
		return "pit";
	}
	if (!source_calibrate(CONFIG_TSC_CALIBRATE_MS, &tsc_hz, &apic_timer_hz))
		return source->name;
	if ((hz = cpuid_tsc_hz()) != 0) {
		tsc_hz = hz;
		apic_from_tsc(1000);
		return "cpuid base frequency";
	}
	panic("time: nothing to calibrate the TSC against (the PIT gave no usable measurement; no paravirtual "
	      "clock, no CPUID frequency; osvb.tsc_khz= gives the rate)");
}

void time_init(void)
{
	const struct clock_source *cs;

	ktable_foreach(cs, clocksource) {
		if (cs->probe()) {
			source = cs;
			source_base = cs->read_ns();
			break;
		}
	}
	calib = calibrate();
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
