/* struct boot_params parsing against byte vectors laid out as in
 * Documentation/x86/boot.rst (zero page offsets), including the 64-bit
 * loaders' ext_ fields and a bogus E820 count. */
#include <selftest/selftest.h>
#include <boot/boot_info.h>
#include <boot/linux.h>
#include <lib/string.h>

#ifdef CONFIG_BOOT_LINUX
static uint8_t bp[BOOT_PARAMS_SIZE];
static struct boot_info bi;

static void put32(unsigned off, uint32_t v)
{
	memcpy(bp + off, &v, 4);
}

static void put64(unsigned off, uint64_t v)
{
	memcpy(bp + off, &v, 8);
}

static void e820(unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
	put64(BP_E820_TABLE + i * 20, addr);
	put64(BP_E820_TABLE + i * 20 + 8, size);
	put32(BP_E820_TABLE + i * 20 + 16, type);
}

SELFTEST(linux_params, "boot.linux_params")
{
	memset(bp, 0, sizeof(bp));
	memset(&bi, 0, sizeof(bi));
	ST_EXPECT_EQ(linux_boot_params_parse(bp, &bi), -1); /* no "HdrS" */

	memcpy(bp + BP_HDR_MAGIC, "HdrS", 4);
	put32(BP_RAMDISK_IMAGE, 0x00200000);
	put32(BP_EXT_RAMDISK_IMAGE, 1);
	put32(BP_RAMDISK_SIZE, 0x1234);
	put64(BP_ACPI_RSDP_ADDR, 0xf5a40);
	e820(0, 0, 0x9fc00, 1);
	e820(1, 0x9fc00, 0x400, 2);
	e820(2, 0x100000, 0x7ee0000, 1);
	e820(3, 0xfeffc000, 0x4000, 2);
	bp[BP_E820_ENTRIES] = 200; /* a loader's bad count: only the table's 128 slots are read */
	ST_ASSERT(linux_boot_params_parse(bp, &bi) == 0);
	ST_EXPECT_EQ(bi.initrd_base, 0x100200000ull);
	ST_EXPECT_EQ(bi.initrd_size, 0x1234);
	ST_EXPECT_EQ(bi.rsdp, 0xf5a40);
	ST_EXPECT_EQ(bi.nmem, 4); /* the zero-sized slots add nothing */
	ST_EXPECT_EQ(bi.mem[2].base, 0x100000);
	ST_EXPECT_EQ(bi.mem[2].size, 0x7ee0000);
	ST_EXPECT_EQ(bi.mem[3].type, BOOT_MEM_RESERVED);
	ST_EXPECT_EQ(bi.cmdline[0], 0); /* cmd_line_ptr 0: no command line */

	/* An initrd whose end wraps around is dropped, not trusted. */
	memset(&bi, 0, sizeof(bi));
	put32(BP_EXT_RAMDISK_IMAGE, 0xffffffff);
	put32(BP_RAMDISK_IMAGE, 0xfffff000);
	put32(BP_EXT_RAMDISK_SIZE, 1);
	ST_ASSERT(linux_boot_params_parse(bp, &bi) == 0);
	ST_EXPECT_EQ(bi.initrd_size, 0);
}
#endif
