/* virtio-pci modern register layout (virtio 1.x section 4.1.4): common,
 * notify, ISR and device configuration structures found through vendor
 * capabilities, each in a memory BAR (QEMU: a 64-bit prefetchable one). */
#include "virtio_pci.h"
#include <arch/io.h>
#include <console/printk.h>
#include <lib/errno.h>

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

/* Common configuration offsets. */
#define C_DFSELECT 0
#define C_DF 4
#define C_GFSELECT 8
#define C_GF 12
#define C_MSIX 16
#define C_NUMQ 18
#define C_STATUS 20
#define C_GEN 21
#define C_QSELECT 22
#define C_QSIZE 24
#define C_QMSIX 26
#define C_QENABLE 28
#define C_QNOFF 30
#define C_QDESC 32
#define C_QDRIVER 40
#define C_QDEVICE 48

#define R8(o) (*(volatile uint8_t *)(vp->common + (o)))
#define R16(o) (*(volatile uint16_t *)(vp->common + (o)))
#define R32(o) (*(volatile uint32_t *)(vp->common + (o)))

static uint8_t m_get_status(struct virtio_device *v)
{
	struct vp_dev *vp = to_vp(v);
	return R8(C_STATUS);
}

static void m_set_status(struct virtio_device *v, uint8_t s)
{
	struct vp_dev *vp = to_vp(v);
	R8(C_STATUS) = s;
}

static void m_reset(struct virtio_device *v)
{
	struct vp_dev *vp = to_vp(v);
	R8(C_STATUS) = 0;
	/* The reset is complete when the device reads back 0. */
	for (int i = 0; i < 1000000 && R8(C_STATUS); i++)
		__builtin_ia32_pause();
}

static uint64_t m_get_features(struct virtio_device *v)
{
	struct vp_dev *vp = to_vp(v);
	R32(C_DFSELECT) = 0;
	uint64_t f = R32(C_DF);
	R32(C_DFSELECT) = 1;
	return f | (uint64_t)R32(C_DF) << 32;
}

static void m_set_features(struct virtio_device *v, uint64_t f)
{
	struct vp_dev *vp = to_vp(v);
	R32(C_GFSELECT) = 0;
	R32(C_GF) = (uint32_t)f;
	R32(C_GFSELECT) = 1;
	R32(C_GF) = f >> 32;
}

static void m_read_config(struct virtio_device *v, unsigned off, void *buf, unsigned len)
{
	struct vp_dev *vp = to_vp(v);
	uint8_t *b = buf;
	uint8_t gen;
	/* Retry while the device changes its configuration under us. */
	do {
		gen = R8(C_GEN);
		for (unsigned i = 0; i < len; i++)
			b[i] = off + i < vp->device_len ? vp->device[off + i] : 0;
	} while (gen != R8(C_GEN));
}

static void m_write_config(struct virtio_device *v, unsigned off, const void *buf, unsigned len)
{
	struct vp_dev *vp = to_vp(v);
	const uint8_t *b = buf;
	for (unsigned i = 0; i < len && off + i < vp->device_len; i++)
		vp->device[off + i] = b[i];
}

static unsigned m_max_vqs(struct virtio_device *v)
{
	struct vp_dev *vp = to_vp(v);
	return R16(C_NUMQ);
}

static void m_notify(struct virtqueue *vq)
{
	*(volatile uint16_t *)vq->transport = vq->index;
}

static uint16_t m_set_vector(struct vp_dev *vp, int queue, uint16_t vec)
{
	if (queue < 0) {
		R16(C_MSIX) = vec;
		return R16(C_MSIX);
	}
	R16(C_QSELECT) = queue;
	R16(C_QMSIX) = vec;
	return R16(C_QMSIX);
}

static uint8_t m_read_isr(struct vp_dev *vp)
{
	return *vp->isr;
}

