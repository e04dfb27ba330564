/* The ZFS parsers fed corrupt input: truncated and malformed nvlists,
 * uberblock rings with bad checksums, lz4/lzjb streams that point outside
 * their buffers, dnodes with impossible sizes and too many levels, block
 * pointers that loop back up the tree, ZAP leaves with looping chains and
 * huge sizes, SA headers that overrun the bonus; on a RAM disk, a block
 * whose first DVA is bad (the second is read), both bad (EIO), a gang block
 * (refused) and an address past the disk. Each must be a clean error. */
#include <selftest/selftest.h>
#include "../zfs_impl.h"
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <vfs/errno.h>

static size_t put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
	return 4;
}

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s), o = put32(p, (uint32_t)n);
	memcpy(p + o, s, n);
	return o + ((n + 3) & ~3ul);
}

/* One uint64 pair "txg" = 7 and one string "name" = "tank". */
static size_t good_nvlist(uint8_t *b)
{
	size_t o = 0;
	b[0] = 1, b[1] = 1, b[2] = 0, b[3] = 0;
	o = 4;
	o += put32(b + o, 0);
	o += put32(b + o, 1);
	size_t start = o;
	o += 8;
	o += put_str(b + o, "txg");
	o += put32(b + o, NV_UINT64);
	o += put32(b + o, 1);
	o += put32(b + o, 0);
	o += put32(b + o, 7);
	put32(b + start, (uint32_t)(o - start));
	put32(b + start + 4, 40);
	start = o;
	o += 8;
	o += put_str(b + o, "name");
	o += put32(b + o, NV_STRING);
	o += put32(b + o, 1);
	o += put_str(b + o, "tank");
	put32(b + start, (uint32_t)(o - start));
	put32(b + start + 4, 40);
	o += put32(b + o, 0);
	o += put32(b + o, 0);
	return o;
}

SELFTEST(zfs_nvlist, "zfs.nvlist")
{
	static uint8_t b[256];
	size_t len = good_nvlist(b);
	struct nvl l;
	uint64_t v = 0;
	const char *s;
	size_t sl;
	ST_ASSERT_EQ(nvl_open(b, len, &l), 0);
	ST_EXPECT_EQ(nvl_u64(&l, "txg", &v), 0);
	ST_EXPECT_EQ(v, 7u);
	ST_EXPECT_EQ(nvl_str(&l, "name", &s, &sl), 0);
	ST_EXPECT(sl == 4 && !memcmp(s, "tank", 4));
	ST_EXPECT_EQ(nvl_u64(&l, "none", &v), -ENOENT);
	ST_EXPECT_EQ(nvl_u64(&l, "name", &v), -EINVAL); /* wrong type */
	/* Truncated anywhere: never found, never read past the end. */
	for (size_t cut = 0; cut < len - 8; cut++) {
		struct nvl t;
		if (nvl_open(b, cut, &t))
			continue;
		ST_EXPECT(nvl_str(&t, "name", &s, &sl) != 0);
	}
	/* Not XDR. */
	b[0] = 2;
	ST_EXPECT_EQ(nvl_open(b, len, &l), -EINVAL);
	b[0] = 1;
	/* A string length past the buffer. */
	static uint8_t c[256];
	memcpy(c, b, len);
	put32(c + 12 + 8 + 8 + 4 + 4 + 8 + 8 + 8, 0x7ffffff0); /* "name"'s name length */
	ST_ASSERT_EQ(nvl_open(c, len, &l), 0);
	ST_EXPECT(nvl_str(&l, "name", &s, &sl) != 0);
	/* A pair size smaller than a pair / bigger than the list. */
	memcpy(c, b, len);
	put32(c + 12, 4);
	ST_ASSERT_EQ(nvl_open(c, len, &l), 0);
	ST_EXPECT(nvl_u64(&l, "txg", &v) != 0);
	put32(c + 12, 0x10000);
	ST_EXPECT(nvl_u64(&l, "txg", &v) != 0);
	/* Nested lists deeper than the limit: an nvlist pair inside itself, 40 deep. */
	static uint8_t d[4096];
	size_t o = 0;
	d[0] = 1;
	o = 4;
	for (int i = 0; i < 40; i++) {
		o += put32(d + o, 0);
		o += put32(d + o, 0);
		o += put32(d + o, 64);
		o += put32(d + o, 64);
		o += put_str(d + o, "x");
		o += put32(d + o, NV_NVLIST);
		o += put32(d + o, 1);
	}
	struct nvl deep;
	ST_ASSERT_EQ(nvl_open(d, o + 64, &l), 0);
	ST_EXPECT(nvl_list(&l, "x", &deep) != 0);
}

