/*
 * NVMe namespaces as block devices (/dev/nvme0n1...): a block request
 * becomes one Read/Write/Flush command on the hardware queue the block layer
 * chose. Commands a controller reset sent back are queued here and sent
 * again once the controller is up; commands that timed out fail with -EIO.
 */
#include <block/block.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/list.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include "nvme_ctrl.h"

#define NVME_RETRIES 3

/* One block request in flight. */
struct nvme_iod {
	struct nvme_ns *ns;
	struct blk_request *rq;
	unsigned qidx;
	unsigned retries;
	struct nvme_sqe cmd;
	struct nvme_sg sg;
	unsigned nsg;
	struct list node;          /* on the requeue list during a reset */
};

static spinlock_t requeue_lock = SPINLOCK_INIT;
static struct list requeue = LIST_INIT(requeue);

static void iod_finish(struct nvme_iod *iod, int err)
{
	struct blk_dev *bd = iod->ns->blk;
	struct blk_request *rq = iod->rq;
	kfree(iod);
	blk_complete(bd, rq, err);
}

static void iod_requeue(struct nvme_iod *iod)
{
	uint64_t f = spin_lock_irqsave(&requeue_lock);
	list_push_back(&requeue, &iod->node);
	spin_unlock_irqrestore(&requeue_lock, f);
}

static const char *op_name(uint8_t op)
{
	return op == NVME_CMD_READ ? "read" : op == NVME_CMD_WRITE ? "write" : "flush";
}

static void iod_complete(void *arg, uint16_t status, uint32_t result __unused)
{
	struct nvme_iod *iod = arg;

	if (status == NVME_STATUS_RESET && iod->retries++ < NVME_RETRIES) {
		iod_requeue(iod); /* sent again by nvme_ns_resume() */
		return;
	}
	if (status) {
		uint64_t lba = iod->cmd.cdw10 | (uint64_t)iod->cmd.cdw11 << 32;
		pr_err("nvme%un%u: %s of LBA %llu failed: %s (status %#x)\n", iod->ns->ctrl->instance,
		       iod->ns->index, op_name(iod->cmd.opcode), (unsigned long long)lba,
		       status == NVME_STATUS_TIMEOUT ? "timed out" : "device error", status);
	}
	iod_finish(iod, status ? -EIO : 0);
}

/* 0 when the command is in the device's queue or parked for after a reset. */
static int iod_submit(struct nvme_iod *iod)
{
	struct nvme_ctrl *c = iod->ns->ctrl;
	struct nvme_queue *q = &c->ioq[iod->qidx % c->nr_ioq];

	for (;;) {
		int state = c->state;
		if (state == NVME_CTRL_DEAD)
			return -EIO;
		if (state == NVME_CTRL_RESETTING) {
			iod_requeue(iod);
			/* The reset may have finished (and resumed) meanwhile: resume again. */
			if (c->state != NVME_CTRL_RESETTING)
				nvme_ns_resume(c);
			return 0;
		}
		int r = nvme_queue_submit(q, &iod->cmd, &iod->sg, iod->nsg, iod_complete, iod,
					  NVME_IO_TIMEOUT_NS);
		if (r == -EIO && c->state != NVME_CTRL_DEAD)
			continue; /* a reset began between the look at the state and now */
		if (r == 0)
			nvme_ctrl_watch(c);
		return r;
	}
}

void nvme_ns_resume(struct nvme_ctrl *c)
{
	struct list mine = LIST_INIT(mine);
	uint64_t f = spin_lock_irqsave(&requeue_lock);

	for (struct list *n = requeue.next, *next; n != &requeue; n = next) {
		next = n->next;
		if (container_of(n, struct nvme_iod, node)->ns->ctrl == c) {
			list_remove(n);
			list_push_back(&mine, n);
		}
	}
	spin_unlock_irqrestore(&requeue_lock, f);
	while (!list_empty(&mine)) {
		struct nvme_iod *iod = container_of(list_pop_front(&mine), struct nvme_iod, node);
		int r = iod_submit(iod);
		if (r == -EAGAIN)
			r = -EIO; /* fewer slots after the reset than before: give up on it */
		if (r)
			iod_finish(iod, r);
	}
}

static int ns_submit(struct blk_dev *bd, unsigned hwq, struct blk_request *rq)
{
	struct nvme_ns *ns = bd->priv;
	unsigned shift = ns->lba_shift - 9; /* 512-byte sectors per LBA, as a shift */
	struct nvme_iod *iod = kzalloc(sizeof(*iod));

	if (!iod)
		return -ENOMEM;
	iod->ns = ns;
	iod->rq = rq;
	iod->qidx = hwq;
	iod->cmd.nsid = ns->nsid;
	switch (rq->op) {
	case BLK_READ:
	case BLK_WRITE: {
		uint64_t lba = rq->sector >> shift;
		uint32_t blocks = rq->nsectors >> shift;
		/* The block layer checked range and alignment; this is the device's view. */
		if (!blocks || blocks > 0x10000 || (rq->sector | rq->nsectors) & ((1u << shift) - 1)) {
			kfree(iod);
			return -EINVAL;
		}
		iod->cmd.opcode = rq->op == BLK_READ ? NVME_CMD_READ : NVME_CMD_WRITE;
		iod->cmd.cdw10 = (uint32_t)lba;
		iod->cmd.cdw11 = (uint32_t)(lba >> 32);
		iod->cmd.cdw12 = blocks - 1u; /* 0-based */
		iod->sg = (struct nvme_sg){ virt_to_phys(rq->buf), rq->nsectors * BLK_SECTOR_SIZE };
		iod->nsg = 1;
		break;
	}
	case BLK_FLUSH:
		iod->cmd.opcode = NVME_CMD_FLUSH;
		break;
	default:
		kfree(iod);
		return -EINVAL;
	}
	int r = iod_submit(iod);
	if (r) {
		kfree(iod);
		return r == -EAGAIN ? -EBUSY : r;
	}
	return 0;
}

static const struct blk_ops ns_ops = { .submit = ns_submit };

int nvme_ns_register(struct nvme_ctrl *c)
{
	int err = 0;

	for (unsigned i = 0; i < c->nr_ns; i++) {
		struct nvme_ns *ns = c->ns[i];
		struct blk_dev *bd = kzalloc(sizeof(*bd));
		if (!bd)
			return -ENOMEM;
		snprintf(bd->name, sizeof(bd->name), "nvme%un%u", c->instance, ns->index);
		bd->sectors = ns->blocks << (ns->lba_shift - 9);
		bd->block_size = 1u << ns->lba_shift;
		bd->max_sectors = c->max_transfer / BLK_SECTOR_SIZE;
		bd->nr_hw_queues = c->nr_ioq;
		bd->readonly = ns->readonly;
		bd->write_cache = c->vwc;
		bd->ops = &ns_ops;
		bd->priv = ns;
		ns->blk = bd;
		int r = blk_register(bd);
		if (r) {
			pr_err("nvme%un%u: block device not registered (%d)\n", c->instance, ns->index, r);
			ns->blk = NULL;
			kfree(bd);
			err = r;
		}
	}
	return err;
}
