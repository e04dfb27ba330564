/*
 * NVMe namespaces: Read/Write/Flush commands on the calling CPU's I/O queue
 * pair, split at the controller's transfer limit, and the requeue of
 * commands a controller reset sent back. Commands that timed out fail with
 * -EIO; the others are sent again once the controller is up.
 */
#include <arch/percpu.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/list.h>
#include <lib/string.h>
#include "nvme_ctrl.h"

#define NVME_RETRIES 3

/* One command in flight for a namespace. */
struct nvme_iod {
	struct nvme_ns *ns;
	struct nvme_sqe cmd;
	struct nvme_sg sg;
	unsigned nsg;
	unsigned retries;
	struct list node;          /* on the requeue list after a reset */
	void (*done)(struct nvme_iod *iod, int err);
	/* Synchronous waiters. */
	struct wait_queue wait;
	volatile bool finished;
	int err;
};

static spinlock_t requeue_lock = SPINLOCK_INIT;
static struct list requeue = LIST_INIT(requeue);

static struct nvme_queue *pick_queue(struct nvme_ctrl *c)
{
	return &c->ioq[this_cpu()->cpu_id % c->nr_ioq];
}

static int iod_submit(struct nvme_iod *iod);

static void iod_complete(void *arg, uint16_t status, uint32_t result __unused)
{
	struct nvme_iod *iod = arg;

	if (status == NVME_STATUS_RESET && iod->retries++ < NVME_RETRIES) {
		/* Sent back by a reset: resubmitted by nvme_ns_resume(). */
		uint64_t f = spin_lock_irqsave(&requeue_lock);
		list_push_back(&requeue, &iod->node);
		spin_unlock_irqrestore(&requeue_lock, f);
		return;
	}
	int err = 0;
	if (status == NVME_STATUS_TIMEOUT) {
		err = -EIO;
	} else if (status) {
		pr_err("nvme%un%u: %s of LBA %llu failed: status %#x\n", iod->ns->ctrl->instance,
		       iod->ns->index,
		       iod->cmd.opcode == NVME_CMD_READ ? "read" : iod->cmd.opcode == NVME_CMD_WRITE ? "write" : "flush",
		       (unsigned long long)iod->cmd.cdw10 | (unsigned long long)iod->cmd.cdw11 << 32, status);
		err = -EIO;
	}
	iod->done(iod, err);
}

static int iod_submit(struct nvme_iod *iod)
{
	struct nvme_ctrl *c = iod->ns->ctrl;

	for (;;) {
		/* While a reset runs the queues refuse commands: wait it out. */
		wait_event(&c->state_wait, c->state != NVME_CTRL_RESETTING);
		if (c->state == NVME_CTRL_DEAD)
			return -EIO;
		int r = nvme_queue_submit_wait(pick_queue(c), &iod->cmd, &iod->sg, iod->nsg,
					       iod_complete, iod, NVME_IO_TIMEOUT_NS);
		if (r == -EIO && c->state != NVME_CTRL_DEAD)
			continue; /* a reset began between the check and the submission */
		if (r == 0)
			nvme_ctrl_watch(c);
		return r;
	}
}

void nvme_ns_resume(struct nvme_ctrl *c)
{
	struct list mine = LIST_INIT(mine);
	uint64_t f = spin_lock_irqsave(&requeue_lock);

	/* Take this controller's commands off the shared list. */
	for (struct list *n = requeue.next, *next; n != &requeue; n = next) {
		next = n->next;
		struct nvme_iod *iod = container_of(n, struct nvme_iod, node);
		if (iod->ns->ctrl == c) {
			list_remove(n);
			list_push_back(&mine, n);
		}
	}
	spin_unlock_irqrestore(&requeue_lock, f);
	while (!list_empty(&mine)) {
		struct nvme_iod *iod = container_of(mine.next, struct nvme_iod, node);
		list_remove(&iod->node);
		int r = iod_submit(iod);
		if (r)
			iod->done(iod, r);
	}
}

static void sync_done(struct nvme_iod *iod, int err)
{
	iod->err = err;
	iod->finished = true;
	wake_up_all(&iod->wait);
}

static void setup_cmd(struct nvme_iod *iod, uint8_t op, uint64_t lba, uint32_t blocks)
{
	memset(&iod->cmd, 0, sizeof(iod->cmd));
	iod->cmd.opcode = op;
	iod->cmd.nsid = iod->ns->nsid;
	if (op != NVME_CMD_FLUSH) {
		iod->cmd.cdw10 = (uint32_t)lba;
		iod->cmd.cdw11 = (uint32_t)(lba >> 32);
		iod->cmd.cdw12 = blocks - 1u; /* 0-based */
	}
}

int nvme_ns_rw(struct nvme_ns *ns, uint8_t op, uint64_t lba, void *buf, size_t len)
{
	struct nvme_iod iod = { .ns = ns, .done = sync_done };
	size_t bsize = (size_t)1 << ns->lba_shift;
	uint8_t *p = buf;

	wait_queue_init(&iod.wait);
	if (op == NVME_CMD_FLUSH) {
		if (!ns->ctrl->vwc)
			return 0; /* no volatile cache: nothing to flush */
		setup_cmd(&iod, op, 0, 0);
		iod.nsg = 0;
		iod.finished = false;
		int r = iod_submit(&iod);
		if (r)
			return r;
		wait_event(&iod.wait, iod.finished);
		return iod.err;
	}
	if (op != NVME_CMD_READ && op != NVME_CMD_WRITE)
		return -EINVAL;
	if (len % bsize || lba > ns->blocks || len / bsize > ns->blocks - lba)
		return -EINVAL;
	while (len) {
		size_t chunk = MIN(len, (size_t)ns->ctrl->max_transfer);
		chunk -= chunk % bsize;
		setup_cmd(&iod, op, lba, (uint32_t)(chunk / bsize));
		/* Direct-map memory is physically contiguous. */
		iod.sg = (struct nvme_sg){ virt_to_phys(p), (uint32_t)chunk };
		iod.nsg = 1;
		iod.retries = 0;
		iod.finished = false;
		int r = iod_submit(&iod);
		if (r)
			return r;
		wait_event(&iod.wait, iod.finished);
		if (iod.err)
			return iod.err;
		p += chunk;
		lba += chunk / bsize;
		len -= chunk;
	}
	return 0;
}

int nvme_ns_register(struct nvme_ctrl *c)
{
	(void)c; /* block devices: once the block layer exists */
	return 0;
}