SELFTEST(zfs_decomp, "zfs.decompress")
{
	uint8_t out[64], src[32];
	/* "abc" literal then a match of 8 at offset 3, then 1 literal. */
	const uint8_t ok[] = { 0, 0, 0, 8, 0x34, 'a', 'b', 'c', 3, 0, 0x10, 'z' };
	ST_EXPECT_EQ(lz4_zfs_decompress(ok, sizeof(ok), out, 12), 0);
	ST_EXPECT(!memcmp(out, "abcabcabcabz", 12));
	/* Match offset before the start of the output. */
	const uint8_t far[] = { 0, 0, 0, 7, 0x14, 'a', 9, 0, 0x10, 'z', 0 };
	ST_EXPECT_EQ(lz4_zfs_decompress(far, sizeof(far), out, sizeof(out)), -EIO);
	/* Offset 0. */
	const uint8_t zero[] = { 0, 0, 0, 5, 0x14, 'a', 0, 0, 0 };
	ST_EXPECT_EQ(lz4_zfs_decompress(zero, sizeof(zero), out, sizeof(out)), -EIO);
	/* Output longer than the block. */
	ST_EXPECT_EQ(lz4_zfs_decompress(ok, sizeof(ok), out, 8), -EIO);
	/* Length prefix past the input; literal run past the input. */
	const uint8_t longlen[] = { 0, 0, 1, 0, 0x10, 'a' };
	ST_EXPECT_EQ(lz4_zfs_decompress(longlen, sizeof(longlen), out, sizeof(out)), -EIO);
	const uint8_t lit[] = { 0, 0, 0, 3, 0xf0, 255, 255 };
	ST_EXPECT_EQ(lz4_zfs_decompress(lit, sizeof(lit), out, sizeof(out)), -EIO);
	/* lzjb: a copy from before the output; running out of input. */
	memset(src, 0, sizeof(src));
	src[0] = 1;
	src[1] = 0x00, src[2] = 0x10;
	ST_EXPECT_EQ(lzjb_decompress(src, 3, out, 16), -EIO);
	src[0] = 0;
	ST_EXPECT_EQ(lzjb_decompress(src, 4, out, 16), -EIO);
	ST_EXPECT_EQ(zio_decompress(16 /* zstd */, src, 4, out, 16), -ENOTSUP);
}

SELFTEST(zfs_cksum, "zfs.checksum")
{
	struct zio_cksum c;
	zfs_sha256("abc", 3, &c);
	ST_EXPECT_EQ(c.w[0], 0xba7816bf8f01cfeaULL);
	ST_EXPECT_EQ(c.w[3], 0xb410ff61f20015adULL);
	uint32_t words[4] = { 1, 2, 3, 4 };
	fletcher4(words, sizeof(words), &c);
	ST_EXPECT(c.w[0] == 10 && c.w[1] == 20 && c.w[2] == 35 && c.w[3] == 56);
	ST_EXPECT_EQ(zio_checksum(12 /* skein */, words, 16, &c), -ENOTSUP);
}

/* Seal an uberblock slot the way labels are sealed. */
static void seal(uint8_t *slot, size_t len, uint64_t off)
{
	uint64_t magic = ZEC_MAGIC;
	struct zio_cksum v = { { off, 0, 0, 0 } }, c;
	memcpy(slot + len - 40, &magic, 8);
	memcpy(slot + len - 32, &v, 32);
	zfs_sha256(slot, len, &c);
	memcpy(slot + len - 32, &c, 32);
}

SELFTEST(zfs_uberblock, "zfs.uberblock")
{
	size_t slot = 1024, n = 8;
	uint8_t *ring = kzalloc(slot * n);
	ST_ASSERT(ring);
	uint64_t base = 0x20000;
	for (size_t i = 0; i < n; i++) {
		uint64_t h[3] = { UBERBLOCK_MAGIC, 5000, 100 + i };
		memcpy(ring + i * slot, h, sizeof(h));
		seal(ring + i * slot, slot, base + i * slot);
	}
	ring[7 * slot + 100] ^= 1; /* the newest is damaged: the one before wins */
	uint64_t txg = 0;
	const uint8_t *best = NULL;
	ST_EXPECT(ub_select(ring, slot * n, 10, base, &txg, &best));
	ST_EXPECT_EQ(txg, 106u);
	ST_EXPECT(best == ring + 6 * slot);
	/* Sealed for another offset (a copy from elsewhere on the disk): refused. */
	txg = 0;
	ST_EXPECT(!ub_select(ring, slot * n, 10, base + 4096, &txg, &best));
	/* A truncated ring: no whole slot. */
	txg = 0;
	ST_EXPECT(!ub_select(ring, slot - 1, 10, base, &txg, &best));
	kfree(ring);
}

