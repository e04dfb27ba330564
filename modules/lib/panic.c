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

static void __noreturn vpanic_end(const char *fmt, va_list ap)
{
	char buf[256];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	printk_raw("osvb: panic: %s\n", buf);
	shutdown_panic();
}

void panic_end(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpanic_end(fmt, ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	panic_begin();
	printk_raw("osvb: backtrace:\n");
	backtrace_print();
	va_start(ap, fmt);
	vpanic_end(fmt, ap);
}
