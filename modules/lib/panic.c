#include <lib/panic.h>
#include <lib/printf.h>
#include <arch/cpu.h>
#include <arch/backtrace.h>
#include <console/printk.h>
#include <shutdown/shutdown.h>

static int panicking;

void panic_begin(void)
{
	irq_disable();
	/* A fault while reporting a panic: skip straight to the exit. */
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST))
		shutdown_panic();
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
