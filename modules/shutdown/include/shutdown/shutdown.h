/* Leaving the VM with a status (the osvb exit protocol, see BRIEF). */
#ifndef SHUTDOWN_SHUTDOWN_H
#define SHUTDOWN_SHUTDOWN_H

#include <stdbool.h>
#include <lib/compiler.h>
#include <lib/ktable.h>
#include <stddef.h>

#define SHUTDOWN_PANIC_STATUS 0x7f

/* Record "osvb-exit: <status>" on COM2, write status to isa-debug-exit, then
 * try the platform poweroff methods; halts if all of them fail. */
void shutdown_exit(int status) __noreturn;
/* Same with "osvb-panic" and status 0x7f. */
void shutdown_panic(void) __noreturn;

/* A line (ending in '\n') for the host on the exit-record channel (COM2),
 * which osvb run reads after the guest ends: e.g. the clock rates the kernel
 * measured, so the next boot on this host is told them instead of measuring. */
void shutdown_host_record(const char *line);

/* Where records go when there is no COM2 (Xen: the PV console, where osvb run
 * finds "osvb-exit: N" in the console output), set by the console's driver. */
void shutdown_set_record_channel(void (*write)(const char *line, size_t n));

/* The platform asks the guest to stop (the ACPI power button: osvb stop,
 * QEMU's system_powerdown). From interrupt context, the handlers run in
 * priority order until one takes the request (returns true), e.g. the Linux
 * ABI sends SIGTERM to the application; when none does, the VM powers off
 * with status 0. */
void shutdown_request(void);
struct shutdown_request_handler {
	const char *name;
	bool (*handle)(void);
};
KTABLE_DECLARE(struct shutdown_request_handler, shutdown_request);
#define SHUTDOWN_REQUEST_HANDLER(prio, name, fn)                                                 \
	KTABLE_ENTRY(struct shutdown_request_handler, shutdown_request, prio, __shutdown_request_##fn) = \
		{ name, fn }

/* Poweroff methods tried in priority order after isa-debug-exit (ACPI, and
 * platform modules' own). A method returns only when it failed. */
struct poweroff_method {
	const char *name;
	void (*poweroff)(void);
};
KTABLE_DECLARE(struct poweroff_method, poweroff);
#define POWEROFF_METHOD(prio, name, fn) \
	KTABLE_ENTRY(struct poweroff_method, poweroff, prio, __poweroff_##fn) = { name, fn }

#endif
