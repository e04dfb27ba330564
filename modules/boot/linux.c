/* Linux/x86 boot protocol: struct boot_params ("zero page"), offsets as in
 * Documentation/x86/boot.rst and Linux's uapi/asm/bootparam.h. Filled by our own
 * real-mode setup (arch/linux.S) or, on the 64-bit entry, by the loader. */
#include <boot/boot_info.h>
#include <boot/linux.h>
#include <lib/string.h>

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

int linux_boot_params_parse(const uint8_t *bp, struct boot_info *bi)
{
	if (rd32(bp + BP_HDR_MAGIC) != LINUX_HDRS_MAGIC)
		return -1;
	/* The ext_ fields carry bits 32..63 (protocol 2.12's 64-bit loaders). */
	uint64_t cmdline = rd32(bp + BP_CMD_LINE_PTR) | (uint64_t)rd32(bp + BP_EXT_CMD_LINE_PTR) << 32;
	if (cmdline)
		boot_set_cmdline(bi, cmdline);
	uint64_t rd = rd32(bp + BP_RAMDISK_IMAGE) | (uint64_t)rd32(bp + BP_EXT_RAMDISK_IMAGE) << 32;
	uint64_t rdsz = rd32(bp + BP_RAMDISK_SIZE) | (uint64_t)rd32(bp + BP_EXT_RAMDISK_SIZE) << 32;
	if (rd && rdsz && rd + rdsz > rd) {
		bi->initrd_base = rd;
		bi->initrd_size = rdsz;
	}
	bi->rsdp = rd64(bp + BP_ACPI_RSDP_ADDR);
	unsigned n = bp[BP_E820_ENTRIES];
	if (n > LINUX_E820_MAX)
		n = LINUX_E820_MAX; /* the table has room for 128, whatever the count says */
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = bp + BP_E820_TABLE + i * 20;
		boot_add_region(bi, rd64(e), rd64(e + 8), rd32(e + 16));
	}
	return 0;
}

static int linux_parse(uint64_t pa, struct boot_info *bi)
{
	const uint8_t *bp = boot_phys(pa, BOOT_PARAMS_SIZE);

	if (!bp)
		return -1;
	return linux_boot_params_parse(bp, bi);
}

BOOT_PROTOCOL(BOOT_PROTO_LINUX, "linux", linux_parse);
