/* 9P replies that lie: sizes past what the device wrote or past msize, wrong
 * tags and types, strings and counts past the message. Each must be a clean
 * error (and the fid a failed walk took must be free again). */
#include <selftest/selftest.h>
#include "../client.h"
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <vfs/errno.h>

static uint8_t canned[256];
static uint32_t canned_len;

/* Answers every request with the canned reply, scattered over the buffers
 * the device may write (as a device does), tag patched to match unless told
 * otherwise. */
static bool keep_tag;
static int fake_submit(struct p9_trans *t, struct p9_call *c)
{
	(void)t;
	if (!keep_tag)
		memcpy(canned + 5, (const uint8_t *)c->bufs[0].addr + 5, 2);
	uint32_t off = 0;
	for (unsigned i = c->nout; i < c->nout + c->nin && off < canned_len; i++) {
		uint32_t n = canned_len - off < c->bufs[i].len ? canned_len - off : c->bufs[i].len;
		memcpy(c->bufs[i].addr, canned + off, n);
		off += n;
	}
	p9_call_done(c, canned_len);
	return 0;
}
static void fake_poll(struct p9_trans *t) { (void)t; }
static bool fake_broken(struct p9_trans *t) { (void)t; return false; }

static void reply(uint32_t size, uint8_t type, const uint8_t *body, uint32_t n, uint32_t got)
{
	memset(canned, 0, sizeof(canned));
	canned[0] = size, canned[1] = size >> 8, canned[2] = size >> 16, canned[3] = size >> 24;
	canned[4] = type;
	memcpy(canned + 7, body, n);
	canned_len = got;
}

SELFTEST(ninep_proto, "9p.proto")
{
	static struct p9_trans tr = {
		.tag = "fake", .max_msize = 4096, .submit = fake_submit, .poll = fake_poll, .broken = fake_broken
	};
	struct p9_session *s = p9_session_new(&tr, 4096);
	ST_ASSERT(s != NULL);
	s->msize = 4096;
	keep_tag = false;

	reply(7, 121, NULL, 0, 7); /* Rclunk */
	uint32_t fid;
	ST_ASSERT_EQ(p9_fid_alloc(s, &fid), 0);
	ST_EXPECT_EQ(p9_clunk(s, fid), 0);

	reply(200, 121, NULL, 0, 7); /* says 200 bytes, the device wrote 7 */
	ST_EXPECT_EQ(p9_clunk(s, 1), -EIO);
	reply(5000, 121, NULL, 0, 5000 > sizeof(canned) ? 7 : 5000); /* past msize */
	ST_EXPECT_EQ(p9_clunk(s, 1), -EIO);
	reply(3, 121, NULL, 0, 7); /* shorter than a header */
	ST_EXPECT_EQ(p9_clunk(s, 1), -EIO);
	reply(7, 117, NULL, 0, 7); /* Rread to a Tclunk */
	ST_EXPECT_EQ(p9_clunk(s, 1), -EIO);
	keep_tag = true;
	reply(7, 121, NULL, 0, 7);
	canned[5] = 0x34, canned[6] = 0x12; /* tag 0x1234: no slot has it */
	ST_EXPECT_EQ(p9_clunk(s, 1), -EIO);
	keep_tag = false;

	static const uint8_t enoent[4] = { 2, 0, 0, 0 }, zero[4] = { 0 };
	reply(11, P9_RLERROR, enoent, 4, 11);
	ST_EXPECT_EQ(p9_clunk(s, 1), -ENOENT);
	reply(11, P9_RLERROR, zero, 4, 11); /* errno 0 is not an error code */
	ST_EXPECT_EQ(p9_clunk(s, 1), -EIO);

	/* Rread: count past the message, or more than asked. */
	static const uint8_t rread_long[4] = { 100, 0, 0, 0 };
	reply(11 + 10, 117, rread_long, 4, 21);
	static uint8_t data[64];
	ST_EXPECT_EQ(p9_read(s, 1, 0, data, 64), -EIO);
	static const uint8_t rread_more[4] = { 10, 0, 0, 0 };
	reply(21, 117, rread_more, 4, 21);
	ST_EXPECT_EQ(p9_read(s, 1, 0, data, 4), -EIO);
	ST_EXPECT_EQ(p9_read(s, 1, 0, data, 64), 10);

	/* Rwrite claiming more than was sent. */
	static const uint8_t rwrite_more[4] = { 9, 0, 0, 0 };
	reply(11, 119, rwrite_more, 4, 11);
	ST_EXPECT_EQ(p9_write(s, 1, 0, data, 8), -EIO);

	/* Rwalk with no qid for one name: ENOENT, and the new fid is free again. */
	static const uint8_t rwalk0[2] = { 0, 0 };
	reply(9, 111, rwalk0, 2, 9);
	uint32_t before = s->fid_hint, nf;
	ST_EXPECT_EQ(p9_walk(s, 0, "x", 1, &nf), -ENOENT);
	ST_EXPECT_EQ(s->fids[before / 64] & (1ull << (before % 64)), 0ull);

	/* Rreadlink whose string runs past the message. */
	static const uint8_t rlink[3] = { 200, 0, 'a' };
	reply(10, 23, rlink, 3, 10);
	char buf[16];
	ST_EXPECT_EQ(p9_readlink(s, 1, buf, sizeof(buf)), -EIO);

	/* Rreaddir whose count runs past the message. */
	static const uint8_t rdir[4] = { 0, 1, 0, 0 };
	reply(11, 41, rdir, 4, 11);
	struct p9_msg m;
	static uint8_t dirbuf[512];
	ST_EXPECT_EQ(p9_readdir(s, 1, 0, dirbuf, sizeof(dirbuf), &m), -EIO);

	/* Zero-copy: the header goes to the slot, the data straight to a
	 * direct-map buffer; the same checks apply. */
	uint8_t *zc = kmalloc(64);
	ST_ASSERT(zc != NULL);
	static const uint8_t rread_zc[14] = { 10, 0, 0, 0, 'z', 'e', 'r', 'o', '-', 'c', 'o', 'p', 'y', '!' };
	reply(21, 117, rread_zc, 14, 21);
	ST_EXPECT_EQ(p9_read(s, 1, 0, zc, 64), 10);
	ST_EXPECT_EQ(memcmp(zc, "zero-copy!", 10), 0);
	reply(21, 117, rread_more, 4, 21);
	ST_EXPECT_EQ(p9_read(s, 1, 0, zc, 4), -EIO);
	reply(11 + 10, 117, rread_long, 4, 21);
	ST_EXPECT_EQ(p9_read(s, 1, 0, zc, 64), -EIO);
	kfree(zc);
	p9_session_free(s);
}