static int m_find_vqs(struct virtio_device *v, unsigned n, struct virtqueue *vqs[], const vq_callback_t cbs[])
{
	struct vp_dev *vp = to_vp(v);
	if (n > VP_MAX_VQS || n > R16(C_NUMQ))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		R16(C_QSELECT) = i;
		unsigned size = R16(C_QSIZE);
		if (!size)
			return -ENOENT;
		unsigned num = size < 256 ? size : 256;
		while (num & (num - 1))
			num &= num - 1;
		uint32_t noff = R16(C_QNOFF) * vp->notify_mult;
		if (noff + 2 > vp->notify_len)
			return -EINVAL;
		struct virtqueue *vq = vring_new(v, i, num, 64, m_notify, cbs[i]);
		if (!vq)
			return -ENOMEM;
		vq->transport = (void *)(vp->notify_base + noff);
		R16(C_QSIZE) = num;
		*(volatile uint64_t *)(vp->common + C_QDESC) = vq->desc_pa;
		*(volatile uint64_t *)(vp->common + C_QDRIVER) = vq->avail_pa;
		*(volatile uint64_t *)(vp->common + C_QDEVICE) = vq->used_pa;
		vp->vqs[i] = vqs[i] = vq;
	}
	vp->nvqs = n;
	int r = vp_setup_irqs(vp, n, m_set_vector);
	if (r)
		return r;
	for (unsigned i = 0; i < n; i++) {
		R16(C_QSELECT) = i;
		R16(C_QENABLE) = 1;
	}
	return 0;
}

static const struct virtio_config_ops modern_ops = {
	.get_status = m_get_status,
	.set_status = m_set_status,
	.reset = m_reset,
	.get_features = m_get_features,
	.set_features = m_set_features,
	.read_config = m_read_config,
	.write_config = m_write_config,
	.max_vqs = m_max_vqs,
	.find_vqs = m_find_vqs,
};

/* Map the structure a capability points at; its length is checked against the BAR. */
static volatile uint8_t *map_cap(struct vp_dev *vp, unsigned cap, size_t min, size_t *len)
{
	uint8_t bar = pci_read8(vp->pci, cap + 4);
	uint32_t off = pci_read32(vp->pci, cap + 8);
	uint32_t length = pci_read32(vp->pci, cap + 12);
	if (length < min)
		return NULL;
	if (len)
		*len = length;
	return pci_map_bar(vp->pci, bar, off, length);
}

int vp_modern_probe(struct vp_dev *vp)
{
	unsigned common = 0, notify = 0, isr = 0, device = 0;
	for (unsigned c = pci_find_cap(vp->pci, PCI_CAP_VENDOR, 0); c; c = pci_find_cap(vp->pci, PCI_CAP_VENDOR, c)) {
		uint8_t type = pci_read8(vp->pci, c + 3);
		/* The first of each type is the preferred one. */
		if (type == CAP_COMMON && !common)
			common = c;
		else if (type == CAP_NOTIFY && !notify)
			notify = c;
		else if (type == CAP_ISR && !isr)
			isr = c;
		else if (type == CAP_DEVICE && !device)
			device = c;
	}
	if (!common || !notify || !isr)
		return -ENODEV;
	vp->common = map_cap(vp, common, 56, NULL);
	vp->notify_base = map_cap(vp, notify, 2, &vp->notify_len);
	vp->notify_mult = pci_read32(vp->pci, notify + 16);
	vp->isr = map_cap(vp, isr, 1, NULL);
	vp->device = device ? map_cap(vp, device, 0, &vp->device_len) : NULL;
	if (!vp->device)
		vp->device_len = 0;
	if (!vp->common || !vp->notify_base || !vp->isr) {
		pr_err("virtio-pci %02x:%02x.%u: capability outside its BAR\n", vp->pci->bus, vp->pci->slot,
		       vp->pci->func);
		return -EINVAL;
	}
	vp->read_isr = m_read_isr;
	vp->vdev.config = &modern_ops;
	vp->vdev.transport = vp;
	vp->vdev.legacy = false;
	return 0;
}
