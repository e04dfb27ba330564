/*
 * NVMe submission/completion queue pairs (base spec 4.1, 4.6): the driver
 * owns the SQ tail and the CQ head, the controller reports its SQ head in
 * every completion, and a completion entry is new when its phase tag equals
 * the phase the driver expects (which flips on every wrap of the CQ).
 *
 * The device is not trusted: a completion for a command id we have not got
 * in flight, for another SQ, or with an SQ head outside what we submitted is
 * logged and dropped, never followed.
 */
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <sched/thread.h>
#include <time/clock.h>
#include "nvme.h"

#define NO_SLOT 0xffff

static unsigned ring_order(size_t bytes)
{
	return page_order_for(bytes);
}

int nvme_queue_init(struct nvme_queue *q, uint16_t qid, uint16_t depth, volatile void *regs,
		    unsigned dstrd)
{
	if (depth < 2 || depth > NVME_QUEUE_MAX_DEPTH)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	spin_init(&q->lock);
	wait_queue_init(&q->slot_wait);
	q->qid = qid;
	q->depth = depth;
	q->vector = -1;
	q->sq = page_alloc(ring_order(depth * sizeof(struct nvme_sqe)), PAGE_ZERO);
	q->cq = page_alloc(ring_order(depth * sizeof(struct nvme_cqe)), PAGE_ZERO);
	q->slots = kcalloc(depth - 1u, sizeof(*q->slots));
	if (!q->sq || !q->cq || !q->slots) {
		nvme_queue_destroy(q);
		return -ENOMEM;
	}
	q->sq_db = (volatile uint32_t *)((volatile uint8_t *)regs + NVME_SQ_DB(qid, dstrd));
	q->cq_db = (volatile uint32_t *)((volatile uint8_t *)regs + NVME_CQ_DB(qid, dstrd));
	nvme_queue_cancel_all(q, NVME_STATUS_RESET); /* sets up rings and free list */
	return 0;
}

void nvme_queue_destroy(struct nvme_queue *q)
{
	if (q->slots) {
		for (unsigned i = 0; i + 1u < q->depth; i++)
			if (q->slots[i].prp_list)
				page_free(q->slots[i].prp_list, 0);
		kfree(q->slots);
	}
	if (q->sq)
		page_free(q->sq, ring_order(q->depth * sizeof(struct nvme_sqe)));
	if (q->cq)
		page_free(q->cq, ring_order(q->depth * sizeof(struct nvme_cqe)));
	q->sq = NULL;
	q->cq = NULL;
	q->slots = NULL;
}

paddr_t nvme_queue_sq_phys(const struct nvme_queue *q)
{
	return virt_to_phys(q->sq);
}

paddr_t nvme_queue_cq_phys(const struct nvme_queue *q)
{
	return virt_to_phys(q->cq);
}

static void slot_release(struct nvme_queue *q, uint16_t i)
{
	struct nvme_slot *s = &q->slots[i];

	s->state = NVME_SLOT_FREE;
	s->gen++;
	s->done = NULL;
	s->next_free = q->free_head;
	q->free_head = i;
	q->nfree++;
}

