/* Xen PVH start_info (used by QEMU -kernel, Firecracker, cloud-hypervisor, Xen). */
#include <boot/boot_info.h>
#include <console/printk.h>

#define PVH_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

static int pvh_parse(uint64_t pa, struct boot_info *bi)
{
	const struct hvm_start_info *si = boot_phys(pa, sizeof(*si));

	if (!si || si->magic != PVH_MAGIC)
		return -1;
	if (si->cmdline_paddr)
		boot_set_cmdline(bi, si->cmdline_paddr);
	bi->rsdp = si->rsdp_paddr;
	if (si->nr_modules) {
		const struct hvm_modlist_entry *m = boot_phys(si->modlist_paddr, sizeof(*m));
		if (m && m->size) {
			bi->initrd_base = m->paddr;
			bi->initrd_size = m->size;
		}
	}
	if (si->version >= 1 && si->memmap_entries) {
		uint32_t n = si->memmap_entries;
		if (n > BOOT_MAX_REGIONS)
			n = BOOT_MAX_REGIONS;
		const struct hvm_memmap_entry *e = boot_phys(si->memmap_paddr, n * sizeof(*e));
		if (!e)
			return -1;
		for (uint32_t i = 0; i < n; i++)
			boot_add_region(bi, e[i].addr, e[i].size, e[i].type);
	}
	return 0;
}

BOOT_PROTOCOL(BOOT_PROTO_PVH, "pvh", pvh_parse);
