/* CMOS RTC, read once at boot for the wall clock. */
#include "time_internal.h"
#include <time/clock.h>
#include <arch/io.h>
#include <console/printk.h>

static uint64_t boot_epoch_ns; /* realtime at monotonic 0 */

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg | 0x80); /* keep NMIs disabled while selecting */
	return inb(0x71);
}

static unsigned bcd(uint8_t v, bool is_bcd)
{
	return is_bcd ? (v & 0x0f) + (v >> 4) * 10 : v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
	y -= m <= 2;
	unsigned era = y / 400;
	unsigned yoe = y - era * 400;
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (uint64_t)era * 146097 + doe - 719468;
}

void rtc_init(void)
{
	uint8_t s, mi, h, d, mo, y, s2, regb;

	if (cmos(0x0d) == 0xff)
		return; /* no CMOS */
	/* Read until two consecutive reads agree and no update is in progress. */
	for (int tries = 0; tries < 1000; tries++) {
		while (cmos(0x0a) & 0x80)
			;
		s = cmos(0x00);
		mi = cmos(0x02);
		h = cmos(0x04);
		d = cmos(0x07);
		mo = cmos(0x08);
		y = cmos(0x09);
		s2 = cmos(0x00);
		if (s == s2)
			break;
	}
	regb = cmos(0x0b);
	bool is_bcd = !(regb & 0x04);
	bool pm = !(regb & 0x02) && (h & 0x80);
	unsigned hour = bcd(h & 0x7f, is_bcd);
	if (!(regb & 0x02))
		hour = hour % 12 + (pm ? 12 : 0);
	unsigned year = 2000 + bcd(y, is_bcd), month = bcd(mo, is_bcd), day = bcd(d, is_bcd);
	if (month < 1 || month > 12 || day < 1 || day > 31)
		return;
	uint64_t secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + bcd(mi, is_bcd) * 60 +
			bcd(s, is_bcd);
	boot_epoch_ns = secs * NSEC_PER_SEC - clock_monotonic_ns();
}

uint64_t rtc_boot_epoch_ns(void)
{
	return boot_epoch_ns;
}

uint64_t clock_realtime_offset_ns(void)
{
	return boot_epoch_ns;
}

uint64_t clock_realtime_ns(void)
{
	return boot_epoch_ns + clock_monotonic_ns();
}
