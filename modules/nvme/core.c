/*
 * NVMe controller: reset and enable (CC/CSTS with the controller's own
 * timeout CAP.TO), the admin queue, Identify Controller and the active
 * namespaces, one I/O queue pair per CPU, and the recovery path: a command
 * that times out disables the controller (stopping its DMA), fails what
 * timed out, requeues the rest and brings the controller up again.
 */
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <sched/thread.h>
#include <time/clock.h>
#include "nvme_ctrl.h"

#define ADMIN_DEPTH 32
#define ADMIN_TIMEOUT_NS (5 * NSEC_PER_SEC)
#define WATCHDOG_NS NSEC_PER_SEC

static unsigned nr_ctrls;

static uint32_t rd32(struct nvme_ctrl *c, unsigned off)
{
	return mmio_read32(c->regs + off);
}

static void wr32(struct nvme_ctrl *c, unsigned off, uint32_t v)
{
	mmio_write32(c->regs + off, v);
}

static uint64_t rd64(struct nvme_ctrl *c, unsigned off)
{
	/* Two 32-bit reads: 64-bit MMIO is optional for the device to accept. */
	return rd32(c, off) | (uint64_t)rd32(c, off + 4) << 32;
}

static void wr64(struct nvme_ctrl *c, unsigned off, uint64_t v)
{
	wr32(c, off, (uint32_t)v);
	wr32(c, off + 4, (uint32_t)(v >> 32));
}

/* Wait for CSTS.RDY to become rdy, at most CAP.TO (500 ms units). */
static int wait_ready(struct nvme_ctrl *c, bool rdy)
{
	uint64_t deadline = clock_monotonic_ns() + (c->timeout_ms + 500ull) * NSEC_PER_MSEC;

	for (;;) {
		uint32_t csts = rd32(c, NVME_REG_CSTS);
		if (csts == 0xffffffffu)
			return -ENODEV; /* the device went away */
		if (rdy && (csts & NVME_CSTS_CFS))
			return -EIO;
		if (!!(csts & NVME_CSTS_RDY) == rdy)
			return 0;
		if (clock_monotonic_ns() > deadline)
			return -ETIMEDOUT;
		thread_sleep_ns(NSEC_PER_MSEC);
	}
}

static int ctrl_disable(struct nvme_ctrl *c)
{
	uint32_t cc = rd32(c, NVME_REG_CC);

	if (!(cc & NVME_CC_EN) && !(rd32(c, NVME_REG_CSTS) & NVME_CSTS_RDY))
		return 0;
	wr32(c, NVME_REG_CC, cc & ~NVME_CC_EN);
	return wait_ready(c, false);
}

static int ctrl_enable(struct nvme_ctrl *c)
{
	nvme_queue_cancel_all(&c->admin, NVME_STATUS_RESET);
	wr32(c, NVME_REG_AQA, (ADMIN_DEPTH - 1u) | (ADMIN_DEPTH - 1u) << 16);
	wr64(c, NVME_REG_ASQ, nvme_queue_sq_phys(&c->admin));
	wr64(c, NVME_REG_ACQ, nvme_queue_cq_phys(&c->admin));
	wr32(c, NVME_REG_CC, NVME_CC_EN | NVME_CC_CSS_NVM | NVME_CC_MPS(NVME_PAGE_SHIFT) |
				     NVME_CC_AMS_RR | NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4));
	return wait_ready(c, true);
}

int nvme_admin(struct nvme_ctrl *c, struct nvme_sqe *cmd, void *buf, size_t len, uint32_t *result)
{
	struct nvme_sg sg = { buf ? virt_to_phys(buf) : 0, (uint32_t)len };
	/* Without a buffer, PRP1 stays as the caller set it (queue creation). */
	int r = nvme_queue_exec_poll(&c->admin, cmd, &sg, buf ? 1 : 0, ADMIN_TIMEOUT_NS, result);

	if (r == -ETIMEDOUT)
		pr_err("nvme%u: admin command %#x timed out\n", c->instance, cmd->opcode);
	else if (r > 0)
		pr_err("nvme%u: admin command %#x failed: status %#x\n", c->instance, cmd->opcode, r);
	return r == 0 ? 0 : r < 0 ? r : -EIO;
}

