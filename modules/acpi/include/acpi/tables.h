/* Layouts of the ACPI tables the kernel reads. */
#ifndef ACPI_TABLES_H
#define ACPI_TABLES_H

#include <acpi/acpi.h>

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags; /* offset 112 */
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt; /* offset 140 */
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg; /* offset 244 */
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __packed;

#define ACPI_FADT_HW_REDUCED (1u << 20)

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags; /* bit 0: dual 8259 PICs present */
	uint8_t entries[];
} __packed;

enum {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_ISO = 2,        /* interrupt source override */
	MADT_NMI_SRC = 3,
	MADT_LAPIC_NMI = 4,
	MADT_LAPIC_ADDR = 5, /* 64-bit local APIC address override */
	MADT_X2APIC = 9,
};

struct madt_entry {
	uint8_t type;
	uint8_t length;
} __packed;

struct madt_lapic {
	struct madt_entry e;
	uint8_t acpi_id;
	uint8_t apic_id;
	uint32_t flags; /* bit 0 enabled, bit 1 online-capable */
} __packed;

struct madt_ioapic {
	struct madt_entry e;
	uint8_t id;
	uint8_t reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __packed;

struct madt_iso {
	struct madt_entry e;
	uint8_t bus;
	uint8_t source; /* ISA IRQ */
	uint32_t gsi;
	uint16_t flags; /* polarity bits 0-1, trigger bits 2-3 */
} __packed;

struct madt_lapic_addr {
	struct madt_entry e;
	uint16_t reserved;
	uint64_t addr;
} __packed;

#endif
