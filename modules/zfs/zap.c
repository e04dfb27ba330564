/*
 * ZAP objects (name -> integers): micro ZAPs (one block of 64-byte entries)
 * and fat ZAPs (a header with a pointer table indexed by the top bits of the
 * name's salted CRC-64, leaf blocks with their own hash table, entries whose
 * names and values live in chains of 24-byte chunks). Every chunk index,
 * chain length, table size and value length is checked against the block.
 */
#include "zfs_impl.h"
#include <console/printk.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <vfs/errno.h>

#define MZAP_ENT 64
#define MZAP_NAME_LEN 50
#define ZAP_LEAF_MAGIC 0x2AB1EAF
#define ZAP_CHUNK 24
#define ZAP_CHUNK_ENTRY 252
#define ZAP_CHUNK_ARRAY 251
#define ZAP_ARRAY_BYTES 21
#define CHAIN_END 0xffff
#define ZAP_FLAG_HASH64 1
#define ZAP_FLAG_UINT64_KEY 2
#define ZAP_MAX_VALUE_INTS 4096

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static uint64_t crc64_table[256];

uint64_t zap_hash(uint64_t salt, const char *name, size_t len, unsigned hashbits)
{
	if (!crc64_table[128]) {
		for (int i = 0; i < 256; i++) {
			uint64_t c = (uint64_t)i;
			for (int j = 0; j < 8; j++)
				c = (c >> 1) ^ (-(c & 1) & 0xC96C5795D7870F42ULL);
			crc64_table[i] = c;
		}
	}
	uint64_t h = salt;
	for (size_t i = 0; i < len; i++)
		h = (h >> 8) ^ crc64_table[(h ^ (uint8_t)name[i]) & 0xff];
	return h & ~((1ULL << (64 - hashbits)) - 1);
}

/* --- micro ZAP --- */
int mzap_block_lookup(const uint8_t *blk, size_t len, const char *name, size_t nlen, uint64_t *value)
{
	if (len < 2 * MZAP_ENT || rd64(blk) != ZBT_MICRO)
		return -EIO;
	if (nlen >= MZAP_NAME_LEN)
		return -ENOENT;
	for (size_t off = MZAP_ENT; off + MZAP_ENT <= len; off += MZAP_ENT) {
		const char *en = (const char *)blk + off + 14;
		if (en[0] && !memcmp(en, name, nlen) && en[nlen] == 0) {
			*value = rd64(blk + off);
			return 0;
		}
	}
	return -ENOENT;
}

static int mzap_iterate(const uint8_t *blk, size_t len, zap_iter_fn fn, void *arg)
{
	struct zap_ent e;
	for (size_t off = MZAP_ENT; off + MZAP_ENT <= len; off += MZAP_ENT) {
		const char *en = (const char *)blk + off + 14;
		if (!en[0])
			continue;
		size_t n = 0;
		while (n < MZAP_NAME_LEN - 1 && en[n])
			n++;
		memcpy(e.name, en, n);
		e.name[n] = 0;
		e.namelen = n;
		e.value = rd64(blk + off);
		e.intlen = 8;
		e.numints = 1;
		int r = fn(arg, &e);
		if (r)
			return r;
	}
	return 0;
}

/* --- fat ZAP leaves --- */
struct leaf {
	const uint8_t *b;
	size_t len;
	unsigned hshift; /* log2 of hash entries */
	size_t nchunks;
	const uint8_t *chunks;
};

static int leaf_open(const uint8_t *b, size_t len, struct leaf *l)
{
	unsigned bs = 0;
	while (((size_t)1 << bs) < len)
		bs++;
	if (len < 4096 || ((size_t)1 << bs) != len || rd64(b) != ZBT_LEAF || rd32(b + 24) != ZAP_LEAF_MAGIC)
		return -EIO;
	l->b = b;
	l->len = len;
	l->hshift = bs - 5;
	size_t hbytes = (size_t)2 << l->hshift;
	l->chunks = b + 48 + hbytes;
	l->nchunks = (len - hbytes) / ZAP_CHUNK - 2;
	return 0;
}

