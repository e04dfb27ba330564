/* Kernel entry from arch's boot code: core bring-up in a fixed order (these
 * modules are always present), then the initcall levels. */
#include <init/initcall.h>
#include <arch/arch.h>
#include <boot/boot_info.h>
#include <cmdline/cmdline.h>
#include <console/printk.h>
#include <console/serial.h>
#include <shutdown/shutdown.h>

KTABLE_DEFINE(struct initcall, initcall);

void kmain(uint32_t protocol, uint32_t info_pa);

void kmain(uint32_t protocol, uint32_t info_pa)
{
	arch_init();
	console_early_init();
	boot_info_init(protocol, info_pa);
	cmdline_init(boot_info.cmdline);
	console_set_loglevel(cmdline_get_int("loglevel", console_get_loglevel()));
	printk(LOG_NOTICE, "osvb: hello (%s boot, %lu MiB RAM)\n", boot_info.protocol,
	       (unsigned long)(boot_usable_memory() >> 20));
	shutdown_exit(0);
}
