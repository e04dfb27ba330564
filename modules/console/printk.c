/* printk: format into a stack buffer, then write whole lines under a lock.
 *
 * The console is three 16550 UARTs so the host can tell the streams apart
 * without parsing them: COM1 carries the application's stdin and stdout, COM3
 * its stderr, COM4 the kernel's own messages. Bytes pass untranslated. A UART
 * that is not there (a VMM with one serial port) folds onto COM1. */
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
static uint16_t err_port, log_port; /* 0: no UART at all */
static spinlock_t lock = SPINLOCK_INIT;
static spinlock_t out_lock = SPINLOCK_INIT;
static const struct console_sink *sink;

void console_set_sink(const struct console_sink *s)
{
	sink = s;
}

static uint16_t probe_or(uint16_t base, uint16_t fallback)
{
	if (!serial_probe(base))
		return fallback;
	serial_init(base);
	return base;
}

void console_early_init(void)
{
	/* Probe first: writing to a missing UART is harmless but slow under some VMMs. */
	com1_ok = serial_probe(COM1_PORT);
	if (com1_ok)
		serial_init(COM1_PORT);
	uint16_t com1 = com1_ok ? COM1_PORT : 0;
	err_port = probe_or(COM3_PORT, com1);
	log_port = probe_or(COM4_PORT, com1);
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
	if (log_port)
		serial_write_bytes(log_port, s, n);
	else if (sink)
		sink->write(0, s, n);
}

void console_out(int stream, const void *buf, size_t n)
{
	uint16_t port = stream == CONSOLE_STDERR ? err_port : com1_ok ? COM1_PORT : 0;
	if (!port) {
		if (sink)
			sink->write(stream, buf, n);
		return;
	}
	/* Short chunks under the lock: writers do not interleave mid-chunk, and
	 * interrupts are never off for long while the host is slow to read. */
	const char *p = buf;
	while (n) {
		size_t k = n < 64 ? n : 64;
		uint64_t f = spin_lock_irqsave(&out_lock);
		serial_write_stream(port, p, k);
		spin_unlock_irqrestore(&out_lock, f);
		p += k;
		n -= k;
	}
}

void console_input_ready_signal(void)
{
	/* The host holds stdin back until this NUL on the log UART: bytes sent
	 * before the UART's FIFO was set up would be lost. Only on a log UART of
	 * its own, where the host looks for it. */
	if (log_port && log_port != COM1_PORT)
		serial_write_bytes(log_port, "", 1);
}

void console_flush(void)
{
	/* The host may still be taking the last bytes; let them reach it before
	 * the VM stops. */
	if (com1_ok)
		serial_flush(COM1_PORT);
	if (err_port)
		serial_flush(err_port);
	if (log_port)
		serial_flush(log_port);
	if (sink)
		sink->flush();
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
