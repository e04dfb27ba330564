/*
 * NVMe queue and PRP logic against a fake controller in memory: the fake
 * reads the doorbells the driver writes, executes Read/Write/Flush on a
 * RAM disk by walking the PRPs as a controller would (its own walk, not the
 * driver's builder), and posts completions with the phase tag. It can also
 * post entries a broken or hostile device would: unknown command ids,
 * another queue's id, an SQ head beyond what was submitted, duplicates.
 */
#include <selftest/selftest.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <sched/thread.h>
#include <time/clock.h>
#include "../nvme.h"

#define FAKE_LBA 512u
#define FAKE_DISK_PAGES 16u

struct fake_ctrl {
	uint8_t *regs;            /* doorbell page(s) */
	uint8_t *disk;
	uint16_t sq_head;
	uint16_t cq_tail;
	uint8_t phase;
};

static bool fake_init(struct fake_ctrl *f)
{
	memset(f, 0, sizeof(*f));
	f->regs = page_alloc(1, PAGE_ZERO);   /* registers + first doorbells */
	f->disk = page_alloc(4, PAGE_ZERO);   /* FAKE_DISK_PAGES pages */
	f->phase = 1;
	return f->regs && f->disk;
}

static void fake_destroy(struct fake_ctrl *f)
{
	page_free(f->regs, 1);
	page_free(f->disk, 4);
}

static void fake_post(struct fake_ctrl *f, struct nvme_queue *q, uint16_t cid, uint16_t sqid,
		      uint16_t sqhd, uint16_t status)
{
	volatile struct nvme_cqe *e = &q->cq[f->cq_tail];
	e->result = 0;
	e->sq_head = sqhd;
	e->sq_id = sqid;
	e->cid = cid;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->status = (uint16_t)(status << 1 | f->phase);
	if (++f->cq_tail == q->depth) {
		f->cq_tail = 0;
		f->phase ^= 1;
	}
}

/* Copy len bytes between the disk at off and the memory the PRPs describe. */
static bool fake_dma(struct fake_ctrl *f, const struct nvme_sqe *c, size_t off, size_t len, bool write)
{
	uint64_t ptrs[NVME_PRP_MAX_PAGES];
	unsigned n = 0;
	size_t first = MIN(len, NVME_PAGE_SIZE - (c->prp1 & (NVME_PAGE_SIZE - 1)));
	size_t rem = len - first;

	ptrs[n++] = c->prp1;
	if (rem > NVME_PAGE_SIZE) {
		const uint64_t *list = phys_to_virt(c->prp2);
		if (c->prp2 & (NVME_PAGE_SIZE - 1))
			return false;
		for (size_t k = 0; k < DIV_ROUND_UP(rem, NVME_PAGE_SIZE); k++) {
			if (list[k] & (NVME_PAGE_SIZE - 1))
				return false;
			ptrs[n++] = list[k];
		}
	} else if (rem) {
		if (c->prp2 & (NVME_PAGE_SIZE - 1))
			return false;
		ptrs[n++] = c->prp2;
	}
	for (unsigned k = 0; k < n && len; k++) {
		size_t chunk = k == 0 ? first : MIN(len, NVME_PAGE_SIZE);
		uint8_t *mem = phys_to_virt(ptrs[k]);
		if (write)
			memcpy(f->disk + off, mem, chunk);
		else
			memcpy(mem, f->disk + off, chunk);
		off += chunk;
		len -= chunk;
	}
	return true;
}

/* Execute everything the driver rang the SQ doorbell for. */
static unsigned fake_run(struct fake_ctrl *f, struct nvme_queue *q)
{
	uint16_t tail = (uint16_t)*q->sq_db;
	unsigned n = 0;

	while (f->sq_head != tail) {
		struct nvme_sqe c = q->sq[f->sq_head];
		uint16_t status = NVME_SC_SUCCESS;
		size_t off = (size_t)c.cdw10 * FAKE_LBA, len = ((c.cdw12 & 0xffff) + 1u) * FAKE_LBA;

		f->sq_head = (uint16_t)((f->sq_head + 1u) % q->depth);
		if (c.opcode == NVME_CMD_READ || c.opcode == NVME_CMD_WRITE) {
			if (off + len > FAKE_DISK_PAGES * PAGE_SIZE)
				status = NVME_SC_LBA_RANGE;
			else if (!fake_dma(f, &c, off, len, c.opcode == NVME_CMD_WRITE))
				status = NVME_SC_INVALID_FIELD;
		} else if (c.opcode != NVME_CMD_FLUSH) {
			status = NVME_SC_INVALID_FIELD;
		}
		fake_post(f, q, c.cid, q->qid, f->sq_head, status);
		n++;
	}
	return n;
}

