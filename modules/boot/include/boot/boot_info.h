/* What the loader told us, normalised from PVH or Multiboot into one shape. */
#ifndef BOOT_BOOT_INFO_H
#define BOOT_BOOT_INFO_H

#include <stdint.h>
#include <lib/ktable.h>
#include <boot/proto.h>

#define BOOT_MAX_REGIONS 128
#define BOOT_CMDLINE_MAX 4096

/* Memory types, numbered as in the E820 map. */
enum boot_mem_type {
	BOOT_MEM_USABLE = 1,
	BOOT_MEM_RESERVED = 2,
	BOOT_MEM_ACPI = 3,
	BOOT_MEM_NVS = 4,
	BOOT_MEM_BAD = 5,
};

struct boot_mem_region {
	uint64_t base;
	uint64_t size;
	uint32_t type;
};

struct boot_info {
	const char *protocol;       /* "pvh", "multiboot", "linux" */
	struct boot_mem_region mem[BOOT_MAX_REGIONS]; /* sorted by base, non-overlapping */
	unsigned nmem;
	char cmdline[BOOT_CMDLINE_MAX];
	bool cmdline_truncated;
	uint64_t initrd_base;       /* physical; 0 when none */
	uint64_t initrd_size;
	uint64_t rsdp;              /* physical address of the ACPI RSDP; 0 if the loader gave none */
};

extern struct boot_info boot_info;

/* Fill boot_info from the loader's structure (physical address info_pa).
 * Runs on the boot page tables, before any allocator. */
void boot_info_init(uint32_t protocol, uint32_t info_pa);

/* Log the memory map (debug level) and the initrd (info level). */
void boot_info_print(void);

/* Sum of usable RAM in bytes. */
uint64_t boot_usable_memory(void);

/* Boot protocol parsers register here (lib/ktable.h). parse() returns 0 or a
 * negative value when the structure is unusable. */
struct boot_protocol {
	uint32_t id;
	const char *name;
	int (*parse)(uint64_t info_pa, struct boot_info *bi);
};
KTABLE_DECLARE(struct boot_protocol, bootproto);
#define BOOT_PROTOCOL(id, name, fn) \
	KTABLE_ENTRY(struct boot_protocol, bootproto, 5, __bootproto_##fn) = { id, name, fn }

/* Helpers for parsers. */
void boot_add_region(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type);
void boot_set_cmdline(struct boot_info *bi, uint64_t pa);
/* Loader-supplied pointers are only readable below 4 GiB during early boot. */
const void *boot_phys(uint64_t pa, uint64_t len);

#endif
