/* The ACPI power button: how `osvb stop` (QEMU's system_powerdown) asks the
 * guest to stop. Full ACPI (pc, q35) raises PWRBTN_STS in the PM1 event block
 * and the SCI; hardware-reduced ACPI (microvm) raises an interrupt of the
 * Generic Event Device (ACPI0013), whose event register (ESEL) has bit 1 set.
 * There is no AML interpreter: the GED's interrupt and register are found by
 * a bounded byte search of the DSDT, which QEMU encodes the plain way. Either
 * way the press becomes shutdown_request(). */
#include <shutdown/shutdown.h>
#include <acpi/acpi.h>
#include <acpi/tables.h>
#include <arch/io.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <irq/irq.h>
#include <lib/string.h>
#include <mm/vmap.h>

#define PWRBTN (1u << 8) /* PM1 status and enable bit */
#define SCI_EN 1u        /* PM1 control */
#define GED_PWR_DOWN (1u << 1)
#define GED_SCAN 512     /* bytes after "ACPI0013" that may hold its resources */

static uint16_t pm1a_sts, pm1a_en;
static volatile uint32_t *ged_esel;

static void pm1_sci(void *arg)
{
	(void)arg;
	uint16_t sts = inw(pm1a_sts);
	if (!(sts & PWRBTN))
		return;
	outw(pm1a_sts, PWRBTN); /* write 1 to clear, before the (level) SCI's EOI */
	shutdown_request();
}

static void ged_irq(void *arg)
{
	(void)arg;
	if (*ged_esel & GED_PWR_DOWN) /* reading clears the events */
		shutdown_request();
}

static int pm1_init(const struct acpi_fadt *f)
{
	if (!f->pm1a_evt_blk || f->pm1_evt_len < 4 || f->pm1a_evt_blk > 0xffffu - f->pm1_evt_len || !f->sci_int)
		return 0;
	/* Firmware (or none, with PVH) may leave ACPI in legacy mode: enable it. */
	if (f->smi_cmd && f->acpi_enable && f->pm1a_cnt_blk && !(inw(f->pm1a_cnt_blk) & SCI_EN)) {
		outb(f->smi_cmd, f->acpi_enable);
		for (int i = 0; i < 100000 && !(inw(f->pm1a_cnt_blk) & SCI_EN); i++)
			__asm__ __volatile__("pause");
	}
	pm1a_sts = f->pm1a_evt_blk;
	pm1a_en = f->pm1a_evt_blk + f->pm1_evt_len / 2;
	outw(pm1a_sts, PWRBTN);
	int v = irq_attach_isa(f->sci_int, pm1_sci, NULL);
	if (v < 0)
		return v;
	outw(pm1a_en, inw(pm1a_en) | PWRBTN);
	return 0;
}

/* An AML integer constant (BytePrefix, WordPrefix, DWordPrefix, QWordPrefix). */
static bool aml_const(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	static const uint8_t sizes[] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8 };
	if (p >= end || *p > 0x0e || !sizes[*p] || p + 1 + sizes[*p] > end)
		return false;
	*v = 0;
	for (int i = sizes[*p]; i > 0; i--)
		*v = *v << 8 | p[i];
	return true;
}

/* The GED's interrupt (an Extended Interrupt descriptor in its _CRS) and its
 * event register (OperationRegion EREG in SystemMemory). */
static bool find_ged(unsigned *gsi, uint64_t *esel)
{
	const struct acpi_header *dsdt = acpi_find_table("DSDT", 0);
	if (!dsdt || dsdt->length <= sizeof(*dsdt))
		return false;
	const uint8_t *start = (const uint8_t *)(dsdt + 1), *end = (const uint8_t *)dsdt + dsdt->length;
	const uint8_t *p = start;
	while (p + 8 <= end && memcmp(p, "ACPI0013", 8))
		p++;
	if (p + 8 > end)
		return false;
	const uint8_t *lim = end - p > GED_SCAN ? p + GED_SCAN : end;
	bool have_irq = false, have_reg = false;
	for (const uint8_t *q = p; q < lim; q++) {
		/* 0x89, length 6 (little endian), flags, one interrupt, DWORD GSI */
		if (!have_irq && q + 9 <= lim && q[0] == 0x89 && q[1] == 6 && q[2] == 0 && q[4] >= 1) {
			*gsi = q[5] | q[6] << 8 | q[7] << 16 | (uint32_t)q[8] << 24;
			have_irq = *gsi < 256;
		}
		/* OperationRegion (0x5b 0x80) EREG, SystemMemory (0), address */
		if (!have_reg && q + 7 <= lim && q[0] == 0x5b && q[1] == 0x80 && !memcmp(q + 2, "EREG", 4) &&
		    q[6] == 0)
			have_reg = aml_const(q + 7, lim, esel);
	}
	return have_irq && have_reg;
}

static int ged_init(void)
{
	unsigned gsi = 0;
	uint64_t esel = 0;
	if (!find_ged(&gsi, &esel))
		return 0;
	ged_esel = ioremap(esel, 4);
	if (!ged_esel)
		return -1;
	int v = irq_attach(gsi, IRQ_EDGE | IRQ_ACTIVE_HIGH, ged_irq, NULL);
	return v < 0 ? v : 0;
}

static int acpi_button_init(void)
{
	const struct acpi_fadt *f = (const void *)acpi_find_table("FACP", 0);
	if (!f || f->h.length < 116)
		return 0;
	int r = (f->flags & ACPI_FADT_HW_REDUCED) ? ged_init() : pm1_init(f);
	if (r < 0)
		printk(LOG_WARN, "osvb: ACPI power button unavailable (%d): osvb stop will force\n", r);
	return 0;
}
INITCALL(INIT_DEVICE, acpi_button_init);
