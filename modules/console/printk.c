/* printk: format into a stack buffer, then write whole lines under a lock. */
#include <console/printk.h>
#include <console/serial.h>
#include <console/console.h>
#include <arch/spinlock.h>
#include <lib/printf.h>
#include <lib/string.h>

#ifndef CONFIG_LOG_DEFAULT_LEVEL
#define CONFIG_LOG_DEFAULT_LEVEL 5
#endif

static int loglevel = CONFIG_LOG_DEFAULT_LEVEL;
static bool com1_ok;
static spinlock_t lock = SPINLOCK_INIT;

void console_early_init(void)
{
	/* Probe first: writing to a missing UART is harmless but slow under some VMMs. */
	com1_ok = serial_probe(COM1_PORT);
	if (com1_ok)
		serial_init(COM1_PORT);
}

bool console_has_serial(void)
{
	return com1_ok;
}

void console_set_loglevel(int level)
{
	loglevel = level < 0 ? 0 : level > LOG_DEBUG ? LOG_DEBUG : level;
}

int console_get_loglevel(void)
{
	return loglevel;
}

static void emit(const char *s, size_t n)
{
	if (com1_ok)
		serial_write(COM1_PORT, s, n);
}

void console_write(const char *s, size_t n)
{
	uint64_t f = spin_lock_irqsave(&lock);
	emit(s, n);
	spin_unlock_irqrestore(&lock, f);
}

void vprintk(int level, const char *fmt, va_list ap)
{
	char buf[512];

	if (level > loglevel)
		return;
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n >= (int)sizeof(buf)) {
		n = sizeof(buf) - 1;
		buf[n - 1] = '\n'; /* truncated: still end the line */
	}
	console_write(buf, n);
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

void printk_raw(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	emit(buf, n);
}
