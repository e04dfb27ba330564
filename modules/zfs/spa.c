/*
 * The pool: vdev labels (four copies, each with an XDR nvlist and a ring of
 * uberblocks, all under embedded SHA-256 checksums), the uberblock with the
 * highest txg, and reading a block pointer: embedded data, DVAs tried in turn
 * (ditto copies) until one matches the checksum, then decompressed. Decoded
 * blocks are kept in a small cache keyed by DVA and checksum, so a file read
 * page by page decompresses each record once.
 *
 * One leaf vdev (a disk or file vdev as top-level vdev 0) is supported;
 * mirrors and raidz are refused at open, gang blocks when read.
 */
#include "zfs_impl.h"
#include <block/block.h>
#include <console/printk.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <vfs/errno.h>

#define CACHE_MAX 512
#define CACHE_BYTES (24u << 20)

struct zcache_ent {
	struct zbuf zb;     /* first: a zbuf * is its entry */
	uint64_t key_off, key_ck;
	int refs;
	uint64_t used;
	bool cached;
};

/* Read len bytes at byte offset off of the device, any alignment. */
static int dev_read(struct zfs_pool *zp, uint64_t off, void *buf, size_t len)
{
	struct blk_dev *bd = zp->dev;
	uint64_t bs = bd->block_size ? bd->block_size : BLK_SECTOR_SIZE;
	if (off + len < off || off + len > bd->sectors * BLK_SECTOR_SIZE)
		return -EIO;
	if (off % bs == 0 && len % bs == 0)
		return blk_read(bd, off / BLK_SECTOR_SIZE, buf, (uint32_t)(len / BLK_SECTOR_SIZE));
	uint64_t start = off / bs * bs, end = (off + len + bs - 1) / bs * bs;
	uint8_t *tmp = kmalloc(end - start);
	if (!tmp)
		return -ENOMEM;
	int e = blk_read(bd, start / BLK_SECTOR_SIZE, tmp, (uint32_t)((end - start) / BLK_SECTOR_SIZE));
	if (!e)
		memcpy(buf, tmp + (off - start), len);
	kfree(tmp);
	return e;
}

/* --- uberblocks --- */
struct ub_head {
	uint64_t magic, version, txg, guid_sum, timestamp;
	struct blkptr rootbp;
};

int ub_select(const uint8_t *ring, size_t ringlen, unsigned slot_shift, uint64_t base, uint64_t *best_txg,
	      const uint8_t **best)
{
	size_t slot = (size_t)1 << slot_shift;
	int found = 0;
	uint64_t best_ts = 0;
	for (size_t off = 0; off + slot <= ringlen; off += slot) {
		const struct ub_head *ub = (const void *)(ring + off);
		if (ub->magic != UBERBLOCK_MAGIC || ub->version == 0 || ub->version > SPA_VERSION_MAX ||
		    ub->txg == 0)
			continue;
		if (!label_cksum_ok((void *)(ring + off), slot, base + off))
			continue;
		if (ub->txg > *best_txg || (ub->txg == *best_txg && ub->timestamp > best_ts)) {
			*best_txg = ub->txg;
			best_ts = ub->timestamp;
			*best = ring + off;
			found = 1;
		}
	}
	return found;
}

static uint64_t label_offset(uint64_t psize, int l)
{
	return (uint64_t)l * VDEV_LABEL_SIZE + (l < 2 ? 0 : psize - 4 * (uint64_t)VDEV_LABEL_SIZE);
}