static int identify(struct nvme_ctrl *c, uint32_t nsid, uint32_t cns, void *buf)
{
	struct nvme_sqe cmd = { .opcode = NVME_ADMIN_IDENTIFY, .nsid = nsid, .cdw10 = cns };
	return nvme_admin(c, &cmd, buf, NVME_IDENTIFY_SIZE, NULL);
}

/* Copy an ASCII identify field, dropping the space padding. */
static void id_string(char *dst, const uint8_t *src, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	for (size_t i = 0; i < len; i++)
		if (dst[i] != ' ')
			n = i + 1;
	dst[n] = '\0';
}

static int identify_ctrl(struct nvme_ctrl *c, uint8_t *id)
{
	int r = identify(c, 0, NVME_ID_CNS_CTRL, id);
	if (r)
		return r;
	id_string(c->serial, id + NVME_IDC_SN, 20);
	id_string(c->model, id + NVME_IDC_MN, 40);
	/* MDTS is in units of the minimum page size (CAP.MPSMIN). */
	uint32_t max = NVME_PRP_MAX_PAGES - 1u; /* the first page may start at an offset */
	uint8_t mdts = id[NVME_IDC_MDTS];
	if (mdts) {
		unsigned shift = mdts + NVME_CAP_MPSMIN(c->cap);
		if (shift < 16 && (1u << shift) < max)
			max = 1u << shift;
	}
	c->max_transfer = max * NVME_PAGE_SIZE;
	c->vwc = id[NVME_IDC_VWC] & 1;
	memcpy(&c->nn, id + NVME_IDC_NN, 4);
	/* The entry sizes we configure must be within what it supports. */
	uint8_t sqes = id[NVME_IDC_SQES], cqes = id[NVME_IDC_CQES];
	if ((sqes & 0xf) > 6 || (sqes >> 4) < 6 || (cqes & 0xf) > 4 || (cqes >> 4) < 4) {
		pr_err("nvme%u: unsupported queue entry sizes (SQES %#x, CQES %#x)\n", c->instance,
		       sqes, cqes);
		return -ENODEV;
	}
	return 0;
}

static int create_io_queues(struct nvme_ctrl *c)
{
	uint32_t want = c->nr_ioq - 1u, got;
	struct nvme_sqe cmd = { .opcode = NVME_ADMIN_SET_FEATURES, .cdw10 = NVME_FEAT_NUM_QUEUES,
				.cdw11 = want | want << 16 };
	int r = nvme_admin(c, &cmd, NULL, 0, &got);
	if (r)
		return r;
	/* The controller may grant fewer (0-based counts); never use more than granted. */
	unsigned granted = MIN(got & 0xffff, got >> 16) + 1u;
	if (granted < c->nr_ioq) {
		pr_info("nvme%u: %u I/O queues granted of %u\n", c->instance, granted, c->nr_ioq);
		c->nr_ioq = granted;
	}
	for (unsigned i = 0; i < c->nr_ioq; i++) {
		struct nvme_queue *q = &c->ioq[i];
		uint32_t size = (q->depth - 1u) << 16 | q->qid;

		nvme_queue_cancel_all(q, NVME_STATUS_RESET);
		struct nvme_sqe cq = { .opcode = NVME_ADMIN_CREATE_CQ, .prp1 = nvme_queue_cq_phys(q),
				       .cdw10 = size, .cdw11 = NVME_QUEUE_PHYS_CONTIG };
		if (c->irq_entry[i] >= 0)
			cq.cdw11 |= NVME_CQ_IRQ_ENABLED | (uint32_t)c->irq_entry[i] << 16;
		struct nvme_sqe sq = { .opcode = NVME_ADMIN_CREATE_SQ, .prp1 = nvme_queue_sq_phys(q),
				       .cdw10 = size,
				       .cdw11 = NVME_QUEUE_PHYS_CONTIG | (uint32_t)q->qid << 16 };
		/* PRP1 is the ring itself (physically contiguous, CDW11.PC). */
		if ((r = nvme_admin(c, &cq, NULL, 0, NULL)) || (r = nvme_admin(c, &sq, NULL, 0, NULL)))
			return r;
		q->dead = false;
	}
	return 0;
}

