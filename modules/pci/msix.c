/* Interrupts of PCI devices: MSI-X (a vector per table entry, delivered to the
 * boot CPU's local APIC) and legacy INTx through the I/O APIC. */
#include "pci_internal.h"
#include <console/printk.h>
#include <irq/lapic.h>
#include <arch/spinlock.h>
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

/* INTx lines are shared (four pins over a few IRQs): one dispatcher per line
 * calls every handler on it; each checks whether its device interrupted. */
#define INTX_LINES 8
#define INTX_PER_LINE 8

struct intx_line {
	unsigned line;
	int vector;
	unsigned n;
	struct {
		irq_handler_t fn;
		void *arg;
	} h[INTX_PER_LINE];
};

static struct intx_line intx[INTX_LINES];
static unsigned nintx;
static spinlock_t intx_lock = SPINLOCK_INIT;

static void intx_dispatch(void *arg)
{
	struct intx_line *l = arg;
	for (unsigned i = 0; i < l->n; i++)
		l->h[i].fn(l->h[i].arg);
}

int pci_intx_attach(struct pci_dev *d, irq_handler_t fn, void *arg)
{
	if (!d->irq_pin || d->irq_line == 0xff)
		return -ENODEV;
	uint64_t f = spin_lock_irqsave(&intx_lock);
	struct intx_line *l = NULL;
	for (unsigned i = 0; i < nintx; i++)
		if (intx[i].line == d->irq_line)
			l = &intx[i];
	int r = 0;
	if (!l) {
		if (nintx == INTX_LINES) {
			r = -ENOSPC;
			goto out;
		}
		l = &intx[nintx];
		l->line = d->irq_line;
		l->n = 0;
		/* The firmware wrote the ISA IRQ the pin is routed to; the MADT's
		 * overrides make those level-triggered. Lines past 15 are I/O APIC pins. */
		r = d->irq_line < 16 ? irq_attach_isa(d->irq_line, intx_dispatch, l)
				     : irq_attach(d->irq_line, IRQ_LEVEL | IRQ_ACTIVE_LOW, intx_dispatch, l);
		if (r < 0)
			goto out;
		l->vector = r;
		nintx++;
	}
	if (l->n == INTX_PER_LINE) {
		r = -ENOSPC;
		goto out;
	}
	l->h[l->n].fn = fn;
	l->h[l->n].arg = arg;
	__atomic_store_n(&l->n, l->n + 1, __ATOMIC_RELEASE);
	r = l->vector;
out:
	spin_unlock_irqrestore(&intx_lock, f);
	if (r >= 0)
		pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	return r;
}
