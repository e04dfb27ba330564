/* Xen PVH start_info (used by QEMU -kernel, Firecracker, cloud-hypervisor, Xen):
 * pvh_parse.c reads it, this fills boot_info. */
#include <boot/boot_info.h>
#include <boot/pvh.h>

static const void *early_phys(void *ctx, uint64_t pa, uint64_t len)
{
	(void)ctx;
	return boot_phys(pa, len);
}

static int pvh_parse(uint64_t pa, struct boot_info *bi)
{
	static struct pvh_info pi; /* 3 KiB: not on the boot stack */
	int r = pvh_parse_start_info(early_phys, NULL, pa, &pi);

	if (r)
		return r;
	if (pi.cmdline_paddr)
		boot_set_cmdline(bi, pi.cmdline_paddr);
	bi->rsdp = pi.rsdp_paddr;
	/* The first module is the initrd (QEMU -initrd, xl ramdisk=). */
	if (pi.nr_modules && pi.modules[0].size) {
		bi->initrd_base = pi.modules[0].paddr;
		bi->initrd_size = pi.modules[0].size;
	}
	for (unsigned i = 0; i < pi.nregions; i++)
		boot_add_region(bi, pi.regions[i].base, pi.regions[i].size, pi.regions[i].type);
	return 0;
}

BOOT_PROTOCOL(BOOT_PROTO_PVH, "pvh", pvh_parse);
