/* osvb stop (the ACPI power button) sends the application SIGTERM, as
 * docker stop does; a program that ignores it is stopped by force when
 * osvb stop's timeout passes. */
#include "internal.h"
#include <shutdown/shutdown.h>

static bool sigterm_app(void)
{
	if (list_empty(&proc.threads))
		return false; /* no program yet: power off */
	struct uthread *ut = list_first_entry(&proc.threads, struct uthread, node);
	struct ksiginfo si = { .signo = SIGTERM, .code = 0x80 /* SI_KERNEL */ };
	signal_send(ut, SIGTERM, &si);
	return true;
}
SHUTDOWN_REQUEST_HANDLER(1, "linux", sigterm_app);
