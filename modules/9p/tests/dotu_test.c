/* 9P2000.u against byte vectors written out from the 9P2000.u description
 * (stat with extension and numeric ids, Rerror with errno, Twstat's "don't
 * touch" values, directory reads as stat entries) and version negotiation
 * with a server that refuses 9P2000.L. No QEMU device speaks .u, so this is
 * where the encoders and decoders are checked. */
#include <selftest/selftest.h>
#include "../client.h"
#include "../dotu.h"
#include <lib/string.h>
#include <vfs/errno.h>
#include <vfs/stat.h>

/* The server: answers by request type from these. */
static uint8_t rep_buf[512];
static uint32_t rep_len;
static uint8_t last_req[512];
static uint32_t last_req_len;
static const char *version_answer[2]; /* to "9P2000.L", to anything else */

static void set_reply(const uint8_t *m, uint32_t n)
{
	memcpy(rep_buf, m, n);
	rep_len = n;
}

static void answer_version(const uint8_t *req)
{
	/* Tversion: size[4] 100 tag[2] msize[4] version[s] */
	bool dotl = req[11] == 8 && !memcmp(req + 13, "9P2000.L", 8);
	const char *v = version_answer[dotl ? 0 : 1];
	uint32_t n = (uint32_t)strlen(v), size = 13 + n;
	uint8_t m[64] = { (uint8_t)size, 0, 0, 0, 101, 0xff, 0xff, 0x00, 0x10, 0, 0, (uint8_t)n, 0 };
	memcpy(m + 13, v, n);
	set_reply(m, size);
}

static int fake_submit(struct p9_trans *t, struct p9_call *c)
{
	(void)t;
	const uint8_t *req = c->bufs[0].addr;
	last_req_len = c->bufs[0].len < sizeof(last_req) ? c->bufs[0].len : sizeof(last_req);
	memcpy(last_req, req, last_req_len);
	if (req[4] == P9_TVERSION)
		answer_version(req);
	else if (req[4] == P9_TATTACH) {
		static const uint8_t rattach[20] = { 20, 0, 0, 0, 105, 0, 0, 0x80 };
		set_reply(rattach, 20);
	}
	memcpy(rep_buf + 5, req + 5, 2); /* the request's tag */
	uint32_t off = 0;
	for (unsigned i = c->nout; i < c->nout + c->nin && off < rep_len; i++) {
		uint32_t n = rep_len - off < c->bufs[i].len ? rep_len - off : c->bufs[i].len;
		memcpy(c->bufs[i].addr, rep_buf + off, n);
		off += n;
	}
	p9_call_done(c, rep_len);
	return 0;
}
static void fake_poll(struct p9_trans *t) { (void)t; }
static bool fake_broken(struct p9_trans *t) { (void)t; return false; }

/* A symlink "l" -> "t": stat[67] = size[2] type[2] dev[4] qid[13] mode[4]
 * atime[4] mtime[4] length[8] name[s] uid[s] gid[s] muid[s] extension[s]
 * n_uid[4] n_gid[4] n_muid[4]. */
#define STAT_SYMLINK                                                                                         \
	0x41, 0x00, /* size 65 */ 0, 0, /* type */ 0, 0, 0, 0, /* dev */ 0x02, 0, 0, 0, 0, 0x42, 0, 0, 0, 0, 0, \
	0, 0, /* qid: QTSYMLINK, version 0, path 0x42 */ 0xff, 0x01, 0x00, 0x02, /* DMSYMLINK|0777 */ 0x00,   \
	0x10, 0x5e, 0x5f, /* atime */ 0x00, 0x10, 0x5e, 0x5f, /* mtime */ 1, 0, 0, 0, 0, 0, 0, 0, /* length */ \
	1, 0, 'l', 1, 0, 'u', 1, 0, 'g', 0, 0, /* name uid gid muid */ 1, 0, 't', /* extension */ 0xe8, 0x03, \
	0, 0, 0x64, 0, 0, 0, 0xff, 0xff, 0xff, 0xff /* n_uid 1000 n_gid 100 n_muid ~0 */

