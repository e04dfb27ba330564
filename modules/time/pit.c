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

/* Poll until ticks PIT ticks passed since count c0. Returns the ticks seen,
 * or 0 when the PIT does not count (bounded by the TSC). The 16-bit counter
 * wraps every 55 ms: if the vCPU is descheduled that long (a busy host) a
 * whole period can pass unseen, so callers cross-check their results. */
static uint32_t wait_ticks(uint16_t c0, uint32_t ticks)
{
	uint64_t start = rdtsc();

	for (;;) {
		uint32_t elapsed = (uint16_t)(c0 - read_count());
		if (elapsed >= ticks)
			return elapsed;
		if (rdtsc() - start > (1ull << 33))
			return 0; /* seconds at any plausible TSC rate: no PIT */
	}
}

/* One endpoint: a PIT count bracketed by two TSC reads, the tightest of a few
 * tries. A PIT access that took long (emulation, a busy host) would otherwise
 * put an unknown delay between the count and the TSC value. */
static uint32_t sample(uint64_t *tsc, uint32_t *apic, uint64_t *width)
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
	*width = best;
	return count;
}

/* The same bracketing with the monotonic clock instead of the raw TSC. */
static uint16_t sample_clock(uint64_t *ns, uint64_t *width)
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
	*width = best;
	return count;
}

int pit_compare(unsigned ms, uint64_t *pit_ns, uint64_t *clock_ns)
{
	uint64_t n0 = 0, n1 = 0, w0, w1;
	uint32_t ticks = PIT_HZ * ms / 1000;

	if (ms == 0 || ms > 40)
		return -1;
	program();
	uint16_t c0 = sample_clock(&n0, &w0);
	if (!wait_ticks(c0, ticks))
		return -1;
	uint16_t c1 = sample_clock(&n1, &w1);
	uint32_t n = (uint16_t)(c0 - c1);
	/* n < ticks: the counter wrapped after the wait. Endpoints within 0.02%. */
	if (n < ticks || (w0 + w1) * 5000 > n1 - n0)
		return -1;
	*pit_ns = (uint64_t)n * NSEC_PER_SEC / PIT_HZ;
	*clock_ns = n1 - n0;
	return 0;
}

/* One measurement of the TSC and APIC timer against about ms of PIT time.
 * Returns -1 without a PIT, 1 when it is unusable (a wrap after the wait, or
 * imprecise endpoints), else 0. */
static int measure(unsigned ms, uint64_t *tsc_ticks, uint32_t *apic_ticks, uint32_t *pit_ticks)
{
	uint64_t t0, t1, w0, w1;
	uint32_t a0, a1, ticks = PIT_HZ * ms / 1000;

	apic_timer_start_count();
	uint16_t c0 = sample(&t0, &a0, &w0);
	if (!wait_ticks(c0, ticks))
		return -1;
	uint16_t c1 = sample(&t1, &a1, &w1);
	apic_timer_elapsed();
	*pit_ticks = (uint16_t)(c0 - c1);
	*tsc_ticks = t1 - t0;
	*apic_ticks = a0 - a1;
	return *pit_ticks >= ticks && (w0 + w1) * 5000 < *tsc_ticks ? 0 : 1;
}

#define MAX_RUNS 15

/* Calibrate with measurements of ms/2 until two in a row agree within
 * 0.05%: a whole counter period lost to a descheduled vCPU gives a rate far
 * off, and two such errors agreeing is not plausible. If the host never
 * allows that, the median of all runs is used (wrong ones are outliers). */
int pit_calibrate(unsigned ms, uint64_t *tsc_hz_out, uint64_t *apic_hz_out)
{
	uint64_t tsc_hz[MAX_RUNS], apic_hz[MAX_RUNS], t;
	uint32_t a, n;
	int runs = 0, r;
	unsigned len = ms > 1 ? ms / 2 : 1;

	if (ms == 0 || ms > 40)
		return -1;
	program();
	/* Warm-up: under emulation the first run of this code is translated,
	 * which would otherwise land inside a measurement. */
	if (measure(1, &t, &a, &n) < 0)
		return -1;
	uint64_t start = rdtsc();
	while (runs < MAX_RUNS && rdtsc() - start < (1ull << 32)) {
		if ((r = measure(len, &t, &a, &n)) < 0)
			return -1;
		if (r)
			continue;
		tsc_hz[runs] = t * PIT_HZ / n;
		apic_hz[runs] = (uint64_t)a * PIT_HZ / n;
		runs++;
		if (runs >= 2) {
			uint64_t x = tsc_hz[runs - 1], y = tsc_hz[runs - 2];
			uint64_t diff = x > y ? x - y : y - x;
			if (diff * 2000 < y) {
				*tsc_hz_out = (x + y) / 2;
				*apic_hz_out = (apic_hz[runs - 1] + apic_hz[runs - 2]) / 2;
				return 0;
			}
		}
	}
	if (runs == 0)
		return -2;
	/* Median (insertion sort; at most MAX_RUNS values). */
	for (int i = 1; i < runs; i++)
		for (int j = i; j > 0 && tsc_hz[j - 1] > tsc_hz[j]; j--) {
			uint64_t x = tsc_hz[j], y = apic_hz[j];
			tsc_hz[j] = tsc_hz[j - 1];
			apic_hz[j] = apic_hz[j - 1];
			tsc_hz[j - 1] = x;
			apic_hz[j - 1] = y;
		}
	*tsc_hz_out = tsc_hz[runs / 2];
	*apic_hz_out = apic_hz[runs / 2];
	return 0;
}
