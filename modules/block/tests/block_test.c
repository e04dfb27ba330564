/* The block layer over a RAM disk driver that completes in submit (as an
 * interrupt right away would): splitting at max_sectors, bouncing buffers the
 * device cannot reach, retry on a full queue, read-only and range checks,
 * and the buffer cache. */
#include <selftest/selftest.h>
#include <block/block.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/page.h>

#define RAM_ORDER 6 /* 256 KiB */

static uint8_t *ram;
static unsigned submits, busy_left;
static uint32_t largest;

static int ram_submit(struct blk_dev *bd, unsigned hwq, struct blk_request *rq)
{
	(void)hwq;
	if (busy_left) {
		busy_left--;
		return -EBUSY;
	}
	submits++;
	if (rq->nsectors > largest)
		largest = rq->nsectors;
	size_t off = rq->sector * BLK_SECTOR_SIZE, len = (size_t)rq->nsectors * BLK_SECTOR_SIZE;
	if (rq->op == BLK_READ)
		memcpy(rq->buf, ram + off, len);
	else if (rq->op == BLK_WRITE)
		memcpy(ram + off, rq->buf, len);
	blk_complete(bd, rq, 0);
	return 0;
}

static const struct blk_ops ram_ops = { .submit = ram_submit };
static struct blk_dev ramdisk = {
	.name = "selftest-ram",
	.sectors = (4096u << RAM_ORDER) / BLK_SECTOR_SIZE,
	.block_size = 512,
	.max_sectors = 8,
	.nr_hw_queues = 1,
	.write_cache = true,
	.ops = &ram_ops,
};

static struct blk_dev *ramdisk_get(void)
{
	if (!ram) {
		ram = page_alloc(RAM_ORDER, PAGE_ZERO);
		if (!ram || blk_register(&ramdisk))
			return NULL;
	}
	return &ramdisk;
}

static uint8_t image_buf[8192]; /* in the kernel image, not the direct map: bounced */

SELFTEST(block_rw, "block.rw")
{
	struct blk_dev *bd = ramdisk_get();
	ST_ASSERT(bd != NULL);
	for (unsigned i = 0; i < sizeof(image_buf); i++)
		image_buf[i] = i * 7 + 3;
	submits = largest = 0;
	ST_EXPECT_EQ(blk_write(bd, 5, image_buf, 16), 0);
	ST_EXPECT_EQ(largest, 8u);    /* split at max_sectors */
	ST_EXPECT_EQ(submits, 2u);
	ST_EXPECT(memcmp(ram + 5 * 512, image_buf, 8192) == 0);

	uint8_t *direct = page_alloc(1, PAGE_ZERO);
	ST_ASSERT(direct != NULL);
	busy_left = 2; /* the queue is full twice: the block layer waits and retries */
	ST_EXPECT_EQ(blk_read(bd, 5, direct, 16), 0);
	ST_EXPECT(memcmp(direct, image_buf, 8192) == 0);
	ST_EXPECT_EQ(busy_left, 0u);

	ST_EXPECT_EQ(blk_read(bd, bd->sectors - 1, direct, 2), -EINVAL);
	ST_EXPECT_EQ(blk_read(bd, bd->sectors, direct, 1), -EINVAL);
	ST_EXPECT_EQ(blk_flush(bd), 0);
	bd->readonly = true;
	ST_EXPECT_EQ(blk_write(bd, 0, direct, 1), -EPERM);
	bd->readonly = false;
	page_free(direct, 1);
}

SELFTEST(block_bcache, "block.bcache")
{
	struct blk_dev *bd = ramdisk_get();
	ST_ASSERT(bd != NULL);
	memset(ram + 3 * BCACHE_BLOCK, 0x5a, BCACHE_BLOCK);
	submits = 0;
	struct buf *b = bread(bd, 3);
	ST_ASSERT(b != NULL);
	ST_EXPECT_EQ(b->data[100], 0x5a);
	unsigned after_first = submits;
	b->data[100] = 0xa5;
	ST_EXPECT_EQ(bwrite(b), 0);
	brelse(b);
	ST_EXPECT_EQ(ram[3 * BCACHE_BLOCK + 100], 0xa5);
	unsigned before = submits;
	b = bread(bd, 3); /* cached: no read from the disk */
	ST_ASSERT(b != NULL);
	ST_EXPECT_EQ(submits, before);
	ST_EXPECT_EQ(b->data[100], 0xa5);
	brelse(b);
	ST_EXPECT(after_first > 0);
	ST_EXPECT(bread(bd, bd->sectors) == NULL); /* past the end */
}

SELFTEST(block_names, "block.names")
{
	char name[16];
	struct blk_dev *bd = ramdisk_get();
	ST_ASSERT(bd != NULL);
	blk_name_next("selftest-ra", name);
	ST_EXPECT(strcmp(name, "selftest-raa") == 0); /* "selftest-ram" is taken, "...raa" is not */
	blk_name_next("zz", name);
	ST_EXPECT(strcmp(name, "zza") == 0);
}
