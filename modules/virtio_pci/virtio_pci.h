#ifndef VIRTIO_PCI_INTERNAL_H
#define VIRTIO_PCI_INTERNAL_H

#include <pci/pci.h>
#include <virtio/virtio.h>

#define VP_MAX_VQS 64
#define VP_NO_VECTOR 0xffff

struct vp_dev {
	struct virtio_device vdev;
	struct pci_dev *pci;
	/* modern */
	volatile uint8_t *common, *isr, *device, *notify_base;
	uint32_t notify_mult;
	size_t notify_len, device_len;
	/* legacy */
	uint16_t io;
	unsigned nvqs;
	struct virtqueue *vqs[VP_MAX_VQS];
	bool msix;
	uint8_t (*read_isr)(struct vp_dev *vp);
};

static inline struct vp_dev *to_vp(struct virtio_device *v)
{
	return (struct vp_dev *)v;
}

int vp_modern_probe(struct vp_dev *vp);
int vp_legacy_probe(struct vp_dev *vp);

/* Interrupt plumbing shared by both layouts: set_vector programs the vector
 * of a queue (or the config space with queue = -1); it returns the vector the
 * device accepted. */
int vp_setup_irqs(struct vp_dev *vp, unsigned n, uint16_t (*set_vector)(struct vp_dev *, int queue, uint16_t vec));

#endif
