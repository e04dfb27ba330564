deps_config := \
	modules/selftest/Kconfig \
	modules/uaccess/Kconfig \
	modules/uvm/Kconfig \
	modules/elf/Kconfig \
	modules/linux/Kconfig \
	modules/initrd/Kconfig \
	modules/procfs/Kconfig \
	modules/devfs/Kconfig \
	modules/tmpfs/Kconfig \
	modules/vfs/Kconfig \
	modules/console/Kconfig \
	modules/time/Kconfig \
	modules/sched/Kconfig \
	modules/mm/Kconfig \
	modules/shutdown/Kconfig \
	modules/acpi/Kconfig \
	modules/platform/Kconfig \
	modules/boot/Kconfig \
	modules/irq/Kconfig \
	modules/arch/Kconfig \
	modules/lib/Kconfig \
	modules/cmdline/Kconfig \
	modules/init/Kconfig \
	kconfig/Kconfig \

include/config/auto.conf: $(deps_config)


$(deps_config): ;