static const uint8_t *chunk(const struct leaf *l, unsigned i)
{
	return i < l->nchunks ? l->chunks + (size_t)i * ZAP_CHUNK : NULL;
}

/* Read n bytes of an array chain into out. */
static int array_read(const struct leaf *l, unsigned c, uint8_t *out, size_t n)
{
	size_t done = 0, steps = 0;
	while (done < n) {
		const uint8_t *ch = chunk(l, c);
		if (!ch || ch[0] != ZAP_CHUNK_ARRAY || ++steps > l->nchunks)
			return -EIO;
		size_t k = n - done < ZAP_ARRAY_BYTES ? n - done : ZAP_ARRAY_BYTES;
		memcpy(out + done, ch + 1, k);
		done += k;
		c = rd16(ch + 22);
	}
	return 0;
}

/* Decode entry chunk ch: name (terminated) and up to cap value integers. */
static int entry_decode(const struct leaf *l, const uint8_t *ch, struct zap_ent *e, unsigned want_intlen,
			uint64_t *vals, size_t cap, size_t *nvals)
{
	unsigned intlen = ch[1];
	uint16_t name_chunk = rd16(ch + 4), name_n = rd16(ch + 6), val_chunk = rd16(ch + 8), val_n = rd16(ch + 10);
	if (name_n == 0 || name_n > ZAP_NAME_MAX + 1 || (intlen != 1 && intlen != 2 && intlen != 4 && intlen != 8))
		return -EIO;
	if (array_read(l, name_chunk, (uint8_t *)e->name, name_n))
		return -EIO;
	e->name[name_n - 1] = 0;
	e->namelen = strlen(e->name);
	e->intlen = intlen;
	e->numints = val_n;
	if (val_n > ZAP_MAX_VALUE_INTS)
		return -EIO;
	size_t want = val_n < cap ? val_n : cap;
	if (!want) {
		e->value = 0;
		*nvals = 0;
		return 0;
	}
	if (want_intlen && intlen != want_intlen)
		return -EINVAL;
	uint8_t *raw = kmalloc(want * intlen);
	if (!raw)
		return -ENOMEM;
	int r = array_read(l, val_chunk, raw, want * intlen);
	for (size_t i = 0; !r && i < want; i++) {
		uint64_t v = 0;
		for (unsigned k = 0; k < intlen; k++)
			v = v << 8 | raw[i * intlen + k]; /* stored big-endian */
		vals[i] = v;
	}
	kfree(raw);
	if (r)
		return r;
	e->value = vals[0];
	*nvals = want;
	return 0;
}

int fzap_leaf_lookup(const uint8_t *blk, size_t len, uint64_t hash, const char *name, size_t nlen,
		     unsigned intlen, uint64_t *vals, size_t cap, size_t *n)
{
	struct leaf l;
	if (leaf_open(blk, len, &l))
		return -EIO;
	unsigned prefix_len = rd16(blk + 32);
	if (prefix_len + l.hshift > 64)
		return -EIO;
	unsigned idx = (unsigned)((hash >> (64 - prefix_len - l.hshift)) & (((uint64_t)1 << l.hshift) - 1));
	unsigned c = rd16(blk + 48 + 2 * (size_t)idx);
	struct zap_ent *e = kmalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	int r = -ENOENT;
	for (size_t steps = 0; c != CHAIN_END; steps++) {
		const uint8_t *ch = chunk(&l, c);
		if (!ch || ch[0] != ZAP_CHUNK_ENTRY || steps > l.nchunks) {
			r = -EIO;
			break;
		}
		if (rd64(ch + 16) == hash && rd16(ch + 6) == nlen + 1) {
			uint64_t dummy;
			size_t nd;
			int d = entry_decode(&l, ch, e, 0, &dummy, 0, &nd);
			if (d) {
				r = d;
				break;
			}
			if (!memcmp(e->name, name, nlen)) {
				r = entry_decode(&l, ch, e, intlen, vals, cap, n);
				break;
			}
		}
		c = rd16(ch + 2);
	}
	kfree(e);
	return r;
}