SELFTEST(zfs_dnode, "zfs.dnode")
{
	static uint8_t blk[1024];
	static struct dnode dn;
	struct dnode_phys *p = (struct dnode_phys *)blk;
	memset(blk, 0, sizeof(blk));
	ST_EXPECT_EQ(dnode_parse(blk, sizeof(blk), 0, &dn), -ENOENT); /* free slot */
	p->type = DMU_OT_PLAIN_FILE, p->indblkshift = 17, p->nlevels = 200, p->nblkptr = 1, p->datablkszsec = 256;
	ST_EXPECT_EQ(dnode_parse(blk, sizeof(blk), 0, &dn), -EIO); /* too deep */
	p->nlevels = 1, p->bonuslen = 400;
	ST_EXPECT_EQ(dnode_parse(blk, sizeof(blk), 0, &dn), -EIO); /* bonus past the dnode */
	p->bonuslen = 0, p->extra_slots = 5;
	ST_EXPECT_EQ(dnode_parse(blk, sizeof(blk), 0, &dn), -EIO); /* slots past the block */
	p->extra_slots = 0, p->datablkszsec = 0xffff;
	ST_EXPECT_EQ(dnode_parse(blk, sizeof(blk), 0, &dn), -EIO); /* block too large */
	ST_EXPECT_EQ(dnode_parse(blk, sizeof(blk), 2, &dn), -EIO); /* slot past the block */

	/* Block pointers: one claiming its own level (a loop), and a block beyond the pointers. */
	static struct zfs_pool zp;
	static struct objset os;
	memset(&zp, 0, sizeof(zp));
	memcpy(zp.name, "selftest", 9);
	zp.cache = kcalloc(512, 64);
	ST_ASSERT(zp.cache);
	os.zp = &zp;
	os.what = "selftest";
	p->datablkszsec = 256, p->nlevels = 3, p->indblkshift = 14, p->maxblkid = 1000;
	p->bp[0].dva[0] = 1, p->bp[0].dva[1] = 1;
	p->bp[0].prop = (2ULL << 56) | (1ULL << 63); /* level 2 */
	ST_ASSERT_EQ(dnode_parse(blk, sizeof(blk), 0, &dn), 0);
	dn.os = &os;
	struct zbuf *zb;
	dn.phys.bp[0].prop = (3ULL << 56) | (1ULL << 63); /* points at its own level */
	ST_EXPECT_EQ(dnode_block(&dn, 5, &zb), -EIO);
	dn.phys.nlevels = 1;
	ST_EXPECT_EQ(dnode_block(&dn, 3, &zb), -EIO); /* blkid 3 with one pointer */
	/* Past maxblkid: a hole, zeros. */
	ST_ASSERT_EQ(dnode_block(&dn, 5000, &zb), 0);
	ST_EXPECT(zb->size == 128 * 1024 && ((uint8_t *)zb->data)[777] == 0);
	zbuf_put(&zp, zb);
	/* An embedded bp: data inside the pointer, uncompressed. */
	struct blkptr bp;
	memset(&bp, 0, sizeof(bp));
	memcpy(&bp, "hello, world", 12);
	bp.prop = (1ULL << 63) | (1ULL << 39) | ((uint64_t)ZIO_COMP_OFF << 32) | ((12ULL - 1) << 25) | (12 - 1);
	ST_ASSERT_EQ(zio_read(&zp, &bp, "selftest", 1, &zb), 0);
	ST_EXPECT(zb->size == 12 && !memcmp(zb->data, "hello, world", 12));
	zbuf_put(&zp, zb);
	bp.prop |= 5ULL << 40; /* an embedded type we do not know */
	ST_EXPECT_EQ(zio_read(&zp, &bp, "selftest", 1, &zb), -EIO);
	dnode_release(&dn);
}

static int count_cb(void *arg, const struct zap_ent *e)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

