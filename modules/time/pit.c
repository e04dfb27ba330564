/* 8254 PIT channel 0 as a fixed 1.193182 MHz reference. Channel 0 is used
 * because channel 2's gate lives in the PC speaker port (0x61), which
 * microvm does not have. Its IRQ0 stays masked. */
#include "time_internal.h"
#include <time/clock.h>
#include <arch/cpu.h>
#include <arch/io.h>

#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CMD 0x43

static bool programmed;

static uint16_t read_count(void)
{
	outb(PIT_CMD, 0x00); /* latch channel 0 */
	uint8_t lo = inb(PIT_CH0);
	return lo | (uint16_t)inb(PIT_CH0) << 8;
}

/* Mode 2 (rate generator) with the longest period, 65536 ticks (~55 ms). */
static void program(void)
{
	if (programmed)
		return;
	outb(PIT_CMD, 0x34);
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
	programmed = true;
}

/* Poll until ticks PIT ticks passed since count c0; returns the exact number
 * of ticks seen, or 0 when the PIT does not count (bounded by the TSC) or
 * when a gap between two polls was so long (the vCPU was descheduled) that
 * the 16-bit counter may have wrapped. */
static uint32_t wait_ticks(uint16_t c0, uint32_t ticks)
{
	uint64_t start = rdtsc();
	uint16_t last = c0;

	for (;;) {
		uint16_t c = read_count();
		if ((uint16_t)(last - c) > 16384)
			return 0;
		last = c;
		uint32_t elapsed = (uint16_t)(c0 - c);
		if (elapsed >= ticks)
			return elapsed;
		if (rdtsc() - start > (1ull << 33))
			return 0; /* seconds at any plausible TSC rate: no PIT */
	}
}

/* One endpoint: a PIT count bracketed by two TSC reads, the tightest of a few
 * tries. A PIT access that took long (emulation, a busy host) would otherwise
 * put an unknown delay between the count and the TSC value. */
static uint32_t sample(uint64_t *tsc, uint32_t *apic)
{
	uint64_t best = ~0ull;
	uint16_t count = 0;

	for (int i = 0; i < 5; i++) {
		uint64_t a = rdtsc();
		uint16_t c = read_count();
		uint64_t b = rdtsc();
		uint32_t ap = apic_timer_current();
		if (b - a < best) {
			best = b - a;
			count = c;
			*tsc = a + (b - a) / 2;
			*apic = ap;
		}
	}
	return count;
}

/* The same bracketing with the monotonic clock instead of the raw TSC. */
static uint16_t sample_clock(uint64_t *ns)
{
	uint64_t best = ~0ull;
	uint16_t count = 0;

	for (int i = 0; i < 5; i++) {
		uint64_t a = clock_monotonic_ns();
		uint16_t c = read_count();
		uint64_t b = clock_monotonic_ns();
		if (b - a < best) {
			best = b - a;
			count = c;
			*ns = a + (b - a) / 2;
		}
	}
	return count;
}

int pit_compare(unsigned ms, uint64_t *pit_ns, uint64_t *clock_ns)
{
	uint64_t n0, n1;

	if (ms == 0 || ms > 40)
		return -1;
	program();
	uint16_t c0 = sample_clock(&n0);
	if (!wait_ticks(c0, PIT_HZ * ms / 1000))
		return -1;
	uint16_t c1 = sample_clock(&n1);
	*pit_ns = (uint64_t)(uint16_t)(c0 - c1) * NSEC_PER_SEC / PIT_HZ;
	*clock_ns = n1 - n0;
	return 0;
}

static int measure(unsigned ms, uint64_t *tsc_ticks, uint32_t *apic_ticks, uint32_t *pit_ticks)
{
	uint64_t t0, t1;
	uint32_t a0, a1;

	apic_timer_start_count();
	uint16_t c0 = sample(&t0, &a0);
	if (!wait_ticks(c0, PIT_HZ * ms / 1000))
		return -1;
	uint16_t c1 = sample(&t1, &a1);
	apic_timer_elapsed();
	*pit_ticks = (uint16_t)(c0 - c1);
	*tsc_ticks = t1 - t0;
	*apic_ticks = a0 - a1;
	return *pit_ticks ? 0 : -1;
}

int pit_calibrate(unsigned ms, uint64_t *tsc_hz_out, uint64_t *apic_hz_out)
{
	uint64_t t;
	uint32_t a, n;

	if (ms == 0 || ms > 40)
		return -1;
	program();
	/* A 1 ms warm-up pass first: under emulation the first run of this code
	 * is translated, which would otherwise land inside the measurement.
	 * A measurement the host interrupted for too long is repeated. */
	int tries = 0;
	if (measure(1, &t, &a, &n))
		return -1;
	while (measure(ms, &t, &a, &n))
		if (++tries == 3)
			return -1;
	*tsc_hz_out = t * PIT_HZ / n;
	*apic_hz_out = (uint64_t)a * PIT_HZ / n;
	return 0;
}
