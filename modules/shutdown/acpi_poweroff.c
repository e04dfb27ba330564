/* ACPI S5 poweroff, for platforms without isa-debug-exit. Hardware-reduced
 * ACPI (microvm) uses the FADT's sleep control register; the rest PM1 control
 * blocks. The S5 sleep type comes from the DSDT's \_S5 package, found by a
 * byte search (there is no AML interpreter); QEMU and most firmware encode it
 * the simple way this parser reads. */
#include <shutdown/shutdown.h>
#include <acpi/acpi.h>
#include <acpi/tables.h>
#include <arch/io.h>
#include <lib/string.h>
#include <mm/vmap.h>

#define SLP_EN_PM1 (1u << 13)
#define SLP_EN_HWR (1u << 5)

/* One integer of a package: ZeroOp, OneOp, BytePrefix, WordPrefix. Returns the
 * encoded length, 0 when unsupported. */
static int aml_int(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
	if (p >= end)
		return 0;
	switch (p[0]) {
	case 0x00:
		*v = 0;
		return 1;
	case 0x01:
		*v = 1;
		return 1;
	case 0x0a:
		if (p + 2 > end)
			return 0;
		*v = p[1];
		return 2;
	case 0x0b:
		if (p + 3 > end)
			return 0;
		*v = p[1] | p[2] << 8;
		return 3;
	default:
		return 0;
	}
}

static int find_s5(uint32_t *typa, uint32_t *typb)
{
	const struct acpi_header *dsdt = acpi_find_table("DSDT", 0);
	if (!dsdt)
		return -1;
	const uint8_t *p = (const uint8_t *)(dsdt + 1), *end = (const uint8_t *)dsdt + dsdt->length;

	for (; p + 4 <= end; p++) {
		if (memcmp(p, "_S5_", 4))
			continue;
		/* NameOp ("\" optional) _S5_ PackageOp PkgLength NumElements elements... */
		bool named = (p >= (const uint8_t *)(dsdt + 1) + 1 && p[-1] == 0x08) ||
			     (p >= (const uint8_t *)(dsdt + 1) + 2 && p[-1] == '\\' && p[-2] == 0x08);
		const uint8_t *q = p + 4;
		if (!named || q >= end || *q != 0x12)
			continue;
		q++;
		if (q >= end)
			return -1;
		q += 1 + (*q >> 6); /* PkgLength: extra bytes in bits 6-7 */
		q++;                /* NumElements */
		int n = aml_int(q, end, typa);
		if (!n)
			return -1;
		if (!aml_int(q + n, end, typb))
			*typb = *typa;
		return 0;
	}
	return -1;
}

static void gas_write(const struct acpi_gas *g, uint32_t v)
{
	if (g->space_id == ACPI_GAS_IO) {
		if (g->bit_width == 8)
			outb(g->address, v);
		else
			outw(g->address, v);
	} else if (g->space_id == ACPI_GAS_MEMORY) {
		volatile uint8_t *m = ioremap(g->address, 4);
		if (m)
			*m = v;
	}
}

static void acpi_poweroff(void)
{
	const struct acpi_fadt *f = (const void *)acpi_find_table("FACP", 0);
	uint32_t typa, typb;

	if (!f || f->h.length < 116 || find_s5(&typa, &typb))
		return;
	if ((f->flags & ACPI_FADT_HW_REDUCED) && f->h.length >= 256 && f->sleep_control_reg.address) {
		gas_write(&f->sleep_control_reg, ((typa & 7) << 2) | SLP_EN_HWR);
		return;
	}
	/* Firmware may leave ACPI in legacy (SMM) mode: enable it first. */
	if (f->smi_cmd && f->acpi_enable && f->pm1a_cnt_blk && !(inw(f->pm1a_cnt_blk) & 1)) {
		outb(f->smi_cmd, f->acpi_enable);
		for (int i = 0; i < 100000 && !(inw(f->pm1a_cnt_blk) & 1); i++)
			__asm__ __volatile__("pause");
	}
	if (f->pm1a_cnt_blk)
		outw(f->pm1a_cnt_blk, (inw(f->pm1a_cnt_blk) & 0x203) | (typa & 7) << 10 | SLP_EN_PM1);
	if (f->pm1b_cnt_blk)
		outw(f->pm1b_cnt_blk, (inw(f->pm1b_cnt_blk) & 0x203) | (typb & 7) << 10 | SLP_EN_PM1);
}

POWEROFF_METHOD(5, "acpi", acpi_poweroff);
