/* The PVH boot ABI (Xen's arch-x86/hvm/start_info.h): what a PVH loader
 * (Xen, QEMU -kernel, Firecracker, cloud-hypervisor) passes in ebx. The parser
 * is pure C, also compiled on the host for tests; loader-supplied addresses
 * are read only through the caller's bounds-checked accessor. */
#ifndef BOOT_PVH_H
#define BOOT_PVH_H

#include <stdbool.h>
#include <stdint.h>

#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u

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

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* Memory map types (XEN_HVM_MEMMAP_TYPE_*): 1..5 are E820's. */
#define XEN_HVM_MEMMAP_TYPE_RAM 1
#define XEN_HVM_MEMMAP_TYPE_RESERVED 2
#define XEN_HVM_MEMMAP_TYPE_DISABLED 6
#define XEN_HVM_MEMMAP_TYPE_PMEM 7

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry");

#define PVH_MAX_MODULES 8
#define PVH_MAX_REGIONS 128

struct pvh_info {
	uint32_t version;
	uint64_t cmdline_paddr; /* 0: none */
	uint64_t rsdp_paddr;
	uint32_t nr_modules;    /* as the loader said; the first PVH_MAX_MODULES are kept */
	struct hvm_modlist_entry modules[PVH_MAX_MODULES];
	unsigned nregions;
	bool regions_truncated;
	struct {
		uint64_t base, size;
		uint32_t type;  /* E820 numbering: DISABLED and PMEM become RESERVED */
	} regions[PVH_MAX_REGIONS];
};

/* Returns a readable pointer to [pa, pa + len) or NULL. */
typedef const void *(*pvh_phys_fn)(void *ctx, uint64_t pa, uint64_t len);

#define PVH_ERR_MAGIC (-1)   /* no start_info, or a wrong magic */
#define PVH_ERR_MODLIST (-2) /* modules named but their list unreadable */
#define PVH_ERR_MEMMAP (-3)  /* memory map named but unreadable */

/* Regions of size 0 or wrapping past 2^64 are dropped. */
int pvh_parse_start_info(pvh_phys_fn phys, void *ctx, uint64_t pa, struct pvh_info *out);

#endif
