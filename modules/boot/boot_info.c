/* boot_info normalisation shared by all boot protocols. The loader's data is
 * treated as untrusted: counts are bounded, strings are length-limited, and
 * the memory map is sorted and made non-overlapping. */
#include <boot/boot_info.h>
#include <console/printk.h>
#include <lib/panic.h>
#include <lib/string.h>
#include <arch/memlayout.h>

KTABLE_DEFINE(struct boot_protocol, bootproto);

struct boot_info boot_info;

#define EARLY_MAP_LIMIT (4ull << 30) /* the boot page tables map 0..4 GiB */

const void *boot_phys(uint64_t pa, uint64_t len)
{
	if (pa == 0 || pa >= EARLY_MAP_LIMIT || len > EARLY_MAP_LIMIT - pa)
		return NULL;
	return phys_to_virt(pa);
}

void boot_add_region(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type)
{
	if (size == 0 || base + size < base)
		return;
	if (bi->nmem == BOOT_MAX_REGIONS) {
		printk(LOG_WARN, "boot: memory map has more than %d regions; ignoring the rest\n",
		       BOOT_MAX_REGIONS);
		return;
	}
	if (type < BOOT_MEM_USABLE || type > BOOT_MEM_BAD)
		type = BOOT_MEM_RESERVED;
	bi->mem[bi->nmem++] = (struct boot_mem_region){ base, size, type };
}

void boot_set_cmdline(struct boot_info *bi, uint64_t pa)
{
	/* Read byte by byte so a string near the end of the early map is safe. */
	size_t n = 0;
	for (; n < BOOT_CMDLINE_MAX - 1; n++) {
		const char *c = boot_phys(pa + n, 1);
		if (!c || !*c)
			break;
		bi->cmdline[n] = *c;
	}
	bi->cmdline[n] = 0;
	const char *c = boot_phys(pa + n, 1);
	bi->cmdline_truncated = n == BOOT_CMDLINE_MAX - 1 && c && *c;
}

/* Sort by base; where regions overlap, the more restrictive type wins, so usable
 * memory never covers something the firmware reserved. */
static void normalise(struct boot_info *bi)
{
	for (unsigned i = 1; i < bi->nmem; i++) {
		struct boot_mem_region r = bi->mem[i];
		unsigned j = i;
		for (; j > 0 && bi->mem[j - 1].base > r.base; j--)
			bi->mem[j] = bi->mem[j - 1];
		bi->mem[j] = r;
	}
	for (unsigned i = 0; i + 1 < bi->nmem;) {
		struct boot_mem_region *a = &bi->mem[i], *b = &bi->mem[i + 1];
		uint64_t a_end = a->base + a->size;
		if (a_end <= b->base) {
			/* Merge touching regions of the same type. */
			if (a_end == b->base && a->type == b->type) {
				a->size += b->size;
				memmove(b, b + 1, (bi->nmem - i - 2) * sizeof(*b));
				bi->nmem--;
				continue;
			}
			i++;
			continue;
		}
		/* Overlap: shrink the usable one (or the later one if both are equally strict). */
		if (a->type == BOOT_MEM_USABLE && b->type != BOOT_MEM_USABLE) {
			uint64_t b_end = b->base + b->size;
			a->size = b->base - a->base;
			if (a_end > b_end && bi->nmem < BOOT_MAX_REGIONS) {
				memmove(b + 2, b + 1, (bi->nmem - i - 2) * sizeof(*b));
				bi->nmem++;
				b[1] = (struct boot_mem_region){ b_end, a_end - b_end, BOOT_MEM_USABLE };
			}
		} else {
			uint64_t b_end = b->base + b->size;
			if (b_end <= a_end) {
				memmove(b, b + 1, (bi->nmem - i - 2) * sizeof(*b));
				bi->nmem--;
				continue;
			}
			b->size = b_end - a_end;
			b->base = a_end;
		}
		if (a->size == 0) {
			memmove(a, a + 1, (bi->nmem - i - 1) * sizeof(*a));
			bi->nmem--;
		}
	}
}

uint64_t boot_usable_memory(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < boot_info.nmem; i++)
		if (boot_info.mem[i].type == BOOT_MEM_USABLE)
			sum += boot_info.mem[i].size;
	return sum;
}

void boot_info_print(void)
{
	static const char *const types[] = { "?", "usable", "reserved", "ACPI", "ACPI NVS", "bad" };

	for (unsigned i = 0; i < boot_info.nmem; i++) {
		const struct boot_mem_region *m = &boot_info.mem[i];
		printk(LOG_DEBUG, "boot: [%#014lx-%#014lx] %s\n", (unsigned long)m->base,
		       (unsigned long)(m->base + m->size - 1), types[m->type]);
	}
	if (boot_info.initrd_size)
		printk(LOG_INFO, "boot: initrd at %#lx, %lu bytes\n", (unsigned long)boot_info.initrd_base,
		       (unsigned long)boot_info.initrd_size);
}

void boot_info_init(uint32_t protocol, uint32_t info_pa)
{
	const struct boot_protocol *p;

	ktable_foreach(p, bootproto) {
		if (p->id != protocol)
			continue;
		boot_info.protocol = p->name;
		if (p->parse(info_pa, &boot_info) < 0)
			panic("boot: unusable %s boot information at %#x", p->name, info_pa);
		normalise(&boot_info);
		if (boot_info.cmdline_truncated)
			printk(LOG_WARN, "boot: command line longer than %d bytes, truncated\n",
			       BOOT_CMDLINE_MAX - 1);
		if (boot_usable_memory() == 0)
			panic("boot: the %s memory map has no usable RAM", p->name);
		return;
	}
	panic("boot: entered through unknown boot protocol %u", protocol);
}
