/*
 * virtio-9p transport: one request virtqueue; each 9P request is two
 * buffers (the T-message the device reads, room for the R-message it
 * writes). The mount tag comes from the device's config space. The caller
 * waits by polling the queue, so a request also completes where interrupts
 * are off (filesystem work runs under the VFS's spinlock); the interrupt
 * handler completes requests the same way.
 */
#include <9p/9p.h>
#include <arch/cpu.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <virtio/virtio.h>
#include <vfs/errno.h>

#define VIRTIO_9P_F_MOUNT_TAG 0
#define CFG_TAG_LEN 0
#define CFG_TAG 2

struct v9p {
	struct p9_trans trans;
	struct virtio_device *vdev;
	struct virtqueue *vq;
	spinlock_t lock;
};

struct v9p_req {
	volatile bool done;
	uint32_t len;
};

/* Marks every completed request done. Called with v->lock held. */
static void drain(struct virtqueue *vq)
{
	struct v9p_req *r;
	uint32_t len;
	while ((r = virtqueue_get_buf(vq, &len))) {
		r->len = len;
		__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	}
}

static void v9p_interrupt(struct virtqueue *vq)
{
	struct v9p *v = vq->vdev->priv;
	if (!v)
		return;
	uint64_t f = spin_lock_irqsave(&v->lock);
	drain(vq);
	spin_unlock_irqrestore(&v->lock, f);
}

static int v9p_rpc(struct p9_trans *t, const void *req, uint32_t reqlen, void *resp, uint32_t respcap, uint32_t *got)
{
	struct v9p *v = t->priv;
	struct v9p_req r = { .done = false, .len = 0 };
	struct vq_buf bufs[2] = { { (void *)req, reqlen }, { resp, respcap } };
	uint64_t f = spin_lock_irqsave(&v->lock);
	int e = virtqueue_add(v->vq, bufs, 1, 1, &r);
	if (!e)
		virtqueue_kick(v->vq);
	spin_unlock_irqrestore(&v->lock, f);
	if (e)
		return e == -ENOSPC ? -EAGAIN : -EIO;
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		if (v->vq->broken)
			return -EIO;
		f = spin_lock_irqsave(&v->lock);
		drain(v->vq);
		spin_unlock_irqrestore(&v->lock, f);
		cpu_relax();
	}
	*got = r.len;
	return 0;
}

static int v9p_probe(struct virtio_device *vdev)
{
	if (!virtio_has_feature(vdev, VIRTIO_9P_F_MOUNT_TAG)) {
		pr_err("virtio%u: 9p device without a mount tag: ignored\n", vdev->index);
		return -EINVAL;
	}
	struct v9p *v = kzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	uint16_t len = virtio_cread(vdev, uint16_t, CFG_TAG_LEN);
	if (len == 0 || len >= P9_TAG_MAX) {
		pr_err("virtio%u: 9p mount tag of %u bytes refused\n", vdev->index, len);
		kfree(v);
		return -EINVAL;
	}
	vdev->config->read_config(vdev, CFG_TAG, v->trans.tag, len);
	v->trans.tag[len] = 0;
	if (strlen(v->trans.tag) != len) {
		pr_err("virtio%u: 9p mount tag contains a NUL byte: refused\n", vdev->index);
		kfree(v);
		return -EINVAL;
	}
	v->vdev = vdev;
	spin_init(&v->lock);
	vdev->priv = v;
	struct virtqueue *vqs[1];
	const vq_callback_t cbs[1] = { v9p_interrupt };
	int e = vdev->config->find_vqs(vdev, 1, vqs, cbs);
	if (e) {
		vdev->priv = NULL;
		kfree(v);
		return e;
	}
	v->vq = vqs[0];
	v->trans.max_msize = 512 * 1024;
	v->trans.rpc = v9p_rpc;
	v->trans.priv = v;
	p9_trans_register(&v->trans);
	return 0;
}

VIRTIO_DRIVER(virtio_9p) = {
	.name = "virtio-9p",
	.device_id = VIRTIO_ID_9P,
	.features = VIRTIO_BIT(VIRTIO_9P_F_MOUNT_TAG),
	.probe = v9p_probe,
};
