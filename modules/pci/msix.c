/* Interrupts of PCI devices: MSI-X (a vector per table entry, delivered to the
 * boot CPU's local APIC) and legacy INTx through the I/O APIC. */
#include "pci_internal.h"
#include <console/printk.h>
#include <irq/lapic.h>
#include <lib/errno.h>

#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_CTRL_ENABLE (1u << 15)
#define MSIX_CTRL_MASKALL (1u << 14)
#define MSIX_ENTRY_CTRL_MASKED 1u

int pci_msix_enable(struct pci_dev *d)
{
	unsigned cap = pci_find_cap(d, PCI_CAP_MSIX, 0);
	if (!cap)
		return -ENODEV;
	uint16_t ctrl = pci_read16(d, cap + MSIX_CTRL);
	unsigned size = (ctrl & 0x7ff) + 1;
	uint32_t tbl = pci_read32(d, cap + MSIX_TABLE);
	unsigned bir = tbl & 7;
	uint32_t off = tbl & ~7u;
	volatile uint32_t *t = pci_map_bar(d, bir, off, size * 16);
	if (!t) {
		pr_warn("pci: %02x:%02x.%u: MSI-X table outside BAR %u\n", d->bus, d->slot, d->func, bir);
		return -EINVAL;
	}
	d->msix_cap = cap;
	d->msix_size = size;
	d->msix_table = t;
	for (unsigned i = 0; i < size; i++)
		t[i * 4 + 3] = MSIX_ENTRY_CTRL_MASKED;
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
	pci_write16(d, cap + MSIX_CTRL, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASKALL);
	d->msix_on = true;
	return size;
}

int pci_msix_attach(struct pci_dev *d, unsigned entry, irq_handler_t fn, void *arg)
{
	if (!d->msix_on || entry >= d->msix_size)
		return -EINVAL;
	int v = irq_alloc_vector(fn, arg);
	if (v < 0)
		return v;
	volatile uint32_t *e = d->msix_table + entry * 4;
	e[0] = 0xfee00000u | (lapic_id() & 0xff) << 12; /* fixed delivery, physical destination */
	e[1] = 0;
	e[2] = v;
	e[3] = 0; /* unmask */
	return v;
}

void pci_msix_disable(struct pci_dev *d)
{
	if (!d->msix_on)
		return;
	uint16_t ctrl = pci_read16(d, d->msix_cap + MSIX_CTRL);
	pci_write16(d, d->msix_cap + MSIX_CTRL, ctrl & ~MSIX_CTRL_ENABLE);
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	d->msix_on = false;
}

int pci_intx_attach(struct pci_dev *d, irq_handler_t fn, void *arg)
{
	if (!d->irq_pin || d->irq_line == 0xff)
		return -ENODEV;
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	/* The firmware wrote the ISA IRQ the pin is routed to; the MADT's
	 * overrides make those level-triggered. Lines past 15 are I/O APIC pins. */
	if (d->irq_line < 16)
		return irq_attach_isa(d->irq_line, fn, arg);
	return irq_attach(d->irq_line, IRQ_LEVEL | IRQ_ACTIVE_LOW, fn, arg);
}
