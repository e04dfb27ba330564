/* Kernel entry from arch's boot code: core bring-up in a fixed order (these
 * modules are always present), then the initcall levels in the "main"
 * thread. */
#include <init/initcall.h>
#include <acpi/acpi.h>
#include <arch/arch.h>
#include <arch/cpu.h>
#include <boot/boot_info.h>
#include <cmdline/cmdline.h>
#include <console/printk.h>
#include <console/serial.h>
#include <hypervisor/hypervisor.h>
#include <irq/irq.h>
#include <lib/panic.h>
#include <mm/mm.h>
#include <sched/thread.h>
#include <shutdown/shutdown.h>
#include <time/clock.h>

KTABLE_DEFINE(struct initcall, initcall);

void kmain(uint32_t protocol, uint32_t info_pa);

static uint64_t entry_tsc;

static void kernel_main(void *arg)
{
	const struct initcall *c;

	(void)arg;
	printk(LOG_INFO, "osvb: core up %lu us after kernel entry\n",
	       (unsigned long)((rdtsc() - entry_tsc) * 1000000 / clock_tsc_hz()));
	ktable_foreach(c, initcall) {
		if (!hypervisor_code_present(c->fn))
			continue; /* another platform's, freed */
		int r = c->fn();
		if (r < 0)
			panic("init: %s failed (%d)", c->name, r);
	}
	printk(LOG_NOTICE, "osvb: nothing to run; exiting\n");
	shutdown_exit(0);
}

void kmain(uint32_t protocol, uint32_t info_pa)
{
	entry_tsc = rdtsc();
	arch_init();
	console_early_init();
	boot_info_init(protocol, info_pa);
	cmdline_init(boot_info.cmdline);
	console_set_loglevel(cmdline_get_int("loglevel", console_get_loglevel()));
	printk(LOG_NOTICE, "osvb: booting (%s, %lu MiB RAM)\n", boot_info.protocol,
	       (unsigned long)(boot_usable_memory() >> 20));
	boot_info_print();
	mm_init();
	acpi_init();
	irq_init();
	time_init();
	hypervisor_dispose_unused();
	sched_init();
	struct thread *t = thread_create("main", kernel_main, NULL);
	if (!t)
		panic("init: cannot create the main thread");
	thread_detach(t);
	sched_idle_loop();
}
