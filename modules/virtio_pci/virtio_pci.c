/* virtio-pci: the PCI driver for vendor 0x1af4 devices, and the interrupt
 * setup both register layouts share (MSI-X per queue, else one shared MSI-X
 * vector, else INTx with the ISR register). */
#include "virtio_pci.h"
#include <console/printk.h>
#include <lib/errno.h>
#include <mm/kmalloc.h>

static void vq_irq(void *arg)
{
	vring_interrupt(arg);
}

/* Every queue of the device: one shared vector or INTx. */
static void all_irq(void *arg)
{
	struct vp_dev *vp = arg;
	for (unsigned i = 0; i < vp->nvqs; i++)
		vring_interrupt(vp->vqs[i]);
}

static void intx_irq(void *arg)
{
	struct vp_dev *vp = arg;
	/* Reading the ISR acknowledges (and lowers the line). */
	if (vp->read_isr(vp) & 1)
		all_irq(vp);
}

static void config_irq(void *arg)
{
	struct vp_dev *vp = arg;
	pr_info("virtio%u: configuration changed\n", vp->vdev.index);
}

int vp_setup_irqs(struct vp_dev *vp, unsigned n, uint16_t (*set_vector)(struct vp_dev *, int queue, uint16_t vec))
{
	struct pci_dev *pd = vp->pci;
	int size = pci_msix_enable(pd);
	if (size >= (int)n + 1) {
		/* Entry 0: config changes; entry i+1: queue i. */
		bool ok = pci_msix_attach(pd, 0, config_irq, vp) >= 0 && set_vector(vp, -1, 0) == 0;
		for (unsigned i = 0; ok && i < n; i++)
			ok = pci_msix_attach(pd, i + 1, vq_irq, vp->vqs[i]) >= 0 && set_vector(vp, i, i + 1) == i + 1;
		if (ok) {
			vp->msix = true;
			return 0;
		}
	} else if (size >= 2) {
		bool ok = pci_msix_attach(pd, 0, config_irq, vp) >= 0 && set_vector(vp, -1, 0) == 0 &&
			  pci_msix_attach(pd, 1, all_irq, vp) >= 0;
		for (unsigned i = 0; ok && i < n; i++)
			ok = set_vector(vp, i, 1) == 1;
		if (ok) {
			vp->msix = true;
			return 0;
		}
	}
	if (size > 0) {
		pr_warn("virtio%u: MSI-X setup failed; using INTx\n", vp->vdev.index);
		pci_msix_disable(pd);
	}
	/* Without MSI-X, the legacy register layout moves back (the caller
	 * reads vp->msix); the device must also be told "no vector". */
	set_vector(vp, -1, VP_NO_VECTOR);
	for (unsigned i = 0; i < n; i++)
		set_vector(vp, i, VP_NO_VECTOR);
	int r = pci_intx_attach(pd, intx_irq, vp);
	if (r < 0)
		pr_err("virtio%u: no interrupt (error %d)\n", vp->vdev.index, r);
	return r < 0 ? r : 0;
}

static int vp_probe(struct pci_dev *pd, const struct pci_id *id)
{
	(void)id;
	if (pd->device < 0x1000 || pd->device > 0x107f)
		return -ENODEV; /* another Red Hat device (ivshmem...) */
	struct vp_dev *vp = kzalloc(sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->pci = pd;
	pd->priv = vp;
	pci_enable(pd);
	/* 0x1040+: modern-only, id = device - 0x1040. 0x1000-0x103f:
	 * transitional, id from the subsystem id; modern when it has the
	 * capabilities, else legacy. */
	vp->vdev.id = pd->device >= 0x1040 ? pd->device - 0x1040u : pd->subsys_device;
	int r = vp_modern_probe(vp);
	if (r == -ENODEV && pd->device < 0x1040)
		r = vp_legacy_probe(vp);
	if (r) {
		kfree(vp);
		pd->priv = NULL;
		return r;
	}
	return virtio_register_device(&vp->vdev);
}

static const struct pci_id vp_ids[] = {
	PCI_ID_DEV(0x1af4, PCI_ANY),
	{ 0, 0, 0, 0 },
};

PCI_DRIVER(virtio_pci) = {
	.name = "virtio-pci",
	.ids = vp_ids,
	.probe = vp_probe,
};