SELFTEST(zfs_zap, "zfs.zap")
{
	static uint8_t blk[16384];
	uint64_t v;
	memset(blk, 0, sizeof(blk));
	uint64_t micro = ZBT_MICRO;
	memcpy(blk, &micro, 8);
	uint64_t val = 42;
	memcpy(blk + 64, &val, 8);
	memcpy(blk + 64 + 14, "file", 5);
	ST_EXPECT_EQ(mzap_block_lookup(blk, 128, "file", 4, &v), 0);
	ST_EXPECT_EQ(v, 42u);
	ST_EXPECT_EQ(mzap_block_lookup(blk, 128, "fil", 3, &v), -ENOENT);
	ST_EXPECT_EQ(mzap_block_lookup(blk, 64, "file", 4, &v), -EIO); /* no room for an entry */
	/* A fat-ZAP leaf whose hash chain loops onto itself. */
	memset(blk, 0, sizeof(blk));
	uint64_t leaf = ZBT_LEAF;
	uint32_t magic = 0x2AB1EAF;
	memcpy(blk, &leaf, 8);
	memcpy(blk + 24, &magic, 4);
	size_t hashents = sizeof(blk) / 32, chunks = 48 + 2 * hashents;
	uint64_t hash = 0;
	for (size_t i = 0; i < hashents; i++)
		((uint16_t *)(blk + 48))[i] = 0; /* every bucket: chunk 0 */
	uint8_t *ch = blk + chunks;
	ch[0] = 252;                  /* entry */
	ch[1] = 8;
	*(uint16_t *)(ch + 2) = 0;    /* next: itself */
	*(uint16_t *)(ch + 6) = 5;
	memcpy(ch + 16, &hash, 8);
	uint64_t vals[4];
	size_t n;
	ST_EXPECT_EQ(fzap_leaf_lookup(blk, sizeof(blk), 0, "abcd", 4, 8, vals, 4, &n), -EIO);
	/* A name chain pointing past the chunks; a huge name. */
	*(uint16_t *)(ch + 2) = 0xffff;
	*(uint16_t *)(ch + 4) = 60000;
	ST_EXPECT_EQ(fzap_leaf_lookup(blk, sizeof(blk), 0, "abcd", 4, 8, vals, 4, &n), -EIO);
	*(uint16_t *)(ch + 6) = 0xffff;
	int count = 0;
	ST_EXPECT_EQ(fzap_leaf_iterate(blk, sizeof(blk), count_cb, &count), -EIO);
	/* Leaf sizes that are not a power of two, or too small. */
	ST_EXPECT_EQ(fzap_leaf_iterate(blk, 12288, count_cb, &count), -EIO);
	ST_EXPECT_EQ(fzap_leaf_iterate(blk, 512, count_cb, &count), -EIO);
	ST_EXPECT_EQ(count, 0);
	/* zap_hash of "" is the salt with the low bits cleared. */
	ST_EXPECT_EQ(zap_hash(0x1234567890abcdefULL, "", 0, 28), 0x1234567000000000ULL);
}

SELFTEST(zfs_sa, "zfs.sa")
{
	struct zfs_sa *sa = sa_new_for_test();
	ST_ASSERT(sa);
	sa_set_attr_for_test(sa, 5, "ZPL_MODE", 8);
	sa_set_attr_for_test(sa, 6, "ZPL_SIZE", 8);
	sa_set_attr_for_test(sa, 20, "ZPL_SYMLINK", 0);
	uint16_t layout[] = { 5, 6, 20 };
	sa_set_layout_for_test(sa, 2, layout, 3);
	uint8_t buf[64];
	memset(buf, 0, sizeof(buf));
	uint32_t magic = 0x2F505A;
	uint16_t info = 2 | (1 << 10); /* layout 2, 8-byte header */
	memcpy(buf, &magic, 4);
	memcpy(buf + 4, &info, 2);
	uint16_t l0 = 3;
	memcpy(buf + 6, &l0, 2);
	uint64_t mode = 0120777, size = 3;
	memcpy(buf + 8, &mode, 8);
	memcpy(buf + 16, &size, 8);
	memcpy(buf + 24, "abc", 3);
	struct zattr za;
	bool spill;
	memset(&za, 0, sizeof(za));
	ST_EXPECT_EQ(sa_parse_buf(sa, buf, 32, &za, &spill), 0);
	ST_EXPECT(za.mode == 0120777 && za.size == 3 && za.linklen == 3 && !memcmp(za.link, "abc", 3));
	ST_EXPECT(!spill);
	/* The symlink's length past the buffer; a header bigger than the buffer;
	 * an unknown layout; a bad magic. */
	l0 = 1000;
	memcpy(buf + 6, &l0, 2);
	ST_EXPECT_EQ(sa_parse_buf(sa, buf, 32, &za, &spill), -EIO);
	info = 2 | (63 << 10);
	memcpy(buf + 4, &info, 2);
	ST_EXPECT_EQ(sa_parse_buf(sa, buf, 32, &za, &spill), -EIO);
	info = 7 | (1 << 10);
	memcpy(buf + 4, &info, 2);
	ST_EXPECT_EQ(sa_parse_buf(sa, buf, 32, &za, &spill), -EIO);
	buf[0] ^= 1;
	ST_EXPECT_EQ(sa_parse_buf(sa, buf, 32, &za, &spill), -EIO);
}