int fzap_leaf_iterate(const uint8_t *blk, size_t len, zap_iter_fn fn, void *arg)
{
	struct leaf l;
	if (leaf_open(blk, len, &l))
		return -EIO;
	struct zap_ent *e = kmalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	int r = 0;
	for (unsigned i = 0; i < l.nchunks && !r; i++) {
		const uint8_t *ch = chunk(&l, i);
		if (ch[0] != ZAP_CHUNK_ENTRY)
			continue;
		uint64_t v;
		size_t n;
		r = entry_decode(&l, ch, e, 0, &v, 1, &n);
		if (!r)
			r = fn(arg, e);
	}
	kfree(e);
	return r;
}

/* --- whole objects --- */
struct fzap_hdr {
	uint64_t block_type, magic;
	uint64_t zt_blk, zt_numblks, zt_shift, zt_nextblk, zt_copied;
	uint64_t freeblk, num_leafs, num_entries, salt, normflags, flags;
};

static int fzap_header(struct dnode *dn, const struct zbuf *zb, struct fzap_hdr *h, unsigned *bs)
{
	if (zb->size < 4096 || zb->size < sizeof(*h))
		return -EIO;
	memcpy(h, zb->data, sizeof(*h));
	unsigned s = 0;
	while (((size_t)1 << s) < zb->size)
		s++;
	*bs = s;
	if (h->magic != ZAP_MAGIC || ((size_t)1 << s) != zb->size || (h->flags & ZAP_FLAG_UINT64_KEY)) {
		zfs_err(dn->os->zp, "%s object %lu: bad fat ZAP header", dn->os->what, (unsigned long)dn->obj);
		return -EIO;
	}
	if (h->zt_shift > 48 || (h->zt_numblks == 0 && h->zt_shift > s - 4) || h->zt_numblks > (1u << 20) ||
	    h->freeblk > (1u << 24)) {
		zfs_err(dn->os->zp, "%s object %lu: fat ZAP sizes out of range", dn->os->what, (unsigned long)dn->obj);
		return -EIO;
	}
	return 0;
}

/* The leaf block number the pointer table gives for hash. */
static int fzap_ptr(struct dnode *dn, const struct zbuf *hdrbuf, const struct fzap_hdr *h, unsigned bs,
		    uint64_t hash, uint64_t *blk)
{
	uint64_t idx = h->zt_shift ? hash >> (64 - h->zt_shift) : 0;
	if (h->zt_numblks == 0) {
		*blk = rd64((const uint8_t *)hdrbuf->data + (hdrbuf->size / 2) + idx * 8);
		return 0;
	}
	uint64_t per = (uint64_t)1 << (bs - 3);
	if (idx / per >= h->zt_numblks)
		return -EIO;
	struct zbuf *zb;
	int e = dnode_block(dn, h->zt_blk + idx / per, &zb);
	if (e)
		return e;
	if (zb->size != ((size_t)1 << bs))
		e = -EIO;
	else
		*blk = rd64((const uint8_t *)zb->data + (idx % per) * 8);
	zbuf_put(dn->os->zp, zb);
	return e;
}

struct find_arg {
	const char *name;
	size_t len;
	unsigned intlen;
	uint64_t *vals;
	size_t cap, *n;
};

static int find_cb(void *arg, const struct zap_ent *e)
{
	struct find_arg *a = arg;
	if (e->namelen != a->len || memcmp(e->name, a->name, a->len))
		return 0;
	if (e->numints == 1 && a->cap >= 1 && (!a->intlen || a->intlen == e->intlen || e->intlen == 8)) {
		a->vals[0] = e->value;
		*a->n = 1;
		return 1;
	}
	return -EINVAL; /* multi-integer values are only found by hash */
}

