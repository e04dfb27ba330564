/* Console input: once interrupts are up, COM1's receive interrupt (ISA IRQ 4)
 * fills a ring buffer that console_read() drains (the application's stdin). */
#include <console/console.h>
#include <console/serial.h>
#include <arch/io.h>
#include <arch/spinlock.h>
#include <init/initcall.h>
#include <irq/irq.h>
#include <sched/wait.h>

#define RING 1024

static char ring[RING];
static unsigned head, tail; /* head: next write, tail: next read */
static spinlock_t lock = SPINLOCK_INIT;
static struct wait_queue readers = WAIT_QUEUE_INIT(readers);
static uint64_t dropped;

static void com1_rx(void *arg)
{
	int c;

	(void)arg;
	spin_lock(&lock);
	while ((c = serial_getc(COM1_PORT)) >= 0) {
		if (head - tail < RING)
			ring[head++ % RING] = (char)c;
		else
			dropped++; /* nobody reads: keep the oldest input */
	}
	spin_unlock(&lock);
	wake_up_all(&readers);
}

static bool readable(void)
{
	return READ_ONCE(head) != READ_ONCE(tail);
}

size_t console_read(char *buf, size_t n, bool block)
{
	if (block)
		wait_event(&readers, readable());
	uint64_t f = spin_lock_irqsave(&lock);
	size_t got = 0;
	while (got < n && tail != head)
		buf[got++] = ring[tail++ % RING];
	spin_unlock_irqrestore(&lock, f);
	return got;
}

static int console_input_init(void)
{
	if (!console_has_serial())
		return 0;
	int v = irq_attach_isa(4, com1_rx, NULL);
	if (v < 0)
		return v;
	serial_enable_rx_irq(COM1_PORT);
	return 0;
}
INITCALL(INIT_DEVICE, console_input_init);
