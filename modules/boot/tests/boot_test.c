#include <selftest/selftest.h>
#include <boot/boot_info.h>
#include <cmdline/cmdline.h>
#include <lib/string.h>

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