/* A RAM disk whose only content is a 16 KiB window at the start of the
 * allocatable area (byte 4 MiB): block pointers with two DVAs read from it. */
#include <block/block.h>
#include <sched/wait.h>

#define WIN_BASE (4ull << 20)
static uint8_t *win;

static int ram_submit(struct blk_dev *bd, unsigned hwq, struct blk_request *rq)
{
	(void)hwq;
	uint64_t off = rq->sector * 512, len = (uint64_t)rq->nsectors * 512;
	for (uint64_t i = 0; i < len; i++) {
		uint64_t at = off + i;
		((uint8_t *)rq->buf)[i] = at >= WIN_BASE && at < WIN_BASE + 16384 ? win[at - WIN_BASE] : 0;
	}
	blk_complete(bd, rq, 0);
	return 0;
}

SELFTEST(zfs_ditto, "zfs.ditto")
{
	static const struct blk_ops ops = { .submit = ram_submit };
	static struct blk_dev bd;
	static struct zfs_pool zp;
	memset(&bd, 0, sizeof(bd));
	memcpy(bd.name, "ram", 4);
	bd.sectors = (16ull << 20) / 512;
	bd.block_size = 512;
	bd.nr_hw_queues = 1;
	bd.ops = &ops;
	wait_queue_init(&bd.hwq[0].wq);
	win = kzalloc(16384);
	ST_ASSERT(win);
	memset(&zp, 0, sizeof(zp));
	memcpy(zp.name, "ditto", 6);
	zp.dev = &bd;
	zp.dev_bytes = 16ull << 20;
	zp.cache = kcalloc(512, 64);
	ST_ASSERT(zp.cache);
	for (int i = 0; i < 512; i++)
		win[i] = win[4096 + i] = (uint8_t)(i * 13 + 1);
	struct blkptr bp;
	memset(&bp, 0, sizeof(bp));
	bp.dva[0] = 1, bp.dva[1] = 0;          /* copy 1 at 0 */
	bp.dva[2] = 1, bp.dva[3] = 4096 >> 9;  /* copy 2 at 4 KiB */
	bp.prop = (1ULL << 63) | (19ULL << 48) | ((uint64_t)ZIO_CKSUM_FLETCHER4 << 40) | ((uint64_t)ZIO_COMP_OFF << 32);
	bp.birth = 5;
	fletcher4(win, 512, &bp.cksum);
	win[100] ^= 0x40; /* copy 1 is bad: copy 2 is read */
	struct zbuf *zb;
	ST_ASSERT_EQ(zio_read(&zp, &bp, "selftest", 7, &zb), 0);
	ST_EXPECT(zb->size == 512 && !memcmp(zb->data, win + 4096, 512));
	zbuf_put(&zp, zb);
	/* Both bad: EIO (a new checksum so the cache does not answer). */
	bp.cksum.w[0] ^= 1;
	ST_EXPECT_EQ(zio_read(&zp, &bp, "selftest", 8, &zb), -EIO);
	/* A gang block: refused, not misread. */
	bp.dva[1] |= 1ULL << 63;
	bp.dva[2] = bp.dva[3] = 0;
	ST_EXPECT_EQ(zio_read(&zp, &bp, "selftest", 9, &zb), -ENOTSUP);
	/* An address past the end of the disk. */
	bp.dva[1] = (15ull << 20) >> 9;
	ST_EXPECT_EQ(zio_read(&zp, &bp, "selftest", 10, &zb), -EIO);
	kfree(win);
}
