/*
 * Object sets and dnodes. A dnode's block blkid is found through its
 * indirect blocks, top level first: each step checks that the child pointer
 * claims the level one below (so a pointer cannot loop back up the tree) and
 * the number of levels is bounded. Holes read as zeros.
 */
#include "zfs_impl.h"
#include <console/printk.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <vfs/errno.h>

#define DNODE_SHIFT 9

int dnode_parse(const uint8_t *blk, size_t blklen, size_t slot, struct dnode *dn)
{
	size_t off = slot << DNODE_SHIFT;
	if (off + 512 > blklen || off + 512 < off)
		return -EIO;
	const struct dnode_phys *p = (const void *)(blk + off);
	if (p->type == 0)
		return -ENOENT;
	size_t dnsize = ((size_t)p->extra_slots + 1) << DNODE_SHIFT;
	if (off + dnsize > blklen)
		return -EIO;
	if (p->nblkptr < 1 || p->nblkptr > 3 || p->nlevels < 1 || p->nlevels > ZFS_MAX_LEVELS ||
	    p->indblkshift < 10 || p->indblkshift > 17 || p->datablkszsec == 0 ||
	    (size_t)p->datablkszsec << 9 > ZFS_MAX_BLOCK)
		return -EIO;
	size_t bonus_off = 64 + (size_t)p->nblkptr * 128;
	size_t room = dnsize - bonus_off - ((p->flags & DNODE_FLAG_SPILL_BLKPTR) ? 128 : 0);
	if (bonus_off > dnsize || p->bonuslen > room)
		return -EIO;
	memcpy(&dn->phys, p, 512);
	dn->bonuslen = p->bonuslen;
	dn->bonus = kmalloc(dn->bonuslen ? dn->bonuslen : 1);
	if (!dn->bonus)
		return -ENOMEM;
	memcpy(dn->bonus, blk + off + bonus_off, dn->bonuslen);
	dn->has_spill = (p->flags & DNODE_FLAG_SPILL_BLKPTR) != 0;
	if (dn->has_spill)
		memcpy(&dn->spill, blk + off + dnsize - 128, 128);
	dn->blksz = (uint32_t)p->datablkszsec << 9;
	return 0;
}

void dnode_release(struct dnode *dn)
{
	kfree(dn->bonus);
	dn->bonus = NULL;
}

int objset_open(struct zfs_pool *zp, const struct blkptr *bp, const char *what, struct objset *os)
{
	struct zbuf *zb;
	memset(os, 0, sizeof(*os));
	os->zp = zp;
	os->what = what;
	int e = zio_read(zp, bp, what, 0, &zb);
	if (e)
		return e;
	if (zb->size < 1024) {
		zbuf_put(zp, zb);
		zfs_err(zp, "%s: object set block too small", what);
		return -EIO;
	}
	e = dnode_parse(zb->data, 512, 0, &os->meta);
	memcpy(&os->type, (uint8_t *)zb->data + 704, 8);
	zbuf_put(zp, zb);
	if (e) {
		zfs_err(zp, "%s: bad meta dnode", what);
		return e == -ENOENT ? -EIO : e;
	}
	os->meta.os = os;
	os->meta.obj = 0;
	return 0;
}

int dnode_get(struct objset *os, uint64_t obj, struct dnode *dn)
{
	struct dnode *m = &os->meta;
	uint64_t per = m->blksz >> DNODE_SHIFT;
	if (per == 0)
		return -EIO;
	uint64_t blkid = obj / per;
	if (blkid > m->phys.maxblkid)
		return -ENOENT;
	struct zbuf *zb;
	int e = dnode_block(m, blkid, &zb);
	if (e)
		return e;
	memset(dn, 0, sizeof(*dn));
	e = dnode_parse(zb->data, zb->size, obj % per, dn);
	zbuf_put(os->zp, zb);
	if (e == -EIO)
		zfs_err(os->zp, "%s object %lu: malformed dnode", os->what, (unsigned long)obj);
	if (e)
		return e;
	dn->obj = obj;
	dn->os = os;
	return 0;
}

int dnode_block(struct dnode *dn, uint64_t blkid, struct zbuf **out)
{
	struct zfs_pool *zp = dn->os->zp;
	const struct dnode_phys *p = &dn->phys;
	if (blkid > p->maxblkid)
		return zio_zero(zp, dn->blksz, out);
	unsigned epbs = p->indblkshift - 7, levels = p->nlevels;
	unsigned shift = epbs * (levels - 1);
	uint64_t top = shift >= 64 ? 0 : blkid >> shift;
	if (top >= p->nblkptr) {
		zfs_err(zp, "%s object %lu: block %lu beyond its pointers", dn->os->what, (unsigned long)dn->obj,
			(unsigned long)blkid);
		return -EIO;
	}
	struct blkptr bp = p->bp[top];
	for (unsigned level = levels - 1; level > 0; level--) {
		if (bp_hole(&bp))
			return zio_zero(zp, dn->blksz, out);
		if (BP_LEVEL(&bp) != level) {
			zfs_err(zp, "%s object %lu: indirect block claims level %lu, expected %u", dn->os->what,
				(unsigned long)dn->obj, (unsigned long)BP_LEVEL(&bp), level);
			return -EIO;
		}
		struct zbuf *ind;
		int e = zio_read(zp, &bp, dn->os->what, dn->obj, &ind);
		if (e)
			return e;
		uint64_t idx = (blkid >> (epbs * (level - 1))) & ((1ULL << epbs) - 1);
		if ((idx + 1) * sizeof(bp) > ind->size) {
			zbuf_put(zp, ind);
			zfs_err(zp, "%s object %lu: indirect block too small", dn->os->what, (unsigned long)dn->obj);
			return -EIO;
		}
		memcpy(&bp, (uint8_t *)ind->data + idx * sizeof(bp), sizeof(bp));
		zbuf_put(zp, ind);
	}
	if (bp_hole(&bp))
		return zio_zero(zp, dn->blksz, out);
	if (BP_LEVEL(&bp) != 0) {
		zfs_err(zp, "%s object %lu: data block claims level %lu", dn->os->what, (unsigned long)dn->obj,
			(unsigned long)BP_LEVEL(&bp));
		return -EIO;
	}
	return zio_read(zp, &bp, dn->os->what, dn->obj, out);
}

int dnode_read(struct dnode *dn, uint64_t off, void *buf, size_t len)
{
	uint8_t *d = buf;
	while (len > 0) {
		uint64_t blkid = off / dn->blksz;
		size_t boff = off % dn->blksz, n = dn->blksz - boff;
		if (n > len)
			n = len;
		struct zbuf *zb;
		int e = dnode_block(dn, blkid, &zb);
		if (e)
			return e;
		size_t have = boff < zb->size ? zb->size - boff : 0;
		if (have > n)
			have = n;
		memcpy(d, (uint8_t *)zb->data + boff, have);
		memset(d + have, 0, n - have);
		zbuf_put(dn->os->zp, zb);
		d += n;
		off += n;
		len -= n;
	}
	return 0;
}
