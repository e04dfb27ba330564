/* Console input: once interrupts are up, COM1's receive interrupt (ISA IRQ 4)
 * fills a ring buffer that console_read() drains (the application's stdin).
 *
 * With osvb.stdin=stream the host frames its stdin so the guest can see the
 * end of file a UART cannot signal: 0xff 0xff is a data byte 0xff, 0xff 0x00
 * is end of file, 0xff followed by anything else is reserved and skipped.
 * The host sends nothing before the kernel says it is listening (a NUL on the
 * log UART). When the ring is full the receive interrupt is masked and bytes
 * stay in the UART, so QEMU stops taking them from the host: nothing is
 * dropped. */
#include <console/console.h>
#include <console/serial.h>
#include <arch/io.h>
#include <arch/spinlock.h>
#include <cmdline/cmdline.h>
#include <init/initcall.h>
#include <irq/irq.h>
#include <lib/string.h>
#include <sched/wait.h>

#define RING 4096
#define ESC 0xff
#define ESC_EOF 0x00

CMDLINE_OPTION(stdin, "stdin",
	       "the application's stdin: eof (default: nothing waiting reads as end of file), wait, "
	       "or stream (osvb run: the host's stdin, 0xff-escaped, with its end of file)");
CMDLINE_OPTION(tty, "tty", "1 or ROWSxCOLS: the console is a terminal (isatty); default: it is not");

static char ring[RING];
static unsigned head, tail; /* head: next write, tail: next read */
static spinlock_t lock = SPINLOCK_INIT;
static struct wait_queue readers = WAIT_QUEUE_INIT(readers);
static enum console_stdin mode = STDIN_EOF;
static bool escaped, eof, rx_masked;

enum console_stdin console_stdin_mode(void)
{
	return mode;
}

/* One byte from the UART, through the stream decoder. Lock held. */
static void take(uint8_t c)
{
	if (mode == STDIN_STREAM) {
		if (eof)
			return; /* nothing counts after the end */
		if (escaped) {
			escaped = false;
			if (c == ESC_EOF)
				eof = true;
			if (c != ESC)
				return;
		} else if (c == ESC) {
			escaped = true;
			return;
		}
	}
	ring[head++ % RING] = (char)c;
}

/* Move bytes from the UART into the ring while there is room; mask the
 * receive interrupt when there is none. Lock held. */
static void pull(void)
{
	int c;

	while (head - tail < RING && (c = serial_getc(COM1_PORT)) >= 0)
		take((uint8_t)c);
	bool full = head - tail >= RING;
	if (full != rx_masked) {
		rx_masked = full;
		serial_set_rx_irq(COM1_PORT, !full);
	}
}

static void (*input_notify)(void);

void console_set_input_notify(void (*fn)(void))
{
	input_notify = fn;
}

static void com1_rx(void *arg)
{
	(void)arg;
	spin_lock(&lock);
	pull();
	spin_unlock(&lock);
	wake_up_all(&readers);
	void (*notify)(void) = READ_ONCE(input_notify);
	if (notify)
		notify();
}

size_t console_input_room(void)
{
	return RING - (READ_ONCE(head) - READ_ONCE(tail));
}

size_t console_input_push(const char *buf, size_t n)
{
	size_t took = 0;

	spin_lock(&lock);
	while (took < n && head - tail < RING)
		take((uint8_t)buf[took++]);
	spin_unlock(&lock);
	wake_up_all(&readers);
	return took;
}

bool console_input_ready(void)
{
	return READ_ONCE(head) != READ_ONCE(tail) || READ_ONCE(eof);
}

size_t console_input_pending(void)
{
	return READ_ONCE(head) - READ_ONCE(tail);
}

bool console_input_ended(void)
{
	return READ_ONCE(eof) && READ_ONCE(head) == READ_ONCE(tail);
}

size_t console_read(char *buf, size_t n, bool block)
{
	if (block)
		wait_event(&readers, console_input_ready());
	uint64_t f = spin_lock_irqsave(&lock);
	size_t got = 0;
	while (got < n && tail != head)
		buf[got++] = ring[tail++ % RING];
	if (rx_masked && console_has_serial())
		pull(); /* room again: take what waited in the UART */
	spin_unlock_irqrestore(&lock, f);
	return got;
}

bool console_is_tty(unsigned *rows, unsigned *cols)
{
	const char *v = cmdline_get("tty");
	unsigned r = 0, c = 0;

	if (!v || !strcmp(v, "0"))
		return false;
	const char *x = v;
	while (*x >= '0' && *x <= '9')
		r = r * 10 + (unsigned)(*x++ - '0');
	if (*x == 'x')
		for (x++; *x >= '0' && *x <= '9'; x++)
			c = c * 10 + (unsigned)(*x - '0');
	bool sized = r > 0 && r < 10000 && c > 0 && c < 10000;
	*rows = sized ? r : 24;
	*cols = sized ? c : 80;
	return true;
}

static int console_input_init(void)
{
	const char *m = cmdline_get("stdin");

	if (m && !strcmp(m, "wait"))
		mode = STDIN_WAIT;
	else if (m && !strcmp(m, "stream"))
		mode = STDIN_STREAM;
	if (!console_has_serial())
		return 0;
	int v = irq_attach_isa(4, com1_rx, NULL);
	if (v < 0)
		return v;
	serial_enable_rx_irq(COM1_PORT);
	if (mode == STDIN_STREAM)
		console_input_ready_signal();
	return 0;
}
INITCALL(INIT_DEVICE, console_input_init);