/* The label's config: pool name and guid, and the vdev tree we can read. */
static int label_config(struct zfs_pool *zp, uint8_t *phys, uint64_t phys_off, bool *ok)
{
	struct nvl top, vt;
	*ok = false;
	if (!label_cksum_ok(phys, VDEV_PHYS_SIZE, phys_off) || nvl_open(phys, VDEV_PHYS_SIZE - 40, &top))
		return 0;
	const char *name, *type;
	size_t nlen, tlen;
	uint64_t ver, ashift, children;
	if (nvl_str(&top, "name", &name, &nlen) || nvl_u64(&top, "pool_guid", &zp->guid) ||
	    nvl_u64(&top, "version", &ver) || nvl_list(&top, "vdev_tree", &vt) ||
	    nvl_str(&vt, "type", &type, &tlen) || nvl_u64(&vt, "ashift", &ashift))
		return 0;
	if (nlen >= sizeof(zp->name))
		nlen = sizeof(zp->name) - 1;
	memcpy(zp->name, name, nlen);
	zp->name[nlen] = 0;
	if (ver > SPA_VERSION_MAX || ashift < 9 || ashift > 16) {
		zfs_err(zp, "unsupported pool version %lu or ashift %lu", (unsigned long)ver, (unsigned long)ashift);
		return -ENOTSUP;
	}
	bool leaf = (tlen == 4 && !memcmp(type, "disk", 4)) || (tlen == 4 && !memcmp(type, "file", 4));
	if (!leaf || !nvl_u64(&vt, "children", &children)) {
		zfs_err(zp, "vdev type %.*s: only single-disk pools are supported", (int)tlen, type);
		return -ENOTSUP;
	}
	zp->ashift = ashift;
	*ok = true;
	return 0;
}

int spa_open(struct blk_dev *dev, struct zfs_pool *zp)
{
	memset(zp, 0, sizeof(*zp));
	zp->dev = dev;
	mutex_init(&zp->lock);
	snprintf(zp->name, sizeof(zp->name), "%s", dev->name);
	uint64_t size = dev->sectors * BLK_SECTOR_SIZE;
	zp->dev_bytes = size & ~((uint64_t)VDEV_LABEL_SIZE - 1);
	if (zp->dev_bytes < VDEV_LABEL_START + 4 * (uint64_t)VDEV_LABEL_SIZE) {
		zfs_err(zp, "disk too small for a ZFS pool (%lu bytes)", (unsigned long)size);
		return -EINVAL;
	}
	uint8_t *label = kmalloc(VDEV_LABEL_SIZE);
	if (!label)
		return -ENOMEM;
	uint64_t best_txg = 0;
	bool have_config = false;
	int err = 0;
	for (int l = 0; l < 4 && !err; l++) {
		uint64_t lo = label_offset(zp->dev_bytes, l);
		if (dev_read(zp, lo, label, VDEV_LABEL_SIZE))
			continue;
		bool ok;
		if (!have_config) {
			err = label_config(zp, label + VDEV_PHYS_OFFSET, lo + VDEV_PHYS_OFFSET, &ok);
			have_config = ok;
		}
		if (!have_config)
			continue;
		unsigned shift = zp->ashift < 10 ? 10 : zp->ashift > 13 ? 13 : (unsigned)zp->ashift;
		const uint8_t *best = NULL;
		if (ub_select(label + VDEV_UB_RING_OFFSET, VDEV_UB_RING_SIZE, shift, lo + VDEV_UB_RING_OFFSET,
			      &best_txg, &best)) {
			const struct ub_head *ub = (const void *)best;
			zp->txg = ub->txg;
			zp->rootbp = ub->rootbp;
		}
	}
	kfree(label);
	if (err)
		return err;
	if (!have_config) {
		pr_err("zfs: %s: no valid ZFS label (checked all four)\n", dev->name);
		return -EINVAL;
	}
	if (!zp->txg) {
		zfs_err(zp, "no uberblock with a valid checksum");
		return -EIO;
	}
	zp->cache = kcalloc(CACHE_MAX, sizeof(struct zcache_ent));
	return zp->cache ? 0 : -ENOMEM;
}

/* --- block pointers --- */
uint64_t bp_lsize(const struct blkptr *bp)
{
	return BP_EMBEDDED(bp) ? BPE_LSIZE(bp) : BP_LSIZE(bp);
}

int bp_embedded_payload(const struct blkptr *bp, void *dst, size_t cap)
{
	/* The payload fills the bp's words except prop (6) and birth (10). */
	const uint64_t *w = (const uint64_t *)bp;
	size_t psize = BPE_PSIZE(bp), done = 0;
	if (psize > 112 || psize > cap)
		return -EIO;
	for (int i = 0; i < 16 && done < psize; i++) {
		if (i == 6 || i == 10)
			continue;
		size_t n = psize - done < 8 ? psize - done : 8;
		memcpy((uint8_t *)dst + done, &w[i], n);
		done += n;
	}
	return 0;
}

