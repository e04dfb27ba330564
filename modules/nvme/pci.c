/*
 * NVMe over PCI: class 01:08:02 (mass storage, NVM, NVM Express). BAR0 holds
 * the registers and doorbells; each I/O queue gets its own MSI-X entry
 * (entry 0 stays with the admin queue, which the driver polls); without
 * MSI-X every queue shares the INTx line.
 */
#include <console/printk.h>
#include <lib/errno.h>
#include <mm/kmalloc.h>
#include <block/block.h>
#include <pci/pci.h>
#include "nvme_ctrl.h"

#define NVME_PCI_CLASS 0x010802
/* Registers and the doorbells of NVME_MAX_IOQ queue pairs at the usual stride
 * (larger strides get fewer queues: core.c keeps doorbells inside this). */
#define NVME_PCI_MAP 0x2000

static int pci_setup_irqs(struct nvme_ctrl *c)
{
	struct pci_dev *d = c->transport;
	int size = pci_msix_enable(d);

	if (size >= 2) {
		/* Fewer entries than queues: use only as many queues as entries. */
		if ((unsigned)size - 1u < c->nr_ioq)
			c->nr_ioq = (unsigned)size - 1u;
		for (unsigned i = 0; i < c->nr_ioq; i++)
			c->irq_entry[i] = (int)i + 1;
		return 0;
	}
	if (size > 0)
		pci_msix_disable(d);
	void *arg;
	irq_handler_t fn;
	nvme_ctrl_irq_shared(c, &arg, &fn);
	int v = pci_intx_attach(d, fn, arg);
	if (v < 0) {
		pr_err("nvme%u: neither MSI-X nor INTx (%d)\n", c->instance, v);
		return v;
	}
	/* Every CQ raises the one line: MSI-X entry 0 means "the INTx pin" then. */
	for (unsigned i = 0; i < c->nr_ioq; i++)
		c->irq_entry[i] = 0;
	return 0;
}

static int pci_attach_irq(struct nvme_ctrl *c, unsigned entry, irq_handler_t fn, void *arg)
{
	struct pci_dev *d = c->transport;
	if (!d->msix_on)
		return -1; /* INTx: the shared handler is already in place */
	return pci_msix_attach(d, entry, fn, arg);
}

static const struct nvme_ctrl_ops pci_ops = {
	.setup_irqs = pci_setup_irqs,
	.attach_irq = pci_attach_irq,
};

static int nvme_pci_probe(struct pci_dev *d, const struct pci_id *id __unused)
{
	if (d->bar[0].io || d->bar[0].size < NVME_PCI_MAP)
		return -ENODEV;
	struct nvme_ctrl *c = kzalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	pci_enable(d);
	c->ops = &pci_ops;
	c->transport = d;
	c->regs_len = NVME_PCI_MAP;
	c->regs = pci_map_bar(d, 0, 0, NVME_PCI_MAP);
	int r = c->regs ? nvme_ctrl_init(c, blk_nr_cpus()) : -ENOMEM;
	if (r == 0)
		r = nvme_ns_register(c);
	if (r) {
		/* A half-initialised controller stays disabled; its memory is kept
		 * (queues may be mapped by the device until the disable took). */
		return r;
	}
	d->priv = c;
	return 0;
}

static const struct pci_id nvme_pci_ids[] = {
	PCI_ID_CLASS(NVME_PCI_CLASS, 0xffffff),
	{ 0, 0, 0, 0 },
};

PCI_DRIVER(nvme) = {
	.name = "nvme",
	.ids = nvme_pci_ids,
	.probe = nvme_pci_probe,
};
