/* Local APIC timer: one-shot mode with divide-by-16. */
#include "time_internal.h"
#include <time/clock.h>
#include <irq/lapic.h>

#define DIV_16 0x3

uint64_t apic_timer_hz;

void apic_timer_start_count(void)
{
	lapic_write(LAPIC_TIMER_DIV, DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
}

uint32_t apic_timer_current(void)
{
	return lapic_read(LAPIC_TIMER_CURRENT);
}

uint32_t apic_timer_elapsed(void)
{
	uint32_t cur = lapic_read(LAPIC_TIMER_CURRENT);
	lapic_write(LAPIC_TIMER_INIT, 0);
	return 0xffffffff - cur;
}

static int vector;
static uint64_t ticks_per_ns_32; /* APIC ticks per ns, 32.32 fixed point */

void apic_timer_set_vector(int v)
{
	vector = v;
	ticks_per_ns_32 = (apic_timer_hz << 32) / NSEC_PER_SEC;
	lapic_write(LAPIC_TIMER_DIV, DIV_16);
	lapic_write(LAPIC_LVT_TIMER, (uint32_t)v); /* one-shot, unmasked */
}

void apic_timer_program(uint64_t delta_ns)
{
	uint64_t ticks;
	if (delta_ns > 10 * NSEC_PER_SEC)
		ticks = 0xffffffff; /* long waits are re-armed on expiry */
	else
		ticks = ((unsigned __int128)delta_ns * ticks_per_ns_32) >> 32;
	if (ticks == 0)
		ticks = 1;
	if (ticks > 0xffffffff)
		ticks = 0xffffffff;
	lapic_write(LAPIC_TIMER_INIT, (uint32_t)ticks);
}
