/* The osvb exit protocol: a status line on COM2 (trusted by the host), then
 * QEMU's isa-debug-exit (exit code = status * 2 + 1), then real poweroff. */
#include <shutdown/shutdown.h>
#include <cmdline/cmdline.h>
#include <console/serial.h>
#include <console/console.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <arch/arch.h>
#include <arch/cpu.h>
#include <arch/io.h>
#include <hypervisor/hypervisor.h>

#define DEBUG_EXIT_PORT 0xf4

KTABLE_DEFINE(struct poweroff_method, poweroff);
KTABLE_DEFINE(struct shutdown_request_handler, shutdown_request);

void shutdown_request(void)
{
	const struct shutdown_request_handler *h;

	ktable_foreach(h, shutdown_request)
		if (hypervisor_code_present(h->handle) && h->handle())
			return;
	shutdown_exit(0);
}

static void (*record_channel)(const char *line, size_t n);

void shutdown_set_record_channel(void (*write)(const char *line, size_t n))
{
	record_channel = write;
}

CMDLINE_OPTION(record, "record",
	       "console: write the exit record on the console (COM1) when there is no COM2, "
	       "as under Firecracker, whose runner takes the line out of the output");

static void com2_record(const char *line, size_t n)
{
	console_flush(); /* the program's last bytes before its status */
	if (!serial_probe(COM2_PORT)) {
		const char *where = cmdline_get("record");
		if (record_channel) {
			record_channel(line, n);
		} else if (where && !strcmp(where, "console") && serial_probe(COM1_PORT)) {
			serial_write_bytes(COM1_PORT, line, n);
			serial_flush(COM1_PORT);
		}
		return;
	}
	serial_init(COM2_PORT);
	serial_write_bytes(COM2_PORT, line, n);
	serial_flush(COM2_PORT);
}

void shutdown_host_record(const char *line)
{
	com2_record(line, strlen(line));
}

static void __noreturn leave(int code)
{
	const struct poweroff_method *m;

	outb(DEBUG_EXIT_PORT, code);
	/* Still here: no isa-debug-exit device. */
	ktable_foreach(m, poweroff)
		if (hypervisor_code_present(m->poweroff)) /* another platform's may be freed */
			m->poweroff();
	arch_halt_forever();
}

void shutdown_exit(int status)
{
	char line[32];

	irq_disable();
	status &= 0xff;
	int n = snprintf(line, sizeof(line), "osvb-exit: %d\n", status);
	com2_record(line, n);
	leave(status);
}

void shutdown_panic(void)
{
	irq_disable();
	com2_record("osvb-panic\n", 11);
	leave(SHUTDOWN_PANIC_STATUS);
}