struct result {
	int calls;
	uint16_t status;
};

static void on_done(void *arg, uint16_t status, uint32_t dw0 __unused)
{
	struct result *r = arg;
	r->calls++;
	r->status = status;
}

static void rw_cmd(struct nvme_sqe *c, uint8_t op, uint64_t lba, uint32_t blocks)
{
	memset(c, 0, sizeof(*c));
	c->opcode = op;
	c->nsid = 1;
	c->cdw10 = (uint32_t)lba;
	c->cdw11 = (uint32_t)(lba >> 32);
	c->cdw12 = blocks - 1;
}

/* One flush through the queue and the fake: submitted, executed, completed.
 * Returns the commands the queue completed (-1 when the submission failed). */
static int flush_round(struct fake_ctrl *f, struct nvme_queue *q, struct result *r)
{
	struct nvme_sqe c;
	rw_cmd(&c, NVME_CMD_FLUSH, 0, 1);
	if (nvme_queue_submit(q, &c, NULL, 0, on_done, r, 0))
		return -1;
	fake_run(f, q);
	return (int)nvme_queue_process(q);
}

SELFTEST(prp, "nvme.prp")
{
	uint64_t *list = page_alloc(0, PAGE_ZERO);
	paddr_t lp = virt_to_phys(list);
	struct nvme_sqe c;
	ST_ASSERT(list != NULL);

	/* Within one page, at an offset: PRP1 only. */
	struct nvme_sg one = { 0x10200, 0x200 };
	ST_EXPECT_EQ(nvme_prp_build(&c, &one, 1, list, lp), 0x200);
	ST_EXPECT_EQ(c.prp1, 0x10200);
	ST_EXPECT_EQ(c.prp2, 0);

	/* Crossing into a second page: PRP2 is that page. */
	struct nvme_sg two = { 0x10800, 0x1000 };
	ST_EXPECT_EQ(nvme_prp_build(&c, &two, 1, list, lp), 0x1000);
	ST_EXPECT_EQ(c.prp1, 0x10800);
	ST_EXPECT_EQ(c.prp2, 0x11000);

	/* Three pages from an offset: PRP2 is the list, holding pages 2 and 3. */
	struct nvme_sg three = { 0x20c00, 0x2000 };
	ST_EXPECT_EQ(nvme_prp_build(&c, &three, 1, list, lp), 0x2000);
	ST_EXPECT_EQ(c.prp1, 0x20c00);
	ST_EXPECT_EQ(c.prp2, lp);
	ST_EXPECT_EQ(list[0], 0x21000);
	ST_EXPECT_EQ(list[1], 0x22000);

	/* Scattered pages: each later piece page aligned. */
	struct nvme_sg sc[3] = { { 0x30e00, 0x200 }, { 0x50000, 0x1000 }, { 0x70000, 0x800 } };
	ST_EXPECT_EQ(nvme_prp_build(&c, sc, 3, list, lp), 0x1a00);
	ST_EXPECT_EQ(c.prp1, 0x30e00);
	ST_EXPECT_EQ(c.prp2, lp);
	ST_EXPECT_EQ(list[0], 0x50000);
	ST_EXPECT_EQ(list[1], 0x70000);

	/* What PRPs cannot express. */
	struct nvme_sg gap[2] = { { 0x30000, 0x800 }, { 0x50000, 0x1000 } };
	ST_EXPECT_EQ(nvme_prp_build(&c, gap, 2, list, lp), -EINVAL);
	struct nvme_sg mid[2] = { { 0x30000, 0x1000 }, { 0x50200, 0x200 } };
	ST_EXPECT_EQ(nvme_prp_build(&c, mid, 2, list, lp), -EINVAL);
	struct nvme_sg odd = { 0x30002, 0x200 };
	ST_EXPECT_EQ(nvme_prp_build(&c, &odd, 1, list, lp), -EINVAL);
	struct nvme_sg big = { 0x100000, (NVME_PRP_MAX_PAGES + 1) * NVME_PAGE_SIZE };
	ST_EXPECT_EQ(nvme_prp_build(&c, &big, 1, list, lp), -E2BIG);
	struct nvme_sg most = { 0x100000, NVME_PRP_MAX_PAGES * NVME_PAGE_SIZE };
	ST_EXPECT_EQ(nvme_prp_build(&c, &most, 1, list, lp), NVME_PRP_MAX_PAGES * NVME_PAGE_SIZE);
	ST_EXPECT_EQ(list[NVME_PRP_PER_PAGE - 1], 0x100000 + (uint64_t)NVME_PRP_PER_PAGE * NVME_PAGE_SIZE);
	/* Three pages without a list page: the caller must provide one. */
	ST_EXPECT_EQ(nvme_prp_build(&c, &three, 1, NULL, 0), -E2BIG);
	page_free(list, 0);
}