int nvme_queue_submit(struct nvme_queue *q, struct nvme_sqe *cmd, const struct nvme_sg *sg,
		      unsigned n, nvme_done_fn done, void *arg, uint64_t timeout_ns)
{
	uint64_t f = spin_lock_irqsave(&q->lock);

	if (q->dead) {
		spin_unlock_irqrestore(&q->lock, f);
		return -EIO;
	}
	if (q->free_head == NO_SLOT) {
		spin_unlock_irqrestore(&q->lock, f);
		return -EAGAIN;
	}
	uint16_t i = q->free_head;
	struct nvme_slot *s = &q->slots[i];

	if (n > 0) {
		long r = nvme_prp_build(cmd, sg, n, s->prp_list,
					s->prp_list ? virt_to_phys(s->prp_list) : 0);
		if (r == -E2BIG && !s->prp_list) {
			/* More than two pages: the slot's PRP list page, kept for reuse. */
			s->prp_list = page_alloc(0, 0);
			r = s->prp_list ? nvme_prp_build(cmd, sg, n, s->prp_list,
							 virt_to_phys(s->prp_list))
					: -ENOMEM;
		}
		if (r < 0) {
			spin_unlock_irqrestore(&q->lock, f);
			return (int)r;
		}
	}

	q->free_head = s->next_free;
	q->nfree--;
	s->state = NVME_SLOT_BUSY;
	s->done = done;
	s->arg = arg;
	s->deadline = timeout_ns ? clock_monotonic_ns() + timeout_ns : 0;
	cmd->cid = NVME_CID(i, s->gen);
	cmd->flags = 0; /* PRPs, not fused */

	q->sq[q->sq_tail] = *cmd;
	q->sq_tail = (uint16_t)((q->sq_tail + 1u) % q->depth);
	/* The entry must be in memory before the doorbell tells the device. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*q->sq_db = q->sq_tail;
	spin_unlock_irqrestore(&q->lock, f);
	return 0;
}

int nvme_queue_submit_wait(struct nvme_queue *q, struct nvme_sqe *cmd, const struct nvme_sg *sg,
			   unsigned n, nvme_done_fn done, void *arg, uint64_t timeout_ns)
{
	for (;;) {
		int r = nvme_queue_submit(q, cmd, sg, n, done, arg, timeout_ns);
		if (r != -EAGAIN)
			return r;
		wait_event(&q->slot_wait, READ_ONCE(q->nfree) > 0 || READ_ONCE(q->dead));
	}
}

/* Is the reported SQ head within [our last known head, our tail]? */
static bool sq_head_valid(const struct nvme_queue *q, uint16_t head)
{
	if (head >= q->depth)
		return false;
	unsigned outstanding = (q->sq_tail + q->depth - q->sq_head) % q->depth;
	unsigned advance = (head + q->depth - q->sq_head) % q->depth;
	return advance <= outstanding;
}

unsigned nvme_queue_process(struct nvme_queue *q)
{
	unsigned done = 0, seen = 0;
	uint64_t f = spin_lock_irqsave(&q->lock);

	for (;;) {
		volatile struct nvme_cqe *e = &q->cq[q->cq_head];
		uint16_t st = e->status;

		if ((st & NVME_CQE_PHASE) != q->cq_phase)
			break;
		/* Read the rest of the entry only after seeing its phase. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		struct nvme_cqe c = { .result = e->result, .sq_head = e->sq_head,
				      .sq_id = e->sq_id, .cid = e->cid, .status = st };

		if (++q->cq_head == q->depth) {
			q->cq_head = 0;
			q->cq_phase ^= 1;
		}
		seen++;

		uint16_t i = c.cid & (NVME_QUEUE_MAX_DEPTH - 1);
		const char *bad = NULL;
		if (c.sq_id != q->qid)
			bad = "for another submission queue";
		else if (!sq_head_valid(q, c.sq_head))
			bad = "with an SQ head outside the submitted entries";
		else if (i + 1u < q->depth && q->slots[i].state == NVME_SLOT_EXPIRED &&
			 c.cid == NVME_CID(i, q->slots[i].gen))
			bad = "for a command that had timed out";
		else if (i + 1u >= q->depth || q->slots[i].state != NVME_SLOT_BUSY ||
			 c.cid != NVME_CID(i, q->slots[i].gen))
			bad = "for a command id not in flight";
		if (bad) {
			/* The slot stays as it is: an expired one is reclaimed by the reset. */
			q->dropped++;
			pr_warn("nvme: queue %u: dropped a completion %s (cid %#x, sq %u, sq head %u)\n",
				q->qid, bad, c.cid, c.sq_id, c.sq_head);
			continue;
		}
		q->sq_head = c.sq_head;

		struct nvme_slot *s = &q->slots[i];
		nvme_done_fn fn = s->done;
		void *arg = s->arg;
		slot_release(q, i);
		q->completed++;
		done++;
		/* Callbacks may submit again: run them without the lock. */
		spin_unlock_irqrestore(&q->lock, f);
		if (fn)
			fn(arg, NVME_STATUS(c.status), c.result);
		f = spin_lock_irqsave(&q->lock);
	}
	if (seen)
		*q->cq_db = q->cq_head;
	spin_unlock_irqrestore(&q->lock, f);
	if (done)
		wake_up_all(&q->slot_wait);
	return done;
}