static struct zcache_ent *cache_find(struct zfs_pool *zp, uint64_t off, uint64_t ck, size_t size)
{
	for (unsigned i = 0; i < zp->cache_n; i++) {
		struct zcache_ent *c = &zp->cache[i];
		if (c->zb.data && c->key_off == off && c->key_ck == ck && c->zb.size == size) {
			c->refs++;
			c->used = ++zp->cache_clock;
			return c;
		}
	}
	return NULL;
}

/* A cache slot for a new buffer of size (data allocated), or an uncached one. */
static struct zcache_ent *cache_new(struct zfs_pool *zp, size_t size)
{
	void *data = kmalloc(size ? size : 1);
	if (!data)
		return NULL;
	struct zcache_ent *slot = NULL;
	while (zp->cache_bytes + size > CACHE_BYTES || (zp->cache_n == CACHE_MAX && !slot)) {
		struct zcache_ent *lru = NULL;
		for (unsigned i = 0; i < zp->cache_n; i++) {
			struct zcache_ent *c = &zp->cache[i];
			if (c->zb.data && !c->refs && (!lru || c->used < lru->used))
				lru = c;
		}
		if (!lru)
			break;
		kfree(lru->zb.data);
		zp->cache_bytes -= lru->zb.size;
		lru->zb.data = NULL;
		slot = lru;
	}
	for (unsigned i = 0; !slot && i < zp->cache_n; i++)
		if (!zp->cache[i].zb.data)
			slot = &zp->cache[i];
	if (!slot && zp->cache_n < CACHE_MAX)
		slot = &zp->cache[zp->cache_n++];
	if (!slot) {
		/* Everything pinned: hand out a private buffer. */
		slot = kzalloc(sizeof(*slot));
		if (!slot) {
			kfree(data);
			return NULL;
		}
		slot->cached = false;
	} else {
		slot->cached = true;
		zp->cache_bytes += size;
	}
	slot->zb.data = data;
	slot->zb.size = size;
	slot->refs = 1;
	slot->used = ++zp->cache_clock;
	return slot;
}

void zbuf_put(struct zfs_pool *zp, struct zbuf *zb)
{
	struct zcache_ent *c = (struct zcache_ent *)zb;
	if (!c)
		return;
	if (!c->cached) {
		kfree(c->zb.data);
		kfree(c);
		return;
	}
	(void)zp;
	if (c->refs > 0)
		c->refs--;
}

static void cache_drop(struct zfs_pool *zp, struct zcache_ent *c)
{
	if (!c->cached) {
		zbuf_put(zp, &c->zb);
		return;
	}
	kfree(c->zb.data);
	zp->cache_bytes -= c->zb.size;
	c->zb.data = NULL;
	c->refs = 0;
}

static const char *ot_name(unsigned t)
{
	switch (t) {
	case DMU_OT_DNODE: return "dnode block";
	case DMU_OT_OBJSET: return "object set";
	case DMU_OT_PLAIN_FILE: return "file data";
	case DMU_OT_DIRECTORY: return "directory";
	case DMU_OT_ZNODE: return "znode";
	default: return "block";
	}
}

