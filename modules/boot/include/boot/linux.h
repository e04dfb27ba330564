/* struct boot_params (the Linux/x86 "zero page"): the offsets osvb reads. */
#ifndef BOOT_LINUX_H
#define BOOT_LINUX_H

#include <stdint.h>

struct boot_info;

#define BOOT_PARAMS_SIZE 4096
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_HDR_MAGIC 0x202 /* "HdrS" in the copied setup header */
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_E820_TABLE 0x2d0 /* 128 packed entries of { u64 addr, u64 size, u32 type } */
#define LINUX_E820_MAX 128
#define LINUX_HDRS_MAGIC 0x53726448u /* "HdrS" */

/* Fill bi from a boot_params image (4096 bytes). Returns 0, or -1 when it is
 * not one (no setup header magic). Exposed for the self-test's byte vectors. */
int linux_boot_params_parse(const uint8_t *bp, struct boot_info *bi);

#endif