int zap_lookup_ints(struct dnode *dn, const char *name, size_t len, unsigned intlen, uint64_t *vals, size_t cap,
		    size_t *n)
{
	struct zfs_pool *zp = dn->os->zp;
	struct zbuf *zb;
	if (len > ZAP_NAME_MAX)
		return -ENOENT;
	int e = dnode_block(dn, 0, &zb);
	if (e)
		return e;
	uint64_t type = zb->size >= 8 ? rd64(zb->data) : 0;
	if (type == ZBT_MICRO) {
		if (dn->phys.maxblkid != 0)
			e = -EIO;
		else
			e = mzap_block_lookup(zb->data, zb->size, name, len, vals);
		if (!e)
			*n = 1;
		zbuf_put(zp, zb);
		return e;
	}
	struct fzap_hdr h;
	unsigned bs;
	if (type != ZBT_HEADER || fzap_header(dn, zb, &h, &bs)) {
		zbuf_put(zp, zb);
		zfs_err(zp, "%s object %lu: not a ZAP", dn->os->what, (unsigned long)dn->obj);
		return -EIO;
	}
	if (h.normflags) {
		/* Names hash after normalization we do not do: compare them all. */
		zbuf_put(zp, zb);
		struct find_arg a = { name, len, intlen, vals, cap, n };
		e = zap_iterate(dn, find_cb, &a);
		return e == 1 ? 0 : e ? e : -ENOENT;
	}
	uint64_t hash = zap_hash(h.salt, name, len, (h.flags & ZAP_FLAG_HASH64) ? 48 : 28);
	uint64_t blk;
	e = fzap_ptr(dn, zb, &h, bs, hash, &blk);
	zbuf_put(zp, zb);
	if (e)
		return e;
	if (blk == 0 || blk >= h.freeblk)
		return -EIO;
	e = dnode_block(dn, blk, &zb);
	if (e)
		return e;
	e = fzap_leaf_lookup(zb->data, zb->size, hash, name, len, intlen, vals, cap, n);
	zbuf_put(zp, zb);
	if (e == -EIO)
		zfs_err(zp, "%s object %lu: malformed ZAP leaf %lu", dn->os->what, (unsigned long)dn->obj,
			(unsigned long)blk);
	return e;
}

int zap_lookup(struct dnode *dn, const char *name, size_t len, uint64_t *value)
{
	size_t n;
	return zap_lookup_ints(dn, name, len, 8, value, 1, &n);
}

int zap_iterate(struct dnode *dn, zap_iter_fn fn, void *arg)
{
	struct zfs_pool *zp = dn->os->zp;
	struct zbuf *zb;
	int e = dnode_block(dn, 0, &zb);
	if (e)
		return e;
	uint64_t type = zb->size >= 8 ? rd64(zb->data) : 0;
	if (type == ZBT_MICRO) {
		e = dn->phys.maxblkid ? -EIO : mzap_iterate(zb->data, zb->size, fn, arg);
		zbuf_put(zp, zb);
		return e;
	}
	struct fzap_hdr h;
	unsigned bs;
	e = type == ZBT_HEADER ? fzap_header(dn, zb, &h, &bs) : -EIO;
	zbuf_put(zp, zb);
	if (e) {
		zfs_err(zp, "%s object %lu: not a ZAP", dn->os->what, (unsigned long)dn->obj);
		return e;
	}
	/* Leaves are the blocks below freeblk that say so (old pointer-table
	 * blocks are freed, so they read as holes). */
	uint64_t found = 0, last = h.freeblk < dn->phys.maxblkid + 1 ? h.freeblk : dn->phys.maxblkid + 1;
	for (uint64_t b = 1; b < last && found < h.num_leafs; b++) {
		if ((e = dnode_block(dn, b, &zb)))
			return e;
		if (zb->size >= 8 && rd64(zb->data) == ZBT_LEAF) {
			found++;
			e = fzap_leaf_iterate(zb->data, zb->size, fn, arg);
			if (e == -EIO)
				zfs_err(zp, "%s object %lu: malformed ZAP leaf %lu", dn->os->what, (unsigned long)dn->obj,
					(unsigned long)b);
		}
		zbuf_put(zp, zb);
		if (e)
			return e;
	}
	return 0;
}