int zio_read(struct zfs_pool *zp, const struct blkptr *bp, const char *what, uint64_t obj, struct zbuf **out)
{
	*out = NULL;
	if (BP_CRYPT(bp)) {
		zfs_err(zp, "%s object %lu: encrypted blocks are not supported", what, (unsigned long)obj);
		return -ENOTSUP;
	}
	if (!BP_LITTLE(bp)) {
		zfs_err(zp, "%s object %lu: big-endian blocks are not supported", what, (unsigned long)obj);
		return -ENOTSUP;
	}
	if (BP_EMBEDDED(bp)) {
		size_t lsize = BPE_LSIZE(bp), psize = BPE_PSIZE(bp);
		uint8_t payload[112];
		if (BPE_ETYPE(bp) != 0 || lsize > ZFS_MAX_BLOCK || psize > lsize ||
		    bp_embedded_payload(bp, payload, sizeof(payload))) {
			zfs_err(zp, "%s object %lu: bad embedded block pointer", what, (unsigned long)obj);
			return -EIO;
		}
		struct zcache_ent *c = cache_new(zp, lsize);
		if (!c)
			return -ENOMEM;
		/* Never found again: keyed by nothing. */
		c->key_off = ~0ULL;
		c->key_ck = ~0ULL;
		int e = zio_decompress((unsigned)BP_COMP(bp), payload, psize, c->zb.data, lsize);
		if (e) {
			cache_drop(zp, c);
			zfs_err(zp, "%s object %lu: embedded data does not decompress", what, (unsigned long)obj);
			return -EIO;
		}
		*out = &c->zb;
		return 0;
	}
	size_t lsize = BP_LSIZE(bp), psize = BP_PSIZE(bp);
	unsigned comp = (unsigned)BP_COMP(bp), ck = (unsigned)BP_CKSUM(bp);
	if (lsize > ZFS_MAX_BLOCK || psize > lsize) {
		zfs_err(zp, "%s object %lu: block size %lu/%lu out of range", what, (unsigned long)obj,
			(unsigned long)lsize, (unsigned long)psize);
		return -EIO;
	}
	struct zcache_ent *c = cache_find(zp, bp->dva[1] ^ bp->dva[0], bp->cksum.w[0], lsize);
	if (c) {
		*out = &c->zb;
		return 0;
	}
	uint8_t *raw = kmalloc(psize);
	if (!raw)
		return -ENOMEM;
	int err = -EIO, bad = 0, tried = 0;
	for (int d = 0; d < 3; d++) {
		const uint64_t *dva = &bp->dva[2 * d];
		if (dva_empty(dva))
			continue;
		tried++;
		if (DVA_GANG(dva)) {
			zfs_err(zp, "%s object %lu: gang blocks are not supported", what, (unsigned long)obj);
			err = -ENOTSUP;
			continue;
		}
		uint64_t off = DVA_OFFSET(dva) + VDEV_LABEL_START;
		if (DVA_VDEV(dva) != 0 || off + psize < off ||
		    off + psize > zp->dev_bytes - 2 * (uint64_t)VDEV_LABEL_SIZE) {
			bad++;
			continue;
		}
		if (dev_read(zp, off, raw, psize)) {
			bad++;
			continue;
		}
		struct zio_cksum got;
		if (ck != ZIO_CKSUM_OFF) {
			if (zio_checksum(ck, raw, psize, &got)) {
				zfs_err(zp, "%s object %lu: checksum type %u is not supported", what, (unsigned long)obj, ck);
				err = -ENOTSUP;
				break;
			}
			if (memcmp(&got, &bp->cksum, sizeof(got))) {
				bad++;
				continue;
			}
		}
		c = cache_new(zp, lsize);
		if (!c) {
			err = -ENOMEM;
			break;
		}
		c->key_off = bp->dva[1] ^ bp->dva[0];
		c->key_ck = bp->cksum.w[0];
		int e = psize == lsize && (comp == ZIO_COMP_OFF || comp < 2) ? (memcpy(c->zb.data, raw, lsize), 0)
									   : zio_decompress(comp, raw, psize, c->zb.data, lsize);
		if (e) {
			cache_drop(zp, c);
			c = NULL;
			if (e == -ENOTSUP) {
				zfs_err(zp, "%s object %lu: compression %u is not supported", what, (unsigned long)obj, comp);
				err = e;
				break;
			}
			bad++;
			continue;
		}
		if (bad)
			pr_warn("zfs: %s: %s object %lu: bad copy, read copy %d instead\n", zp->name, what,
				(unsigned long)obj, d + 1);
		break;
	}
	kfree(raw);
	if (c) {
		*out = &c->zb;
		return 0;
	}
	if (bad && err == -EIO)
		zfs_err(zp, "%s object %lu: checksum error (%s, %d of %d copies bad): EIO", what, (unsigned long)obj,
			ot_name((unsigned)BP_TYPE(bp)), bad, tried);
	else if (!tried)
		zfs_err(zp, "%s object %lu: block pointer without an address", what, (unsigned long)obj);
	return err;
}

int zio_zero(struct zfs_pool *zp, size_t size, struct zbuf **out)
{
	if (size > ZFS_MAX_BLOCK)
		return -EIO;
	struct zcache_ent *c = cache_find(zp, 0, 0, size);
	if (!c) {
		c = cache_new(zp, size);
		if (!c)
			return -ENOMEM;
		memset(c->zb.data, 0, size);
		c->key_off = 0;
		c->key_ck = 0;
	}
	*out = &c->zb;
	return 0;
}