static int scan_namespaces(struct nvme_ctrl *c, uint8_t *buf)
{
	uint32_t *list = kzalloc(NVME_IDENTIFY_SIZE);
	unsigned n = 0;
	int r;

	if (!list)
		return -ENOMEM;
	/* Active namespace list (NVMe 1.1+); older controllers: 1..NN. */
	if (identify(c, 0, NVME_ID_CNS_NS_ACTIVE_LIST, list) == 0) {
		while (n < NVME_IDENTIFY_SIZE / 4 && list[n])
			n++;
	} else {
		for (uint32_t i = 1; i <= c->nn && n < NVME_IDENTIFY_SIZE / 4; i++)
			list[n++] = i;
	}
	for (unsigned i = 0; i < n && c->nr_ns < NVME_MAX_NS; i++) {
		uint32_t nsid = list[i];
		if (nsid == 0 || nsid == 0xffffffffu || (c->nn && nsid > c->nn)) {
			pr_warn("nvme%u: ignoring namespace id %u from the active list\n", c->instance, nsid);
			continue;
		}
		if ((r = identify(c, nsid, NVME_ID_CNS_NS, buf)))
			continue;
		uint64_t blocks;
		memcpy(&blocks, buf + NVME_IDNS_NSZE, 8);
		uint8_t flbas = buf[NVME_IDNS_FLBAS], fmt = flbas & 0xf;
		if (blocks == 0)
			continue; /* inactive */
		if (blocks > UINT64_MAX >> NVME_PAGE_SHIFT) {
			pr_warn("nvme%un%u: size of %llu blocks is not believable\n", c->instance, nsid,
				(unsigned long long)blocks);
			continue;
		}
		if (fmt > buf[NVME_IDNS_NLBAF]) {
			pr_warn("nvme%un%u: LBA format %u out of range\n", c->instance, nsid, fmt);
			continue;
		}
		uint32_t lbaf;
		memcpy(&lbaf, buf + NVME_IDNS_LBAF + 4u * fmt, 4);
		unsigned lba_shift = (lbaf >> 16) & 0xff, ms = lbaf & 0xffff;
		if (lba_shift < 9 || lba_shift > NVME_PAGE_SHIFT || ms) {
			pr_warn("nvme%un%u: unsupported format (LBA 2^%u bytes, %u metadata bytes)\n",
				c->instance, nsid, lba_shift, ms);
			continue;
		}
		struct nvme_ns *ns = kzalloc(sizeof(*ns));
		if (!ns)
			break;
		ns->ctrl = c;
		ns->nsid = nsid;
		ns->index = c->nr_ns + 1;
		ns->blocks = blocks;
		ns->lba_shift = lba_shift;
		ns->readonly = buf[NVME_IDNS_NSATTR] & 1;
		c->ns[c->nr_ns++] = ns;
		pr_info("nvme%un%u: %llu blocks of %u bytes%s\n", c->instance, ns->index,
			(unsigned long long)blocks, 1u << lba_shift, ns->readonly ? ", read-only" : "");
	}
	kfree(list);
	return 0;
}

static void queue_irq(void *arg)
{
	nvme_queue_process(arg);
}

static void shared_irq(void *arg)
{
	struct nvme_ctrl *c = arg;
	/* The admin CQ raises the line too (vector 0): consume it here, or a
	 * level-triggered line would stay asserted until the poller gets to run. */
	nvme_queue_process(&c->admin);
	for (unsigned i = 0; i < c->nr_ioq; i++)
		nvme_queue_process(&c->ioq[i]);
}

