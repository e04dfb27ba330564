/* hvm_start_info parsing: see <boot/pvh.h>. */
#include <boot/pvh.h>

int pvh_parse_start_info(pvh_phys_fn phys, void *ctx, uint64_t pa, struct pvh_info *out)
{
	const struct hvm_start_info *si = phys(ctx, pa, sizeof(*si));

	out->nregions = 0;
	out->regions_truncated = false;
	out->nr_modules = 0;
	if (!si || si->magic != XEN_HVM_START_MAGIC_VALUE)
		return PVH_ERR_MAGIC;
	out->version = si->version;
	out->cmdline_paddr = si->cmdline_paddr;
	out->rsdp_paddr = si->rsdp_paddr;
	if (si->nr_modules) {
		uint32_t keep = si->nr_modules < PVH_MAX_MODULES ? si->nr_modules : PVH_MAX_MODULES;
		const struct hvm_modlist_entry *m = phys(ctx, si->modlist_paddr, keep * sizeof(*m));
		if (!m)
			return PVH_ERR_MODLIST;
		for (uint32_t i = 0; i < keep; i++)
			out->modules[i] = m[i];
		out->nr_modules = si->nr_modules;
	}
	if (si->version >= 1 && si->memmap_entries) {
		uint32_t n = si->memmap_entries;
		if (n > PVH_MAX_REGIONS) {
			n = PVH_MAX_REGIONS;
			out->regions_truncated = true;
		}
		const struct hvm_memmap_table_entry *e = phys(ctx, si->memmap_paddr, n * sizeof(*e));
		if (!e)
			return PVH_ERR_MEMMAP;
		for (uint32_t i = 0; i < n; i++) {
			if (e[i].size == 0 || e[i].addr + e[i].size < e[i].addr)
				continue;
			uint32_t type = e[i].type;
			if (type == XEN_HVM_MEMMAP_TYPE_DISABLED || type == XEN_HVM_MEMMAP_TYPE_PMEM || type == 0 ||
			    type > XEN_HVM_MEMMAP_TYPE_PMEM)
				type = XEN_HVM_MEMMAP_TYPE_RESERVED;
			out->regions[out->nregions].base = e[i].addr;
			out->regions[out->nregions].size = e[i].size;
			out->regions[out->nregions].type = type;
			out->nregions++;
		}
	}
	return 0;
}
