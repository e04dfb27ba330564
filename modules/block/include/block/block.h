/*
 * Block layer (blk-mq shape, no request merging): a disk driver registers a
 * blk_dev with one hardware queue per CPU where the device has several; the
 * block layer picks the calling CPU's queue, waits for completions (the
 * driver calls blk_complete from its interrupt), creates /dev/<name> (a block
 * device the application can read, write, fsync and ask the size of) and
 * keeps a small buffer cache for filesystems.
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sched/wait.h>

#define BLK_SECTOR_SIZE 512u
#define BLK_MAX_HWQ 64

enum blk_op {
	BLK_READ,
	BLK_WRITE,
	BLK_FLUSH, /* make completed writes durable (no data) */
};

struct blk_dev;

struct blk_request {
	enum blk_op op;
	uint64_t sector;      /* in 512-byte sectors */
	uint32_t nsectors;
	void *buf;            /* kernel direct-map memory, physically contiguous */
	unsigned hwq;         /* the hardware queue it went to */
	int status;           /* 0 or a negative errno, set by blk_complete */
	volatile bool done;
	void *driver_data;    /* the driver's, while in flight */
};

struct blk_ops {
	/* Start rq on hardware queue hwq. 0 when queued; -EBUSY when the queue
	 * is full (the block layer waits for a completion and tries again);
	 * another negative errno fails the request. */
	int (*submit)(struct blk_dev *bd, unsigned hwq, struct blk_request *rq);
};

struct blk_hwq {
	struct wait_queue wq;          /* waiters for completions on this queue */
	volatile uint64_t completions;
};

struct blk_dev {
	/* Filled in by the driver before blk_register. */
	char name[16];                /* "vda", "nvme0n1" (blk_name_next helps) */
	uint64_t sectors;             /* capacity in 512-byte sectors */
	uint32_t block_size;          /* logical block size: 512, 4096... */
	uint32_t max_sectors;         /* largest request (0: no limit) */
	unsigned nr_hw_queues;        /* 1..BLK_MAX_HWQ */
	bool readonly;
	bool write_cache;             /* writes need BLK_FLUSH to be durable */
	const struct blk_ops *ops;
	void *priv;                   /* the driver's */
	/* The block layer's. */
	uint32_t rdev;
	struct blk_hwq hwq[BLK_MAX_HWQ];
	struct blk_dev *next;
};

/* CPUs requests can come from: the number of hardware queues worth asking a
 * device for. */
unsigned blk_nr_cpus(void);

/* Next free name with this prefix: "vd" -> vda, vdb... (z, then aa...). */
void blk_name_next(const char *prefix, char name[16]);

/* Make the disk known (and /dev/<name> once devfs is up). 0 or -errno. */
int blk_register(struct blk_dev *bd);
struct blk_dev *blk_find(const char *name);
struct blk_dev *blk_devices(void);

/* Drivers: rq finished with status (0 or -errno). Interrupt-safe. */
void blk_complete(struct blk_dev *bd, struct blk_request *rq, int status);

/* Synchronous I/O of whole sectors from/to a kernel buffer (any kernel
 * memory: the block layer bounces what the device cannot reach). Requests
 * are split at max_sectors. 0 or -errno (-EINVAL past the end or not
 * block-aligned, -EPERM writing a read-only disk, -EIO from the device). */
int blk_read(struct blk_dev *bd, uint64_t sector, void *buf, uint32_t nsectors);
int blk_write(struct blk_dev *bd, uint64_t sector, const void *buf, uint32_t nsectors);
int blk_flush(struct blk_dev *bd);

/* Buffer cache (xv6's bio): BCACHE_BLOCK-byte blocks, least recently used
 * replaced first. bread returns the block locked with valid data (NULL on an
 * I/O error); bwrite writes it through; brelse unlocks it. */
#define BCACHE_BLOCK 4096u
struct buf {
	struct blk_dev *dev;
	uint64_t blockno;     /* in BCACHE_BLOCK units */
	uint8_t *data;
	bool valid;
	int refs;
	void *lock;           /* the cache's */
	struct buf *prev, *next;
};
struct buf *bread(struct blk_dev *bd, uint64_t blockno);
int bwrite(struct buf *b);
void brelse(struct buf *b);
/* Forget cached blocks of bd (after writes through /dev/<name>). */
void bcache_invalidate(struct blk_dev *bd);

#endif