unsigned nvme_queue_expire(struct nvme_queue *q, uint64_t now_ns)
{
	unsigned n = 0;
	uint64_t f = spin_lock_irqsave(&q->lock);

	for (unsigned i = 0; i + 1u < q->depth; i++) {
		struct nvme_slot *s = &q->slots[i];
		if (s->state == NVME_SLOT_BUSY && s->deadline && s->deadline <= now_ns) {
			s->state = NVME_SLOT_EXPIRED;
			n++;
		}
	}
	spin_unlock_irqrestore(&q->lock, f);
	return n;
}

void nvme_queue_cancel_all(struct nvme_queue *q, uint16_t status)
{
	for (unsigned i = 0; i + 1u < q->depth; i++) {
		uint64_t f = spin_lock_irqsave(&q->lock);
		struct nvme_slot *s = &q->slots[i];
		nvme_done_fn fn = NULL;
		void *arg = NULL;
		uint16_t st = status;

		if (s->state != NVME_SLOT_FREE) {
			if (s->state == NVME_SLOT_EXPIRED)
				st = NVME_STATUS_TIMEOUT;
			fn = s->done;
			arg = s->arg;
			s->state = NVME_SLOT_FREE;
			s->gen++;
		}
		spin_unlock_irqrestore(&q->lock, f);
		if (fn)
			fn(arg, st, 0);
	}

	uint64_t f = spin_lock_irqsave(&q->lock);
	q->free_head = NO_SLOT;
	q->nfree = 0;
	for (unsigned i = q->depth - 1u; i-- > 0;) {
		q->slots[i].next_free = q->free_head;
		q->free_head = (uint16_t)i;
		q->nfree++;
	}
	memset(q->sq, 0, q->depth * sizeof(struct nvme_sqe));
	memset(q->cq, 0, q->depth * sizeof(struct nvme_cqe));
	q->sq_tail = q->sq_head = q->cq_head = 0;
	q->cq_phase = 1;
	spin_unlock_irqrestore(&q->lock, f);
	wake_up_all(&q->slot_wait);
}

unsigned nvme_queue_inflight(struct nvme_queue *q)
{
	return (unsigned)(q->depth - 1u) - READ_ONCE(q->nfree);
}

struct poll_wait {
	volatile bool done;
	uint16_t status;
	uint32_t result;
};

static void poll_done(void *arg, uint16_t status, uint32_t result)
{
	struct poll_wait *w = arg;
	w->status = status;
	w->result = result;
	w->done = true;
}

int nvme_queue_exec_poll(struct nvme_queue *q, struct nvme_sqe *cmd, const struct nvme_sg *sg,
			 unsigned n, uint64_t timeout_ns, uint32_t *result)
{
	struct poll_wait w = { .done = false };
	int r = nvme_queue_submit_wait(q, cmd, sg, n, poll_done, &w, 0);

	if (r < 0)
		return r;
	uint64_t deadline = clock_monotonic_ns() + timeout_ns;
	while (!w.done) {
		nvme_queue_process(q);
		if (w.done)
			break;
		if (clock_monotonic_ns() >= deadline) {
			/* w lives on this stack: nothing may complete it after we
			 * return, and its late answer is dropped as not in flight. */
			uint64_t f = spin_lock_irqsave(&q->lock);
			for (unsigned i = 0; i + 1u < q->depth; i++) {
				struct nvme_slot *s = &q->slots[i];
				if (s->state == NVME_SLOT_BUSY && s->arg == &w) {
					s->state = NVME_SLOT_EXPIRED;
					s->done = NULL;
				}
			}
			spin_unlock_irqrestore(&q->lock, f);
			return -ETIMEDOUT;
		}
		thread_yield();
	}
	if (result)
		*result = w.result;
	return w.status;
}
