/* virtio-mmio devices described in the DSDT, without an AML interpreter.
 * QEMU (microvm) and Firecracker declare each as
 *   Device (VRnn) { Name (_HID, "LNRO0005") ... Name (_CRS, ResourceTemplate () {
 *       Memory32Fixed (ReadWrite, BASE, SIZE)
 *       Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) { IRQ } }) }
 * so after each "LNRO0005" string we look for those two resource
 * descriptors (ACPI 6.5 sections 6.4.3.4 and 6.4.3.6), up to the next device's
 * _HID. Anything not of that shape is skipped. */
#include "virtio_mmio.h"
#include <acpi/acpi.h>
#include <console/printk.h>
#include <lib/string.h>

#define HID "LNRO0005"
#define WINDOW 256 /* bytes after the _HID the resources must lie within */

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

void virtio_mmio_acpi_scan(void)
{
	const struct acpi_header *dsdt = acpi_find_table("DSDT", 0);
	if (!dsdt || dsdt->length <= sizeof(*dsdt))
		return;
	const uint8_t *aml = (const uint8_t *)dsdt, *end = aml + dsdt->length;
	size_t hl = strlen(HID);

	for (const uint8_t *p = aml + sizeof(*dsdt); p + hl <= end; p++) {
		if (memcmp(p, HID, hl))
			continue;
		const uint8_t *q = p + hl, *stop = q + WINDOW < end ? q + WINDOW : end;
		const uint8_t *mem = NULL, *irq = NULL;
		for (; q < stop; q++) {
			if (q + hl <= end && !memcmp(q, HID, hl))
				break; /* the next device */
			/* Memory32Fixed: tag 0x86, length 9. */
			if (!mem && q + 12 <= stop && q[0] == 0x86 && q[1] == 9 && q[2] == 0)
				mem = q;
			/* Extended Interrupt: tag 0x89, length >= 6, one or more IRQs. */
			if (mem && q > mem && q + 9 <= stop && q[0] == 0x89 && q[1] >= 6 && q[2] == 0 && q[4] >= 1) {
				irq = q;
				break;
			}
		}
		if (!mem || !irq) {
			pr_warn("virtio-mmio: ACPI device %s at DSDT offset %u without memory and interrupt\n", HID,
				(unsigned)(p - aml));
			continue;
		}
		uint32_t base = le32(mem + 4), size = le32(mem + 8), gsi = le32(irq + 5);
		/* Flags bit 1: edge (1) or level (0); QEMU and Firecracker use level, active high. */
		virtio_mmio_probe(base, size, gsi, "ACPI");
		p = irq;
	}
}