SELFTEST(queue_io, "nvme.queue_io")
{
	struct fake_ctrl f;
	struct nvme_queue q;
	struct result r = { 0 };
	struct nvme_sqe c;
	ST_ASSERT(fake_init(&f));
	ST_ASSERT_EQ(nvme_queue_init(&q, 1, 8, f.regs, 0), 0);

	/* 5 pages' worth from 512 bytes into a buffer: PRP1 at an offset, then a list. */
	uint8_t *buf = page_alloc(3, PAGE_ZERO);
	uint8_t *back = page_alloc(3, PAGE_ZERO);
	ST_ASSERT(buf && back);
	size_t len = 5 * PAGE_SIZE;
	for (size_t i = 0; i < len; i++)
		buf[512 + i] = (uint8_t)(i * 7 + i / 4096);
	struct nvme_sg sg = { virt_to_phys(buf + 512), (uint32_t)len };
	rw_cmd(&c, NVME_CMD_WRITE, 3, (uint32_t)(len / FAKE_LBA));
	ST_ASSERT_EQ(nvme_queue_submit(&q, &c, &sg, 1, on_done, &r, 0), 0);
	ST_EXPECT_EQ(c.prp2, virt_to_phys(q.slots[c.cid & 0xfff].prp_list));
	ST_EXPECT_EQ(nvme_queue_inflight(&q), 1);
	ST_EXPECT_EQ(nvme_queue_process(&q), 0); /* nothing posted yet */
	ST_EXPECT_EQ(fake_run(&f, &q), 1);
	ST_EXPECT_EQ(nvme_queue_process(&q), 1);
	ST_EXPECT_EQ(r.calls, 1);
	ST_EXPECT_EQ(r.status, 0);
	ST_EXPECT_EQ(*q.cq_db, 1);
	ST_EXPECT(!memcmp(f.disk + 3 * FAKE_LBA, buf + 512, len));
	ST_EXPECT_EQ(f.disk[3 * FAKE_LBA - 1], 0);
	ST_EXPECT_EQ(f.disk[3 * FAKE_LBA + len], 0);

	/* Read it back through two scattered pieces. */
	struct nvme_sg rs[2] = { { virt_to_phys(back + 4096 + 1024), 3072 },
				 { virt_to_phys(back + 3 * 4096), (uint32_t)len - 3072 } };
	rw_cmd(&c, NVME_CMD_READ, 3, (uint32_t)(len / FAKE_LBA));
	ST_ASSERT_EQ(nvme_queue_submit(&q, &c, rs, 2, on_done, &r, 0), 0);
	fake_run(&f, &q);
	ST_EXPECT_EQ(nvme_queue_process(&q), 1);
	ST_EXPECT_EQ(r.calls, 2);
	ST_EXPECT(!memcmp(back + 4096 + 1024, buf + 512, 3072));
	ST_EXPECT(!memcmp(back + 3 * 4096, buf + 512 + 3072, len - 3072));

	/* A device error status reaches the caller. */
	rw_cmd(&c, NVME_CMD_READ, FAKE_DISK_PAGES * 8, 1);
	struct nvme_sg small = { virt_to_phys(back), 512 };
	ST_ASSERT_EQ(nvme_queue_submit(&q, &c, &small, 1, on_done, &r, 0), 0);
	fake_run(&f, &q);
	nvme_queue_process(&q);
	ST_EXPECT_EQ(r.status, NVME_SC_LBA_RANGE);
	ST_EXPECT_EQ(q.dropped, 0);

	page_free(buf, 3);
	page_free(back, 3);
	nvme_queue_destroy(&q);
	fake_destroy(&f);
}

