/* Legacy virtio-pci (virtio 1.x section 4.1.4.8): registers in I/O BAR 0,
 * 32 feature bits, queues of the device's fixed size at a page frame number,
 * rings laid out with 4 KiB alignment. The device-specific configuration
 * moves from offset 20 to 24 while MSI-X is enabled. */
#include "virtio_pci.h"
#include <arch/io.h>
#include <lib/errno.h>

#define L_HOST_FEATURES 0
#define L_GUEST_FEATURES 4
#define L_QPFN 8
#define L_QSIZE 12
#define L_QSELECT 14
#define L_QNOTIFY 16
#define L_STATUS 18
#define L_ISR 19
#define L_CONFIG_VECTOR 20
#define L_QUEUE_VECTOR 22

static unsigned cfg_base(struct vp_dev *vp)
{
	return vp->pci->msix_on ? 24 : 20;
}

static uint8_t l_get_status(struct virtio_device *v)
{
	return inb(to_vp(v)->io + L_STATUS);
}

static void l_set_status(struct virtio_device *v, uint8_t s)
{
	outb(to_vp(v)->io + L_STATUS, s);
}

static void l_reset(struct virtio_device *v)
{
	outb(to_vp(v)->io + L_STATUS, 0);
	(void)inb(to_vp(v)->io + L_ISR); /* flush, and drop a pending interrupt */
}

static uint64_t l_get_features(struct virtio_device *v)
{
	return inl(to_vp(v)->io + L_HOST_FEATURES);
}

static void l_set_features(struct virtio_device *v, uint64_t f)
{
	outl(to_vp(v)->io + L_GUEST_FEATURES, (uint32_t)f);
}

static void l_read_config(struct virtio_device *v, unsigned off, void *buf, unsigned len)
{
	struct vp_dev *vp = to_vp(v);
	uint8_t *b = buf;
	for (unsigned i = 0; i < len; i++)
		b[i] = inb(vp->io + cfg_base(vp) + off + i);
}

static void l_write_config(struct virtio_device *v, unsigned off, const void *buf, unsigned len)
{
	struct vp_dev *vp = to_vp(v);
	const uint8_t *b = buf;
	for (unsigned i = 0; i < len; i++)
		outb(vp->io + cfg_base(vp) + off + i, b[i]);
}

static unsigned l_max_vqs(struct virtio_device *v)
{
	(void)v;
	return 0; /* legacy devices do not say */
}

static void l_notify(struct virtqueue *vq)
{
	struct vp_dev *vp = vq->transport;
	outw(vp->io + L_QNOTIFY, vq->index);
}

static uint16_t l_set_vector(struct vp_dev *vp, int queue, uint16_t vec)
{
	if (!vp->pci->msix_on)
		return vec == VP_NO_VECTOR ? vec : VP_NO_VECTOR; /* the registers are not there */
	if (queue < 0) {
		outw(vp->io + L_CONFIG_VECTOR, vec);
		return inw(vp->io + L_CONFIG_VECTOR);
	}
	outw(vp->io + L_QSELECT, queue);
	outw(vp->io + L_QUEUE_VECTOR, vec);
	return inw(vp->io + L_QUEUE_VECTOR);
}

static uint8_t l_read_isr(struct vp_dev *vp)
{
	return inb(vp->io + L_ISR);
}

static int l_find_vqs(struct virtio_device *v, unsigned n, struct virtqueue *vqs[], const vq_callback_t cbs[])
{
	struct vp_dev *vp = to_vp(v);
	if (n > VP_MAX_VQS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		outw(vp->io + L_QSELECT, i);
		unsigned size = inw(vp->io + L_QSIZE);
		if (!size || inl(vp->io + L_QPFN))
			return -ENOENT;
		/* The size is fixed by the device and must be a power of two. */
		struct virtqueue *vq = vring_new(v, i, size, 4096, l_notify, cbs[i]);
		if (!vq)
			return -ENOMEM;
		vq->transport = vp;
		outl(vp->io + L_QPFN, (uint32_t)(vq->desc_pa >> 12));
		vp->vqs[i] = vqs[i] = vq;
	}
	vp->nvqs = n;
	return vp_setup_irqs(vp, n, l_set_vector);
}

static const struct virtio_config_ops legacy_ops = {
	.get_status = l_get_status,
	.set_status = l_set_status,
	.reset = l_reset,
	.get_features = l_get_features,
	.set_features = l_set_features,
	.read_config = l_read_config,
	.write_config = l_write_config,
	.max_vqs = l_max_vqs,
	.find_vqs = l_find_vqs,
};

int vp_legacy_probe(struct vp_dev *vp)
{
	struct pci_bar *b = &vp->pci->bar[0];
	if (!b->io || !b->addr || b->size < 24)
		return -ENODEV;
	vp->io = b->addr;
	vp->read_isr = l_read_isr;
	vp->vdev.config = &legacy_ops;
	vp->vdev.transport = vp;
	vp->vdev.legacy = true;
	return 0;
}
