#include <lib/panic.h>
#include <lib/printf.h>
#include <arch/cpu.h>
#include <arch/smp.h>
#include <arch/backtrace.h>
#include <console/printk.h>
#include <shutdown/shutdown.h>

static unsigned panicking; /* 1 + the id of the CPU reporting a panic */

void panic_begin(void)
{
	irq_disable();
	unsigned me = this_cpu_id() + 1, prev = 0;
	if (!__atomic_compare_exchange_n(&panicking, &prev, me, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		/* A fault while this CPU reports a panic: skip straight to the exit.
		 * Another CPU's panic: let it finish its report. */
		if (prev == me)
			shutdown_panic();
		for (;;)
			hlt();
	}
}

static void print_message(const char *fmt, va_list ap)
{
	char buf[256];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	printk_raw("osvb: panic: %s\n", buf);
}

void panic_end(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_message(fmt, ap);
	va_end(ap);
	shutdown_panic();
}

void panic(const char *fmt, ...)
{
	va_list ap;

	panic_begin();
	va_start(ap, fmt);
	print_message(fmt, ap);
	va_end(ap);
	printk_raw("osvb: backtrace:\n");
	backtrace_print();
	shutdown_panic();
}
