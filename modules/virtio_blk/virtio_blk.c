/* virtio-blk (virtio 1.x section 5.2): a block layer disk per device, one
 * virtqueue per hardware queue. A request is header (device-readable), data
 * (in up to seg_max pieces of at most size_max bytes) and a status byte. */
#include <virtio/virtio.h>
#include <block/block.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12

/* Configuration space offsets. */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_NUM_QUEUES 34

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define MAX_SEGS 64
#define MAX_REQUEST (1u << 20) /* bytes: keeps a request's descriptors few */

struct vblk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

/* Per request in flight: the parts the device reads and writes besides data. */
struct vblk_req {
	struct vblk_hdr hdr;
	uint8_t status;
};

struct vblk_queue {
	spinlock_t lock;
	struct virtqueue *vq;
};

struct vblk {
	struct blk_dev disk;
	struct virtio_device *vdev;
	uint32_t size_max;     /* bytes per data segment (0: no limit) */
	uint32_t seg_max;      /* data segments per request */
	unsigned nq;
	struct vblk_queue q[BLK_MAX_HWQ];
};

static int status_errno(uint8_t s, uint32_t len)
{
	if (len == 0)
		return -EIO; /* the device did not (validly) say it wrote the status */
	if (s == VIRTIO_BLK_S_OK)
		return 0;
	return s == VIRTIO_BLK_S_UNSUPP ? -EOPNOTSUPP : -EIO;
}

static void vblk_done(struct virtqueue *vq)
{
	struct vblk *vb = vq->vdev->priv;
	struct blk_request *rq;
	uint32_t len;

	if (!vb || vq->index >= vb->nq)
		return; /* a probe that failed after the queues were set up */
	struct vblk_queue *q = &vb->q[vq->index];

	uint64_t f = spin_lock_irqsave(&q->lock);
	do {
		virtqueue_disable_cb(vq);
		while ((rq = virtqueue_get_buf(vq, &len))) {
			struct vblk_req *vr = rq->driver_data;
			int st = status_errno(vr->status, len);
			rq->driver_data = NULL;
			kfree(vr);
			blk_complete(&vb->disk, rq, st);
		}
	} while (!virtqueue_enable_cb(vq) && !vq->broken);
	spin_unlock_irqrestore(&q->lock, f);
}

static int vblk_submit(struct blk_dev *bd, unsigned hwq, struct blk_request *rq)
{
	struct vblk *vb = bd->priv;
	struct vblk_queue *q = &vb->q[hwq % vb->nq];
	struct vq_buf bufs[MAX_SEGS + 2];
	unsigned nout = 1, nin = 0, n = 1;

	struct vblk_req *vr = kmalloc(sizeof(*vr));
	if (!vr)
		return -ENOMEM;
	vr->hdr.ioprio = 0;
	vr->hdr.sector = rq->sector;
	vr->status = 0xff;
	bufs[0] = (struct vq_buf){ &vr->hdr, sizeof(vr->hdr) };
	switch (rq->op) {
	case BLK_READ:
	case BLK_WRITE: {
		vr->hdr.type = rq->op == BLK_READ ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;
		size_t left = (size_t)rq->nsectors * BLK_SECTOR_SIZE;
		uint8_t *p = rq->buf;
		unsigned segs = 0;
		while (left) {
			uint32_t len = vb->size_max && left > vb->size_max ? vb->size_max : left;
			if (segs == vb->seg_max) {
				kfree(vr);
				return -EINVAL; /* the block layer's max_sectors keeps us under */
			}
			bufs[n++] = (struct vq_buf){ p, len };
			segs++;
			p += len;
			left -= len;
		}
		if (rq->op == BLK_READ)
			nin = segs;
		else
			nout += segs;
		break;
	}
	case BLK_FLUSH:
		vr->hdr.type = VIRTIO_BLK_T_FLUSH;
		vr->hdr.sector = 0;
		break;
	}
	bufs[n++] = (struct vq_buf){ &vr->status, 1 };
	nin++;

	rq->driver_data = vr;
	uint64_t f = spin_lock_irqsave(&q->lock);
	int r = virtqueue_add(q->vq, bufs, nout, nin, rq);
	if (!r)
		virtqueue_kick(q->vq);
	spin_unlock_irqrestore(&q->lock, f);
	if (r) {
		rq->driver_data = NULL;
		kfree(vr);
		return r == -ENOSPC ? -EBUSY : r;
	}
	return 0;
}

