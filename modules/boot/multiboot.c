/* Multiboot (v1) information structure. */
#include <boot/boot_info.h>

#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB */
	uint32_t mem_upper; /* KiB above 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
};

struct multiboot_mod {
	uint32_t start;
	uint32_t end;
	uint32_t string;
	uint32_t reserved;
};

struct multiboot_mmap {
	uint32_t size; /* of the rest of the entry */
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

/* True when the loader's name (a string in guest memory, untrusted) is `name`. */
static bool loader_is(const struct multiboot_info *mb, const char *name)
{
	if (!(mb->flags & MB_INFO_LOADER_NAME) || !mb->boot_loader_name)
		return false;
	for (uint64_t i = 0;; i++) {
		const char *c = boot_phys((uint64_t)mb->boot_loader_name + i, 1);
		if (!c || *c != name[i])
			return false;
		if (!*c)
			return true;
	}
}

/* QEMU's -kernel puts the kernel's file name before the command line (as GRUB
 * legacy did); GRUB 2 does not. Skip that first word so the app's arguments
 * are the same however the kernel was loaded. */
static uint64_t skip_first_word(uint64_t pa)
{
	for (unsigned n = 0; n < BOOT_CMDLINE_MAX; n++) {
		const char *c = boot_phys(pa + n, 1);
		if (!c || !*c)
			return pa + n;
		if (*c == ' ')
			return pa + n + 1;
	}
	return pa;
}

static int multiboot_parse(uint64_t pa, struct boot_info *bi)
{
	const struct multiboot_info *mb = boot_phys(pa, sizeof(*mb));

	if (!mb)
		return -1;
	if ((mb->flags & MB_INFO_CMDLINE) && mb->cmdline)
		boot_set_cmdline(bi, loader_is(mb, "qemu") ? skip_first_word(mb->cmdline) : mb->cmdline);
	if ((mb->flags & MB_INFO_MODS) && mb->mods_count) {
		const struct multiboot_mod *m = boot_phys(mb->mods_addr, sizeof(*m));
		if (m && m->end > m->start) {
			bi->initrd_base = m->start;
			bi->initrd_size = m->end - m->start;
		}
	}
	if ((mb->flags & MB_INFO_MMAP) && mb->mmap_length) {
		const uint8_t *p = boot_phys(mb->mmap_addr, mb->mmap_length);
		if (!p)
			return -1;
		for (uint32_t off = 0; off + sizeof(struct multiboot_mmap) <= mb->mmap_length;) {
			const struct multiboot_mmap *e = (const void *)(p + off);
			boot_add_region(bi, e->addr, e->len, e->type);
			if (e->size < 20)
				break; /* malformed: would not advance sanely */
			off += e->size + 4;
		}
	} else if (mb->flags & MB_INFO_MEMORY) {
		boot_add_region(bi, 0, (uint64_t)mb->mem_lower << 10, BOOT_MEM_USABLE);
		boot_add_region(bi, 1ull << 20, (uint64_t)mb->mem_upper << 10, BOOT_MEM_USABLE);
	}
	return 0;
}

BOOT_PROTOCOL(BOOT_PROTO_MULTIBOOT, "multiboot", multiboot_parse);
