/* osvb stop (the ACPI power button) sends the application SIGTERM, as
 * docker stop does; a program that ignores it is stopped by force when
 * osvb stop's timeout passes. Runs in interrupt context: the first process,
 * never the current one. */
#include "internal.h"
#include <shutdown/shutdown.h>

static bool sigterm_app(void)
{
	struct process *p = READ_ONCE(init_process);
	if (!p)
		return false; /* no program yet: power off */
	struct ksiginfo si = { .signo = SIGTERM, .code = 0x80 /* SI_KERNEL */ };
	signal_send_process(p, SIGTERM, &si);
	return true;
}
SHUTDOWN_REQUEST_HANDLER(1, "linux", sigterm_app);
