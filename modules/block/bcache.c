/* Buffer cache (after xv6's bio.c): a fixed set of BCACHE_BLOCK-byte buffers
 * on a most-recently-used list; a buffer is locked while a filesystem holds it. */
#include <block/block.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <mm/page.h>
#include <sched/mutex.h>

#define NBUF 64

static struct buf bufs[NBUF];
static struct mutex locks[NBUF];
static struct buf head; /* head.next: most recently used */
static spinlock_t cache_lock = SPINLOCK_INIT;
static bool ready;

static void cache_init(void)
{
	head.prev = head.next = &head;
	for (int i = 0; i < NBUF; i++) {
		struct buf *b = &bufs[i];
		mutex_init(&locks[i]);
		b->lock = &locks[i];
		b->next = head.next;
		b->prev = &head;
		head.next->prev = b;
		head.next = b;
	}
	ready = true;
}

static void unlink_buf(struct buf *b)
{
	b->next->prev = b->prev;
	b->prev->next = b->next;
}

static struct buf *bget(struct blk_dev *bd, uint64_t blockno)
{
	uint64_t f = spin_lock_irqsave(&cache_lock);
	if (!ready)
		cache_init();
	for (struct buf *b = head.next; b != &head; b = b->next)
		if (b->dev == bd && b->blockno == blockno) {
			b->refs++;
			spin_unlock_irqrestore(&cache_lock, f);
			mutex_lock(b->lock);
			return b;
		}
	/* Recycle the least recently used unreferenced buffer. */
	for (struct buf *b = head.prev; b != &head; b = b->prev)
		if (b->refs == 0) {
			b->dev = bd;
			b->blockno = blockno;
			b->valid = false;
			b->refs = 1;
			spin_unlock_irqrestore(&cache_lock, f);
			mutex_lock(b->lock);
			return b;
		}
	spin_unlock_irqrestore(&cache_lock, f);
	pr_err("bcache: all %d buffers in use\n", NBUF);
	return NULL;
}

struct buf *bread(struct blk_dev *bd, uint64_t blockno)
{
	uint64_t sector = blockno * (BCACHE_BLOCK / BLK_SECTOR_SIZE);
	if (sector >= bd->sectors)
		return NULL;
	struct buf *b = bget(bd, blockno);
	if (!b)
		return NULL;
	if (!b->data && !(b->data = page_alloc(0, 0))) {
		brelse(b);
		return NULL;
	}
	if (!b->valid) {
		/* The last block of a disk whose size is not a multiple of the
		 * cache block: read what exists, zero the rest. */
		uint32_t n = BCACHE_BLOCK / BLK_SECTOR_SIZE;
		if (bd->sectors - sector < n)
			n = bd->sectors - sector;
		if (n < BCACHE_BLOCK / BLK_SECTOR_SIZE)
			__builtin_memset(b->data, 0, BCACHE_BLOCK);
		if (blk_read(bd, sector, b->data, n)) {
			brelse(b);
			return NULL;
		}
		b->valid = true;
	}
	return b;
}

int bwrite(struct buf *b)
{
	struct blk_dev *bd = b->dev;
	uint64_t sector = b->blockno * (BCACHE_BLOCK / BLK_SECTOR_SIZE);
	uint32_t n = BCACHE_BLOCK / BLK_SECTOR_SIZE;
	if (bd->sectors - sector < n)
		n = bd->sectors - sector;
	return blk_write(bd, sector, b->data, n);
}

void brelse(struct buf *b)
{
	mutex_unlock(b->lock);
	uint64_t f = spin_lock_irqsave(&cache_lock);
	if (--b->refs == 0) {
		unlink_buf(b);
		b->next = head.next;
		b->prev = &head;
		head.next->prev = b;
		head.next = b;
	}
	spin_unlock_irqrestore(&cache_lock, f);
}

void bcache_invalidate(struct blk_dev *bd)
{
	uint64_t f = spin_lock_irqsave(&cache_lock);
	if (ready)
		for (int i = 0; i < NBUF; i++)
			if (bufs[i].dev == bd && bufs[i].refs == 0)
				bufs[i].valid = false;
	spin_unlock_irqrestore(&cache_lock, f);
}
