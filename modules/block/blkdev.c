/* /dev/<disk>: block devices for the application. Reads and writes at any
 * offset and length (partial blocks are read, modified and written back),
 * pread/pwrite and lseek through the file position, fsync as a cache flush,
 * and the ioctls programs use to size a disk. */
#include <block/block.h>
#include <devfs/devfs.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/page.h>
#include <uaccess/uaccess.h>
#include <vfs/errno.h>

#define BLKROGET 0x125e
#define BLKGETSIZE 0x1260
#define BLKFLSBUF 0x1261
#define BLKSSZGET 0x1268
#define BLKBSZGET 0x80081270
#define BLKGETSIZE64 0x80081272
#define BLKIOMIN 0x1278
#define BLKIOOPT 0x1279
#define BLKPBSZGET 0x127b

#define CHUNK (64u << 10) /* the bounce buffer for unaligned pieces */

static struct blk_dev *dev_of(struct file *f)
{
	return f->priv;
}

static int bdev_open(struct inode *ino, struct file *f)
{
	for (struct blk_dev *d = blk_devices(); d; d = d->next)
		if (d->rdev == ino->rdev) {
			f->priv = d;
			return 0;
		}
	return -ENXIO;
}

static uint64_t size_of(struct blk_dev *bd)
{
	return bd->sectors * BLK_SECTOR_SIZE;
}

/* Move n bytes at byte offset pos between buf and the disk. */
static ssize_t transfer(struct blk_dev *bd, void *buf, size_t n, uint64_t pos, bool write)
{
	uint32_t bs = bd->block_size;
	uint8_t *p = buf;
	size_t done = 0;
	uint8_t *bounce = NULL;
	int r = 0;

	while (done < n) {
		uint64_t off = pos + done;
		size_t left = n - done;
		if (off % bs == 0 && left >= bs) {
			/* Whole blocks straight from/to the caller's buffer. */
			size_t len = left - left % bs;
			if (len > (1u << 20))
				len = 1u << 20;
			uint32_t ns = len / BLK_SECTOR_SIZE;
			r = write ? blk_write(bd, off / BLK_SECTOR_SIZE, p + done, ns)
				  : blk_read(bd, off / BLK_SECTOR_SIZE, p + done, ns);
			if (r)
				break;
			done += len;
			continue;
		}
		/* A partial block: read it, patch it, write it back. */
		if (!bounce && !(bounce = page_alloc(page_order_for(bs), 0))) {
			r = -ENOMEM;
			break;
		}
		uint64_t start = off - off % bs;
		size_t in = off - start, len = bs - in < left ? bs - in : left;
		r = blk_read(bd, start / BLK_SECTOR_SIZE, bounce, bs / BLK_SECTOR_SIZE);
		if (r)
			break;
		if (write) {
			memcpy(bounce + in, p + done, len);
			r = blk_write(bd, start / BLK_SECTOR_SIZE, bounce, bs / BLK_SECTOR_SIZE);
			if (r)
				break;
		} else {
			memcpy(p + done, bounce + in, len);
		}
		done += len;
	}
	if (bounce)
		page_free(bounce, page_order_for(bs));
	if (done && write)
		bcache_invalidate(bd);
	return done ? (ssize_t)done : r;
}

static ssize_t bdev_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct blk_dev *bd = dev_of(f);
	uint64_t size = size_of(bd);
	if (*pos >= size)
		return 0;
	if (n > size - *pos)
		n = size - *pos;
	ssize_t r = transfer(bd, buf, n, *pos, false);
	if (r > 0)
		*pos += r;
	return r;
}

static ssize_t bdev_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct blk_dev *bd = dev_of(f);
	uint64_t size = size_of(bd);
	/* As Linux's blkdev_write_iter: EPERM on a read-only disk, ENOSPC at the end. */
	if (bd->readonly)
		return -EPERM;
	if (*pos >= size)
		return -ENOSPC;
	if (n > size - *pos)
		n = size - *pos;
	ssize_t r = transfer(bd, (void *)buf, n, *pos, true);
	if (r > 0)
		*pos += r;
	return r;
}

static int put_u64(unsigned long arg, uint64_t v)
{
	return copy_to_user((void *)arg, &v, sizeof(v));
}

static int put_int(unsigned long arg, int v)
{
	return copy_to_user((void *)arg, &v, sizeof(v));
}

static int bdev_ioctl(struct file *f, unsigned cmd, unsigned long arg)
{
	struct blk_dev *bd = dev_of(f);
	switch (cmd) {
	case BLKGETSIZE64:
		return put_u64(arg, size_of(bd));
	case BLKGETSIZE:
		return put_u64(arg, bd->sectors);
	case BLKSSZGET:
	case BLKPBSZGET:
	case BLKIOMIN:
		return put_int(arg, bd->block_size);
	case BLKBSZGET:
		return put_int(arg, bd->block_size > 4096 ? bd->block_size : 4096);
	case BLKIOOPT:
		return put_int(arg, 0);
	case BLKROGET:
		return put_int(arg, bd->readonly);
	case BLKFLSBUF:
		bcache_invalidate(bd);
		return blk_flush(bd);
	default:
		return -ENOTTY;
	}
}

static int bdev_fsync(struct file *f)
{
	return blk_flush(dev_of(f));
}

static unsigned bdev_poll(struct file *f)
{
	(void)f;
	return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
}

static const struct file_ops bdev_ops = {
	.open = bdev_open,
	.read = bdev_read,
	.write = bdev_write,
	.ioctl = bdev_ioctl,
	.fsync = bdev_fsync,
	.poll = bdev_poll,
};

static int blkdev_nodes(void)
{
	for (struct blk_dev *d = blk_devices(); d; d = d->next) {
		int r = devfs_add(d->name, S_IFBLK | 0660, d->rdev, &bdev_ops, NULL);
		if (r) {
			pr_err("block: /dev/%s: error %d\n", d->name, r);
			continue;
		}
		/* fstat's st_size and lseek(SEEK_END) read the inode size. */
		char path[24] = "/dev/";
		strlcpy(path + 5, d->name, sizeof(path) - 5);
		struct inode *ino;
		if (!vfs_walk(NULL, path, 0, &ino, NULL, NULL)) {
			ino->size = size_of(d);
			inode_put(ino);
		}
	}
	return 0;
}
INITCALL(INIT_DEVNODES, blkdev_nodes);