/* A character device "n", "c 1 3", qid path 7, mode DMDEVICE|0666. */
#define STAT_CHR                                                                                                \
	0x43, 0x00, 0, 0, 0, 0, 0, 0, 0x00, 0, 0, 0, 0, 0x07, 0, 0, 0, 0, 0, 0, 0, 0xb6, 0x01, 0x80, 0x00, 0, 0, 0, \
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 'n', 0, 0, 0, 0, 0, 0, 5, 0, 'c', ' ', '1', ' ', '3', 0, 0,   \
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0

SELFTEST(ninep_dotu, "9p.dotu")
{
	static struct p9_trans tr = {
		.tag = "fakeu", .max_msize = 8192, .submit = fake_submit, .poll = fake_poll, .broken = fake_broken
	};

	/* A server that answers "9P2000" to 9P2000.L, then 9P2000.u to .u. */
	version_answer[0] = "9P2000";
	version_answer[1] = "9P2000.u";
	struct p9_session *s = p9_session_new(&tr, 8192);
	ST_ASSERT(s != NULL);
	uint32_t root;
	ST_ASSERT_EQ(p9_session_start(s, &root), 0);
	ST_EXPECT(s->dotu);
	ST_EXPECT_EQ(s->msize, 4096u); /* the server's */
	/* The second Tversion asked for 9P2000.u by name. */
	ST_EXPECT_EQ(last_req[4], P9_TATTACH);

	/* Rstat of the symlink: attributes and the target from the extension. */
	static const uint8_t rstat_link[] = { 76, 0, 0, 0, 125, 0, 0, 67, 0, STAT_SYMLINK };
	set_reply(rstat_link, sizeof(rstat_link));
	struct p9_attr a;
	ST_ASSERT_EQ(p9_getattr(s, 1, &a), 0);
	ST_EXPECT_EQ(a.mode, (uint32_t)(S_IFLNK | 0777));
	ST_EXPECT_EQ(a.uid, 1000u);
	ST_EXPECT_EQ(a.gid, 100u);
	ST_EXPECT_EQ(a.size, 1ull);
	ST_EXPECT_EQ(a.qid.path, 0x42ull);
	ST_EXPECT_EQ(a.mtime_sec, 0x5f5e1000ull);
	/* The request: Tstat fid 1. */
	static const uint8_t tstat[] = { 11, 0, 0, 0, 124 };
	ST_EXPECT_EQ(memcmp(last_req, tstat, 5), 0);
	ST_EXPECT_EQ(last_req[7], 1);
	char target[8];
	ST_EXPECT_EQ(p9_readlink(s, 1, target, sizeof(target)), 1);
	ST_EXPECT_EQ(target[0], 't');

	/* A device: its major and minor from the extension. */
	static const uint8_t rstat_chr[] = { 78, 0, 0, 0, 125, 0, 0, 69, 0, STAT_CHR };
	set_reply(rstat_chr, sizeof(rstat_chr));
	ST_ASSERT_EQ(p9_getattr(s, 1, &a), 0);
	ST_EXPECT_EQ(a.mode, (uint32_t)(S_IFCHR | 0666));
	ST_EXPECT_EQ(a.rdev, 0x103ull);

	/* Lies: nstat past the message, the stat's size not its length, a
	 * device extension without a minor. */
	static uint8_t bad[sizeof(rstat_link)];
	memcpy(bad, rstat_link, sizeof(bad));
	bad[7] = 68;
	set_reply(bad, sizeof(bad));
	ST_EXPECT_EQ(p9_getattr(s, 1, &a), -EIO);
	memcpy(bad, rstat_link, sizeof(bad));
	bad[9] = 0x40;
	set_reply(bad, sizeof(bad));
	ST_EXPECT_EQ(p9_getattr(s, 1, &a), -EIO);
	static uint8_t badchr[sizeof(rstat_chr)];
	memcpy(badchr, rstat_chr, sizeof(badchr));
	badchr[9 + 56] = 'x'; /* extension "c 1 x" */
	set_reply(badchr, sizeof(badchr));
	ST_EXPECT_EQ(p9_getattr(s, 1, &a), -EIO);

	/* Rerror: ename[s] errno[4]. */
	static const uint8_t rerror[] = { 25, 0, 0, 0, 107, 0, 0, 12, 0, 'N', 'o', ' ', 's', 'u', 'c', 'h', ' ',
					  'f', 'i', 'l', 'e', 2, 0, 0, 0 };
	set_reply(rerror, sizeof(rerror));
	ST_EXPECT_EQ(p9_getattr(s, 1, &a), -ENOENT);
	static uint8_t rerror0[sizeof(rerror)];
	memcpy(rerror0, rerror, sizeof(rerror));
	rerror0[21] = 0; /* errno 0: not an error code */
	set_reply(rerror0, sizeof(rerror0));
	ST_EXPECT_EQ(p9_getattr(s, 1, &a), -EIO);

	/* Truncate: Twstat with every field "don't touch" but the length. */
	static const uint8_t rwstat[] = { 7, 0, 0, 0, 127, 0, 0 };
	set_reply(rwstat, sizeof(rwstat));
	ST_EXPECT_EQ(p9_setsize(s, 5, 0x1234), 0);
	static const uint8_t twstat[] = {
		76, 0, 0, 0, 126, 0, 0, 5, 0, 0, 0, /* size, Twstat, tag (patched), fid 5 */
		63, 0, 61, 0, /* nstat, stat size */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* type, dev */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* qid */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* mode atime mtime */
		0x34, 0x12, 0, 0, 0, 0, 0, 0, /* length */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* name uid gid muid extension: "" */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* n_uid n_gid n_muid */
	};
	ST_EXPECT_EQ(last_req_len, (uint32_t)sizeof(twstat));
	ST_EXPECT_EQ(memcmp(last_req, twstat, 5), 0);
	ST_EXPECT_EQ(memcmp(last_req + 7, twstat + 7, sizeof(twstat) - 7), 0);

	/* Open modes: O_RDWR|O_TRUNC is ORDWR|OTRUNC. */
	ST_EXPECT_EQ(p9u_open_mode(O_RDWR | O_TRUNC), 0x12);
	ST_EXPECT_EQ(p9u_open_mode(O_WRONLY), 1);

	/* A directory read (two stat entries) becomes .L dirents. */
	static uint8_t dir[] = { STAT_SYMLINK, STAT_CHR };
	int n = p9u_dir_to_dirents(dir, sizeof(dir), 1000);
	static const uint8_t dirents[] = {
		0x02, 0, 0, 0, 0, 0x42, 0, 0, 0, 0, 0, 0, 0, /* qid */
		0x2b, 0x04, 0, 0, 0, 0, 0, 0, 10, 1, 0, 'l', /* next offset 1000 + 67, DT_LNK, "l" */
		0x00, 0, 0, 0, 0, 0x07, 0, 0, 0, 0, 0, 0, 0,
		0x70, 0x04, 0, 0, 0, 0, 0, 0, 2, 1, 0, 'n', /* 1000 + 67 + 69, DT_CHR, "n" */
	};
	ST_ASSERT_EQ(n, (int)sizeof(dirents));
	ST_EXPECT_EQ(memcmp(dir, dirents, sizeof(dirents)), 0);
	static uint8_t cut[] = { STAT_SYMLINK };
	ST_EXPECT_EQ(p9u_dir_to_dirents(cut, sizeof(cut) - 1, 0), -EIO);
	p9_session_free(s);

	/* A server that speaks neither: refused. */
	version_answer[0] = "unknown";
	version_answer[1] = "unknown";
	s = p9_session_new(&tr, 8192);
	ST_ASSERT(s != NULL);
	ST_EXPECT_EQ(p9_session_start(s, &root), -EPROTONOSUPPORT);
	p9_session_free(s);
}