unsigned nvme_ctrl_check_timeouts(struct nvme_ctrl *c, uint64_t now, unsigned *inflight)
{
	unsigned expired = 0, busy = 0;

	for (unsigned i = 0; i < c->nr_ioq; i++) {
		expired += nvme_queue_expire(&c->ioq[i], now);
		busy += nvme_queue_inflight(&c->ioq[i]);
	}
	if (expired) {
		c->timeouts += expired;
		c->reset_requested = true;
		wake_up_all(&c->reset_wait);
	}
	if (inflight)
		*inflight = busy;
	return expired;
}

/* Timer: look for expired commands; the reset itself runs in a thread. */
static void watchdog(struct timer *t)
{
	struct nvme_ctrl *c = t->data;
	unsigned inflight;
	uint64_t now = clock_monotonic_ns();

	if (!nvme_ctrl_check_timeouts(c, now, &inflight) && inflight) {
		timer_arm(t, now + WATCHDOG_NS);
		return;
	}
	c->watchdog_armed = false;
}

void nvme_ctrl_watch(struct nvme_ctrl *c)
{
	if (!READ_ONCE(c->watchdog_armed)) {
		c->watchdog_armed = true;
		timer_arm(&c->watchdog, clock_monotonic_ns() + WATCHDOG_NS);
	}
}

/* Disable, fail or requeue everything outstanding, enable again. */
static int ctrl_reset_locked(struct nvme_ctrl *c)
{
	c->state = NVME_CTRL_RESETTING;
	for (unsigned i = 0; i < c->nr_ioq; i++)
		c->ioq[i].dead = true;
	int r = ctrl_disable(c);
	if (r)
		pr_err("nvme%u: controller did not stop (%d)\n", c->instance, r);
	/* The device no longer touches memory: complete what was outstanding. */
	for (unsigned i = 0; i < c->nr_ioq; i++)
		nvme_queue_cancel_all(&c->ioq[i], NVME_STATUS_RESET);
	if (!r)
		r = ctrl_enable(c);
	if (!r)
		r = create_io_queues(c);
	if (r) {
		pr_err("nvme%u: reset failed (%d): controller disabled\n", c->instance, r);
		ctrl_disable(c);
		c->state = NVME_CTRL_DEAD;
		for (unsigned i = 0; i < c->nr_ioq; i++) {
			c->ioq[i].dead = true;
			wake_up_all(&c->ioq[i].slot_wait);
		}
	} else {
		c->state = NVME_CTRL_LIVE;
		c->resets++;
	}
	wake_up_all(&c->state_wait);
	nvme_ns_resume(c);
	return r;
}

int nvme_ctrl_reset(struct nvme_ctrl *c)
{
	mutex_lock(&c->reset_lock);
	int r = ctrl_reset_locked(c);
	mutex_unlock(&c->reset_lock);
	return r;
}

static void reset_thread(void *arg)
{
	struct nvme_ctrl *c = arg;

	for (;;) {
		wait_event(&c->reset_wait, READ_ONCE(c->reset_requested));
		c->reset_requested = false;
		pr_warn("nvme%u: command timed out; resetting the controller\n", c->instance);
		nvme_ctrl_reset(c);
	}
}

struct nvme_ctrl *nvme_ctrls[NVME_MAX_CTRLS];

