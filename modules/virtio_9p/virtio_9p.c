/*
 * virtio-9p transport: one request virtqueue; each 9P request is a chain of
 * buffers (the T-message, and zero-copy data, the device reads; the
 * R-message's header, and zero-copy data, it writes). Any number of requests
 * may be queued; the interrupt completes them and the client wakes the
 * requesters. The mount tag comes from the device's config space.
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

/* Completes every answered request. Called with v->lock held. */
static void drain(struct virtqueue *vq)
{
	struct p9_call *c;
	uint32_t len;
	do {
		virtqueue_disable_cb(vq);
		while ((c = virtqueue_get_buf(vq, &len)))
			p9_call_done(c, len);
	} while (!virtqueue_enable_cb(vq) && !vq->broken);
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

static int v9p_submit(struct p9_trans *t, struct p9_call *c)
{
	struct v9p *v = t->priv;
	struct vq_buf bufs[P9_CALL_BUFS];
	unsigned n = c->nout + c->nin;
	if (n > P9_CALL_BUFS || !c->nout || !c->nin)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		bufs[i] = (struct vq_buf){ c->bufs[i].addr, c->bufs[i].len };
	uint64_t f = spin_lock_irqsave(&v->lock);
	int e = virtqueue_add(v->vq, bufs, c->nout, c->nin, c);
	if (!e)
		virtqueue_kick(v->vq);
	spin_unlock_irqrestore(&v->lock, f);
	if (e)
		return e == -ENOSPC ? -EAGAIN : -EIO;
	return 0;
}

static void v9p_poll(struct p9_trans *t)
{
	struct v9p *v = t->priv;
	uint64_t f = spin_lock_irqsave(&v->lock);
	drain(v->vq);
	spin_unlock_irqrestore(&v->lock, f);
}

static bool v9p_broken(struct p9_trans *t)
{
	struct v9p *v = t->priv;
	return v->vq->broken;
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
	v->trans.max_msize = 1024 * 1024;
	v->trans.submit = v9p_submit;
	v->trans.poll = v9p_poll;
	v->trans.broken = v9p_broken;
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