SELFTEST(queue_wrap, "nvme.queue_wrap")
{
	struct fake_ctrl f;
	struct nvme_queue q;
	struct result r = { 0 };
	struct nvme_sqe c;
	ST_ASSERT(fake_init(&f));
	ST_ASSERT_EQ(nvme_queue_init(&q, 2, 4, f.regs, 0), 0);

	/* Depth 4 holds 3 commands; the 4th waits for a free slot. */
	for (int i = 0; i < 3; i++) {
		rw_cmd(&c, NVME_CMD_FLUSH, 0, 1);
		ST_ASSERT_EQ(nvme_queue_submit(&q, &c, NULL, 0, on_done, &r, 0), 0);
	}
	rw_cmd(&c, NVME_CMD_FLUSH, 0, 1);
	ST_EXPECT_EQ(nvme_queue_submit(&q, &c, NULL, 0, on_done, &r, 0), -EAGAIN);
	fake_run(&f, &q);
	ST_EXPECT_EQ(nvme_queue_process(&q), 3);

	/* Many rounds through the rings: the phase tag flips on every wrap. */
	int total = 0;
	for (int round = 0; round < 40; round++) {
		int k = 1 + round % 3;
		total += k;
		for (int i = 0; i < k; i++) {
			rw_cmd(&c, NVME_CMD_FLUSH, 0, 1);
			ST_ASSERT_EQ(nvme_queue_submit(&q, &c, NULL, 0, on_done, &r, 0), 0);
		}
		fake_run(&f, &q);
		ST_ASSERT_EQ(nvme_queue_process(&q), k);
	}
	ST_EXPECT_EQ(r.calls, 3 + total);
	ST_EXPECT_EQ(q.dropped, 0);
	ST_EXPECT_EQ(nvme_queue_inflight(&q), 0);
	nvme_queue_destroy(&q);
	fake_destroy(&f);
}

SELFTEST(bad_completion, "nvme.bad_completion")
{
	struct fake_ctrl f;
	struct nvme_queue q;
	struct result r = { 0 };
	struct nvme_sqe c;
	ST_ASSERT(fake_init(&f));
	ST_ASSERT_EQ(nvme_queue_init(&q, 1, 8, f.regs, 0), 0);

	rw_cmd(&c, NVME_CMD_FLUSH, 0, 1);
	ST_ASSERT_EQ(nvme_queue_submit(&q, &c, NULL, 0, on_done, &r, 0), 0);
	uint16_t cid = c.cid;

	/* Nothing in flight under these ids, another queue, an SQ head past our tail. */
	fake_post(&f, &q, (uint16_t)(cid + 1), 1, 1, 0);             /* unused slot */
	fake_post(&f, &q, (uint16_t)(cid ^ (1u << 12)), 1, 1, 0);    /* stale generation */
	fake_post(&f, &q, 0xfff, 1, 1, 0);                            /* slot out of range */
	fake_post(&f, &q, cid, 2, 1, 0);                              /* for SQ 2 */
	fake_post(&f, &q, cid, 1, 5, 0);                              /* head beyond tail (1) */
	fake_post(&f, &q, cid, 1, 200, 0);                            /* head beyond the ring */
	ST_EXPECT_EQ(nvme_queue_process(&q), 0);
	ST_EXPECT_EQ(q.dropped, 6);
	ST_EXPECT_EQ(r.calls, 0);
	ST_EXPECT_EQ(nvme_queue_inflight(&q), 1);
	ST_EXPECT_EQ(*q.cq_db, 6); /* consumed, so the device can reuse the entries */

	/* The genuine completion still lands; a replay of it is dropped. */
	fake_post(&f, &q, cid, 1, 1, 0);
	fake_post(&f, &q, cid, 1, 1, 0);
	ST_EXPECT_EQ(nvme_queue_process(&q), 1);
	ST_EXPECT_EQ(r.calls, 1);
	ST_EXPECT_EQ(q.dropped, 7);
	f.sq_head = 1;

	/* And the queue keeps working (across the CQ wrap at 8). */
	for (int i = 0; i < 3; i++)
		ST_EXPECT_EQ(flush_round(&f, &q, &r), 1);
	ST_EXPECT_EQ(r.calls, 4);
	ST_EXPECT_EQ(q.dropped, 7);
	nvme_queue_destroy(&q);
	fake_destroy(&f);
}

