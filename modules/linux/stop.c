/* osvb stop (the ACPI power button) sends the application SIGTERM, as
 * docker stop does; a program that ignores it is stopped by force when
 * osvb stop's timeout passes. */
#include "internal.h"
#include <shutdown/shutdown.h>

static bool sigterm_app(void)
{
	/* To the first process (the application), whatever context this runs in. */
	struct ksiginfo si = { .signo = SIGTERM, .code = 0x80 /* SI_KERNEL */ };
	uint64_t f = spin_lock_irqsave(&procs_lock);
	struct process *p = init_process;
	bool alive = p && p->state == PROC_ALIVE && !list_empty(&p->threads);
	if (alive)
		signal_send_process(p, SIGTERM, &si);
	spin_unlock_irqrestore(&procs_lock, f);
	return alive; /* no program yet: power off */
}
SHUTDOWN_REQUEST_HANDLER(1, "linux", sigterm_app);
