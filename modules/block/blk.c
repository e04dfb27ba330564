/* Disks, hardware queue choice, synchronous requests and completion. */
#include <block/block.h>
#include <arch/memlayout.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/page.h>

static struct blk_dev *disks, **disks_tail = &disks;
static spinlock_t disks_lock = SPINLOCK_INIT;
static unsigned next_minor;

#define BOUNCE_ORDER 4 /* 64 KiB: requests through a bounce go in pieces this big */

unsigned blk_nr_cpus(void)
{
	/* Final once the application processors are up (INIT_CORE), before
	 * any disk is probed. */
	return cpu_count();
}

struct blk_dev *blk_devices(void)
{
	return disks;
}

struct blk_dev *blk_find(const char *name)
{
	for (struct blk_dev *d = disks; d; d = d->next)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

void blk_name_next(const char *prefix, char name[16])
{
	size_t p = strlen(prefix);
	for (unsigned n = 0; n < 26 + 26 * 26; n++) {
		char suffix[3] = { 0 };
		if (n < 26) {
			suffix[0] = 'a' + n;
		} else {
			suffix[0] = 'a' + (n - 26) / 26;
			suffix[1] = 'a' + (n - 26) % 26;
		}
		if (p + strlen(suffix) >= 16)
			break;
		memcpy(name, prefix, p);
		strlcpy(name + p, suffix, 16 - p);
		if (!blk_find(name))
			return;
	}
	name[0] = 0;
}

int blk_register(struct blk_dev *bd)
{
	if (!bd->name[0] || !bd->ops || !bd->ops->submit || !bd->nr_hw_queues || bd->nr_hw_queues > BLK_MAX_HWQ)
		return -EINVAL;
	if (bd->block_size < BLK_SECTOR_SIZE || (bd->block_size & (bd->block_size - 1)) ||
	    bd->block_size > PAGE_SIZE)
		return -EINVAL;
	if (blk_find(bd->name))
		return -EEXIST;
	for (unsigned i = 0; i < bd->nr_hw_queues; i++) {
		wait_queue_init(&bd->hwq[i].wq);
		bd->hwq[i].completions = 0;
	}
	uint64_t f = spin_lock_irqsave(&disks_lock);
	/* Linux's major 254 is dynamic (virtio); one minor per disk here. */
	bd->rdev = (254u << 8) | next_minor++;
	bd->next = NULL;
	*disks_tail = bd;
	disks_tail = &bd->next;
	spin_unlock_irqrestore(&disks_lock, f);
	pr_info("block: %s: %llu MiB, %u-byte blocks, %u queue%s%s\n", bd->name,
		(unsigned long long)(bd->sectors >> 11), bd->block_size, bd->nr_hw_queues,
		bd->nr_hw_queues > 1 ? "s" : "", bd->readonly ? ", read-only" : "");
	return 0;
}

void blk_complete(struct blk_dev *bd, struct blk_request *rq, int status)
{
	struct blk_hwq *q = &bd->hwq[rq->hwq < bd->nr_hw_queues ? rq->hwq : 0];
	rq->status = status;
	__atomic_store_n(&rq->done, true, __ATOMIC_RELEASE);
	q->completions++;
	wake_up_all(&q->wq);
}

static int submit_wait(struct blk_dev *bd, struct blk_request *rq)
{
	unsigned hwq = this_cpu()->cpu_id % bd->nr_hw_queues;
	struct blk_hwq *q = &bd->hwq[hwq];
	int r;

	rq->hwq = hwq;
	rq->done = false;
	rq->status = 0;
	for (;;) {
		uint64_t seen = q->completions;
		r = bd->ops->submit(bd, hwq, rq);
		if (r != -EBUSY)
			break;
		/* Full: wait for a request to finish (a timeout in case the
		 * completion raced with our look at the counter). */
		wait_event_timeout(&q->wq, q->completions != seen, 10000000ull);
	}
	if (r)
		return r;
	wait_event(&q->wq, __atomic_load_n(&rq->done, __ATOMIC_ACQUIRE));
	return rq->status;
}

/* Can the device reach buf directly (direct map: physically contiguous)? */
static bool dma_ok(const void *buf)
{
	uintptr_t v = (uintptr_t)buf;
	return v >= DIRECT_MAP_BASE && v < KSTACK_AREA_BASE;
}

static int check(struct blk_dev *bd, uint64_t sector, uint32_t nsectors)
{
	uint32_t per_block = bd->block_size / BLK_SECTOR_SIZE;
	if (sector > bd->sectors || nsectors > bd->sectors - sector)
		return -EINVAL;
	if (sector % per_block || nsectors % per_block)
		return -EINVAL;
	return 0;
}

static int rw(struct blk_dev *bd, enum blk_op op, uint64_t sector, void *buf, uint32_t nsectors)
{
	int r = check(bd, sector, nsectors);
	if (r)
		return r;
	if (op == BLK_WRITE && bd->readonly)
		return -EPERM;
	uint32_t max = bd->max_sectors ? bd->max_sectors : UINT32_MAX;
	uint8_t *bounce = NULL;
	if (!dma_ok(buf)) {
		bounce = page_alloc(BOUNCE_ORDER, 0);
		if (!bounce)
			return -ENOMEM;
		uint32_t bmax = (PAGE_SIZE << BOUNCE_ORDER) / BLK_SECTOR_SIZE;
		max = max < bmax ? max : bmax;
	}
	uint32_t per_block = bd->block_size / BLK_SECTOR_SIZE;
	max -= max % per_block;
	if (!max)
		max = per_block;
	uint8_t *p = buf;
	while (nsectors && !r) {
		uint32_t n = nsectors < max ? nsectors : max;
		size_t bytes = (size_t)n * BLK_SECTOR_SIZE;
		struct blk_request rq = { .op = op, .sector = sector, .nsectors = n, .buf = bounce ? bounce : p };
		if (bounce && op == BLK_WRITE)
			memcpy(bounce, p, bytes);
		r = submit_wait(bd, &rq);
		if (!r && bounce && op == BLK_READ)
			memcpy(p, bounce, bytes);
		p += bytes;
		sector += n;
		nsectors -= n;
	}
	if (bounce)
		page_free(bounce, BOUNCE_ORDER);
	return r;
}

int blk_read(struct blk_dev *bd, uint64_t sector, void *buf, uint32_t nsectors)
{
	return rw(bd, BLK_READ, sector, buf, nsectors);
}

int blk_write(struct blk_dev *bd, uint64_t sector, const void *buf, uint32_t nsectors)
{
	return rw(bd, BLK_WRITE, sector, (void *)buf, nsectors);
}

int blk_flush(struct blk_dev *bd)
{
	if (!bd->write_cache || bd->readonly)
		return 0;
	struct blk_request rq = { .op = BLK_FLUSH };
	return submit_wait(bd, &rq);
}