SELFTEST(timeout, "nvme.timeout")
{
	struct fake_ctrl f;
	struct nvme_queue q;
	struct result slow = { 0 }, other = { 0 };
	struct nvme_sqe c;
	ST_ASSERT(fake_init(&f));
	ST_ASSERT_EQ(nvme_queue_init(&q, 1, 8, f.regs, 0), 0);

	rw_cmd(&c, NVME_CMD_FLUSH, 0, 1);
	ST_ASSERT_EQ(nvme_queue_submit(&q, &c, NULL, 0, on_done, &slow, NSEC_PER_MSEC), 0);
	uint16_t slow_cid = c.cid;
	rw_cmd(&c, NVME_CMD_FLUSH, 0, 1);
	ST_ASSERT_EQ(nvme_queue_submit(&q, &c, NULL, 0, on_done, &other, 0), 0);

	ST_EXPECT_EQ(nvme_queue_expire(&q, clock_monotonic_ns()), 0);
	thread_sleep_ns(2 * NSEC_PER_MSEC);
	ST_EXPECT_EQ(nvme_queue_expire(&q, clock_monotonic_ns()), 1);
	ST_EXPECT_EQ(nvme_queue_expire(&q, clock_monotonic_ns()), 0); /* counted once */

	/* The device answers late: not trusted any more (the slot waits for the reset). */
	fake_post(&f, &q, slow_cid, 1, 1, 0);
	ST_EXPECT_EQ(nvme_queue_process(&q), 0);
	ST_EXPECT_EQ(q.dropped, 1);
	ST_EXPECT_EQ(slow.calls, 0);

	/* Controller reset: everyone outstanding is told, the rings start over. */
	nvme_queue_cancel_all(&q, NVME_STATUS_RESET);
	ST_EXPECT_EQ(slow.calls, 1);
	ST_EXPECT_EQ(slow.status, NVME_STATUS_TIMEOUT);
	ST_EXPECT_EQ(other.calls, 1);
	ST_EXPECT_EQ(other.status, NVME_STATUS_RESET);
	ST_EXPECT_EQ(nvme_queue_inflight(&q), 0);
	ST_EXPECT_EQ(q.sq_tail, 0);
	ST_EXPECT_EQ(q.cq_phase, 1);

	/* A polled command against a device that never answers gives up. */
	rw_cmd(&c, NVME_CMD_FLUSH, 0, 1);
	ST_EXPECT_EQ(nvme_queue_exec_poll(&q, &c, NULL, 0, 5 * NSEC_PER_MSEC, NULL), -ETIMEDOUT);
	nvme_queue_cancel_all(&q, NVME_STATUS_RESET);

	/* After the reset, a fresh device state serves the queue again. */
	fake_destroy(&f);
	ST_ASSERT(fake_init(&f));
	q.sq_db = (volatile uint32_t *)(f.regs + NVME_SQ_DB(1, 0));
	q.cq_db = (volatile uint32_t *)(f.regs + NVME_CQ_DB(1, 0));
	ST_EXPECT_EQ(flush_round(&f, &q, &other), 1);
	ST_EXPECT_EQ(other.calls, 2);
	ST_EXPECT_EQ(other.status, 0);
	nvme_queue_destroy(&q);
	fake_destroy(&f);
}
