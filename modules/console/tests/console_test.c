#include <selftest/selftest.h>
#include <console/console.h>
#include <console/printk.h>
#include <lib/string.h>
#include <time/clock.h>

/* Needs the host to type "ping" and Enter on the console; run only by name. */
SELFTEST_FLAGS(read, "console.read", SELFTEST_EXPLICIT)
{
	char line[64];
	size_t n = 0;

	printk(LOG_EMERG, "console.read: type ping\n");
	while (n < sizeof(line) - 1) {
		size_t got = console_read(line + n, 1, true);
		if (got && (line[n] == '\r' || line[n] == '\n'))
			break;
		n += got;
	}
	line[n] = 0;
	ST_EXPECT_STREQ(line, "ping");
}
