#include <selftest/selftest.h>
#include <boot/boot_info.h>
#include <cmdline/cmdline.h>
#include <console/printk.h>
#include <lib/string.h>
#include <mm/page.h>

SELFTEST(memory_map, "boot.memory_map")
{
	ST_ASSERT(boot_info.nmem > 0);
	for (unsigned i = 1; i < boot_info.nmem; i++) {
		const struct boot_mem_region *a = &boot_info.mem[i - 1], *b = &boot_info.mem[i];
		ST_EXPECT(a->base + a->size <= b->base); /* sorted, no overlap */
	}
	ST_EXPECT(boot_usable_memory() >= (16ull << 20));
	ST_EXPECT(boot_info.protocol != NULL);
}

SELFTEST(cmdline, "boot.cmdline")
{
	/* We are running because of osvb.selftest=..., so it must be visible. */
	ST_EXPECT(cmdline_get("selftest") != NULL);
	ST_EXPECT(strstr(boot_info.cmdline, "osvb.selftest") != NULL);
	ST_EXPECT(cmdline_get("no-such-option") == NULL);
	ST_EXPECT_EQ(cmdline_get_int("no-such-option", 7), 7);
}

/* Needs an initrd (QEMU -initrd); prints its first bytes for the host to compare. */
SELFTEST_FLAGS(initrd, "boot.initrd", SELFTEST_EXPLICIT)
{
	char head[33];

	ST_ASSERT(boot_info.initrd_size > 0);
	size_t n = boot_info.initrd_size < 32 ? boot_info.initrd_size : 32;
	memcpy(head, phys_to_virt(boot_info.initrd_base), n);
	head[n] = 0;
	printk(LOG_EMERG, "boot.initrd: %lu bytes: %s\n", (unsigned long)boot_info.initrd_size, head);
	/* The initrd's pages are reserved: a burst of allocations never returns one. */
	paddr_t lo = ALIGN_DOWN(boot_info.initrd_base, PAGE_SIZE);
	paddr_t hi = boot_info.initrd_base + boot_info.initrd_size;
	for (int i = 0; i < 256; i++) {
		paddr_t pa = page_alloc_phys(0, PAGE_DMA32);
		ST_ASSERT(pa != 0);
		ST_EXPECT(pa + PAGE_SIZE <= lo || pa >= hi);
		page_free_phys(pa, 0);
	}
}
