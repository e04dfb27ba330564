/* ACPI static tables (no AML interpreter): found once at boot, checksummed,
 * mapped, and looked up by signature. */
#ifndef ACPI_ACPI_H
#define ACPI_ACPI_H

#include <stdint.h>
#include <lib/compiler.h>
#include <arch/memlayout.h>

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;

/* Generic Address Structure. */
struct acpi_gas {
	uint8_t space_id; /* 0 memory, 1 I/O port */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __packed;

#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO 1

/* Find the RSDP and index the tables of the RSDT/XSDT. */
void acpi_init(void);
/* The n-th table (0-based) with this 4-character signature, mapped and
 * checksum-verified; NULL when absent. The DSDT is found as "DSDT". */
const struct acpi_header *acpi_find_table(const char *sig, unsigned n);
/* Physical address of the RSDP (0 when the platform has no ACPI). */
paddr_t acpi_rsdp(void);

#endif