static const struct blk_ops vblk_ops = { .submit = vblk_submit };

static int vblk_probe(struct virtio_device *vdev)
{
	struct vblk *vb = kzalloc(sizeof(*vb));
	if (!vb)
		return -ENOMEM;
	vb->vdev = vdev;
	vdev->priv = vb;

	struct blk_dev *bd = &vb->disk;
	bd->sectors = virtio_cread(vdev, uint64_t, CFG_CAPACITY);
	if (bd->sectors > (1ull << 48)) {
		/* 128 PiB: past that byte offsets would overflow; a device saying so is broken. */
		pr_err("virtio%u: capacity of %llu sectors refused\n", vdev->index, (unsigned long long)bd->sectors);
		kfree(vb);
		vdev->priv = NULL;
		return -EINVAL;
	}
	bd->block_size = 512;
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_BLK_SIZE)) {
		uint32_t bs = virtio_cread(vdev, uint32_t, CFG_BLK_SIZE);
		/* Only sizes the block layer takes; otherwise stay at 512 (the
		 * device still addresses 512-byte sectors). */
		if (bs >= 512 && bs <= 4096 && !(bs & (bs - 1)))
			bd->block_size = bs;
	}
	vb->size_max = virtio_has_feature(vdev, VIRTIO_BLK_F_SIZE_MAX) ? virtio_cread(vdev, uint32_t, CFG_SIZE_MAX) : 0;
	if (vb->size_max && vb->size_max < BLK_SECTOR_SIZE)
		vb->size_max = BLK_SECTOR_SIZE;
	vb->size_max -= vb->size_max % BLK_SECTOR_SIZE;
	vb->seg_max = virtio_has_feature(vdev, VIRTIO_BLK_F_SEG_MAX) ? virtio_cread(vdev, uint32_t, CFG_SEG_MAX) : 1;
	if (vb->seg_max == 0)
		vb->seg_max = 1;
	if (vb->seg_max > MAX_SEGS)
		vb->seg_max = MAX_SEGS;
	uint64_t max_bytes = vb->size_max ? (uint64_t)vb->size_max * vb->seg_max : MAX_REQUEST;
	if (max_bytes > MAX_REQUEST)
		max_bytes = MAX_REQUEST;
	bd->max_sectors = max_bytes / BLK_SECTOR_SIZE;
	bd->readonly = virtio_has_feature(vdev, VIRTIO_BLK_F_RO);
	bd->write_cache = virtio_has_feature(vdev, VIRTIO_BLK_F_FLUSH);

	unsigned nq = 1;
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_MQ)) {
		uint16_t dq = virtio_cread(vdev, uint16_t, CFG_NUM_QUEUES);
		nq = dq ? dq : 1;
	}
	if (nq > blk_nr_cpus())
		nq = blk_nr_cpus();
	if (nq > BLK_MAX_HWQ)
		nq = BLK_MAX_HWQ;
	vb->nq = nq;

	struct virtqueue *vqs[BLK_MAX_HWQ];
	vq_callback_t cbs[BLK_MAX_HWQ];
	for (unsigned i = 0; i < nq; i++) {
		cbs[i] = vblk_done;
		spin_init(&vb->q[i].lock);
	}
	int r = vdev->config->find_vqs(vdev, nq, vqs, cbs);
	if (r) {
		kfree(vb);
		vdev->priv = NULL;
		return r;
	}
	for (unsigned i = 0; i < nq; i++)
		vb->q[i].vq = vqs[i];

	blk_name_next("vd", bd->name);
	bd->nr_hw_queues = nq;
	bd->ops = &vblk_ops;
	bd->priv = vb;
	return blk_register(bd);
}

VIRTIO_DRIVER(virtio_blk) = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
		    VIRTIO_BIT(VIRTIO_BLK_F_RO) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		    VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_MQ),
	.probe = vblk_probe,
};