int nvme_ctrl_init(struct nvme_ctrl *c, unsigned nr_cpus)
{
	int r;
	uint8_t *buf = NULL;

	c->instance = nr_ctrls;
	mutex_init(&c->reset_lock);
	wait_queue_init(&c->reset_wait);
	wait_queue_init(&c->state_wait);
	timer_init(&c->watchdog, watchdog, c);

	c->cap = rd64(c, NVME_REG_CAP);
	c->timeout_ms = NVME_CAP_TO(c->cap) * 500u;
	unsigned dstrd = NVME_CAP_DSTRD(c->cap);
	if (!NVME_CAP_CSS_NVM(c->cap) || NVME_CAP_MPSMIN(c->cap) > 0) {
		pr_err("nvme%u: no NVM command set or 4 KiB pages (CAP %#llx)\n", c->instance,
		       (unsigned long long)c->cap);
		return -ENODEV;
	}
	unsigned depth = MIN(NVME_CAP_MQES(c->cap) + 1u, NVME_IO_DEPTH);
	if (depth < 2)
		return -ENODEV;

	if ((r = ctrl_disable(c))) {
		pr_err("nvme%u: controller did not stop (%d)\n", c->instance, r);
		return r;
	}
	if ((r = nvme_queue_init(&c->admin, 0, ADMIN_DEPTH, c->regs, dstrd)))
		return r;
	c->nr_ioq = MIN(nr_cpus, (unsigned)NVME_MAX_IOQ);
	/* The doorbell stride comes from the device: only queues whose doorbells lie in the mapping. */
	while (c->nr_ioq && NVME_CQ_DB(c->nr_ioq, dstrd) + 4u > c->regs_len)
		c->nr_ioq--;
	if (!c->nr_ioq) {
		pr_err("nvme%u: doorbell stride %u puts the I/O doorbells outside BAR0\n", c->instance, dstrd);
		return -ENODEV;
	}
	c->ioq = kcalloc(c->nr_ioq, sizeof(*c->ioq));
	buf = kzalloc(NVME_IDENTIFY_SIZE);
	if (!c->ioq || !buf) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < c->nr_ioq; i++) {
		if ((r = nvme_queue_init(&c->ioq[i], (uint16_t)(i + 1), (uint16_t)depth, c->regs, dstrd)))
			goto fail;
		c->ioq[i].dead = true;
	}
	if ((r = ctrl_enable(c))) {
		pr_err("nvme%u: controller did not become ready (%d, CSTS %#x)\n", c->instance, r,
		       rd32(c, NVME_REG_CSTS));
		goto fail;
	}
	if ((r = identify_ctrl(c, buf)))
		goto fail;

	/* One vector per I/O queue (MSI-X entry i + 1; the admin queue is polled). */
	for (unsigned i = 0; i < NVME_MAX_IOQ; i++)
		c->irq_entry[i] = -1;
	if ((r = c->ops->setup_irqs(c)))
		goto fail;
	for (unsigned i = 0; i < c->nr_ioq; i++)
		if (c->irq_entry[i] >= 0)
			c->ioq[i].vector = c->ops->attach_irq(c, (unsigned)c->irq_entry[i], queue_irq,
							     &c->ioq[i]);
	if ((r = create_io_queues(c)))
		goto fail;
	c->state = NVME_CTRL_LIVE;
	if ((r = scan_namespaces(c, buf)))
		goto fail;
	kfree(buf);
	buf = NULL;
	if (!thread_create("nvme-reset", reset_thread, c))
		pr_warn("nvme%u: no reset thread: timeouts will not recover\n", c->instance);
	pr_info("nvme%u: %s (serial %s), %u I/O queue%s of %u, %u namespace%s, max transfer %u KiB%s\n",
		c->instance, c->model, c->serial, c->nr_ioq, c->nr_ioq == 1 ? "" : "s", depth,
		c->nr_ns, c->nr_ns == 1 ? "" : "s", c->max_transfer / 1024,
		c->vwc ? ", write cache" : "");
	nvme_ctrls[nr_ctrls++] = c;
	return 0;
fail:
	ctrl_disable(c);
	kfree(buf);
	return r;
}

void nvme_ctrl_irq_shared(struct nvme_ctrl *c, void **arg, irq_handler_t *fn)
{
	*arg = c;
	*fn = shared_irq;
}

unsigned nvme_nr_ctrls(void)
{
	return nr_ctrls;
}
