/*
 * 9P2000.L sessions: version/msize negotiation, attach, fids and tags, and
 * one function per request the filesystem uses. A session has one request
 * and one reply buffer of msize bytes; its lock makes one request at a time
 * (the VFS serialises filesystem work already). Every fid a failed request
 * leaves behind is clunked before the error is returned.
 */
#include "client.h"
#include <console/printk.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <vfs/errno.h>

static struct p9_trans *transports;

void p9_trans_register(struct p9_trans *t)
{
	t->next = transports;
	transports = t;
	pr_info("9p: channel \"%s\"\n", t->tag);
}

struct p9_trans *p9_trans_find(const char *tag, size_t len)
{
	for (struct p9_trans *t = transports; t; t = t->next)
		if (strlen(t->tag) == len && !memcmp(t->tag, tag, len))
			return t;
	return NULL;
}

int p9_fid_alloc(struct p9_session *s, uint32_t *fid)
{
	for (uint32_t i = 0; i < P9_MAX_FIDS; i++) {
		uint32_t f = (s->fid_hint + i) % P9_MAX_FIDS;
		if (!(s->fids[f / 64] & (1ull << (f % 64)))) {
			s->fids[f / 64] |= 1ull << (f % 64);
			s->fid_hint = f + 1;
			*fid = f;
			return 0;
		}
	}
	return -ENFILE;
}

static void fid_release(struct p9_session *s, uint32_t fid)
{
	if (fid < P9_MAX_FIDS)
		s->fids[fid / 64] &= ~(1ull << (fid % 64));
}

/* Sends the message being built in s->req; on 0 s->rep is a checked reply. */
static int rpc(struct p9_session *s, struct p9_msg *t, uint8_t type, struct p9_msg *r)
{
	uint32_t n = p9_finish(t);
	if (n == 0)
		return -ENAMETOOLONG; /* it did not fit in msize */
	uint32_t got = 0;
	int e = s->trans->rpc(s->trans, s->req, n, s->rep, s->msize, &got);
	if (e)
		return e;
	return p9_check_reply(r, s->rep, got, s->msize, type, s->tag);
}

static void begin(struct p9_session *s, struct p9_msg *t, uint8_t type)
{
	if (++s->tag == P9_NOTAG)
		s->tag = 1;
	p9_begin(t, s->req, s->msize, type, s->tag);
}

static void get_qid(struct p9_msg *r, struct p9_qid *q)
{
	q->type = p9_get8(r);
	q->version = p9_get32(r);
	q->path = p9_get64(r);
}

int p9_clunk(struct p9_session *s, uint32_t fid)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TCLUNK);
	p9_put32(&t, fid);
	int e = rpc(s, &t, P9_TCLUNK, &r);
	/* The fid is gone on the server either way (clunk always frees it). */
	fid_release(s, fid);
	return e;
}

int p9_walk(struct p9_session *s, uint32_t fid, const char *name, size_t len, uint32_t *newfid)
{
	uint32_t nf;
	int e = p9_fid_alloc(s, &nf);
	if (e)
		return e;
	struct p9_msg t, r;
	begin(s, &t, P9_TWALK);
	p9_put32(&t, fid);
	p9_put32(&t, nf);
	p9_put16(&t, name ? 1 : 0);
	if (name)
		p9_putstr(&t, name, (uint32_t)len);
	e = rpc(s, &t, P9_TWALK, &r);
	if (e == 0) {
		uint16_t n = p9_get16(&r);
		if (r.err || n != (name ? 1 : 0)) {
			/* A partial walk leaves newfid unused on the server. */
			fid_release(s, nf);
			return r.err ? -EIO : -ENOENT;
		}
		*newfid = nf;
		return 0;
	}
	fid_release(s, nf);
	return e;
}

int p9_getattr(struct p9_session *s, uint32_t fid, struct p9_attr *a)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TGETATTR);
	p9_put32(&t, fid);
	p9_put64(&t, 0x7ffull); /* P9_GETATTR_BASIC */
	int e = rpc(s, &t, P9_TGETATTR, &r);
	if (e)
		return e;
	p9_get64(&r); /* valid */
	get_qid(&r, &a->qid);
	a->mode = p9_get32(&r);
	a->uid = p9_get32(&r);
	a->gid = p9_get32(&r);
	a->nlink = p9_get64(&r);
	a->rdev = p9_get64(&r);
	a->size = p9_get64(&r);
	p9_get64(&r); /* blksize */
	p9_get64(&r); /* blocks */
	a->atime_sec = p9_get64(&r);
	a->atime_nsec = p9_get64(&r);
	a->mtime_sec = p9_get64(&r);
	a->mtime_nsec = p9_get64(&r);
	a->ctime_sec = p9_get64(&r);
	a->ctime_nsec = p9_get64(&r);
	return r.err ? -EIO : 0;
}

int p9_lopen(struct p9_session *s, uint32_t fid, uint32_t flags, uint32_t *iounit)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TLOPEN);
	p9_put32(&t, fid);
	p9_put32(&t, flags);
	int e = rpc(s, &t, P9_TLOPEN, &r);
	if (e)
		return e;
	struct p9_qid q;
	get_qid(&r, &q);
	*iounit = p9_get32(&r);
	return r.err ? -EIO : 0;
}

int p9_lcreate(struct p9_session *s, uint32_t fid, const char *name, size_t len, uint32_t flags, uint32_t mode)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TLCREATE);
	p9_put32(&t, fid);
	p9_putstr(&t, name, (uint32_t)len);
	p9_put32(&t, flags);
	p9_put32(&t, mode);
	p9_put32(&t, 0);
	return rpc(s, &t, P9_TLCREATE, &r);
}

int p9_mkdir(struct p9_session *s, uint32_t dfid, const char *name, size_t len, uint32_t mode)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TMKDIR);
	p9_put32(&t, dfid);
	p9_putstr(&t, name, (uint32_t)len);
	p9_put32(&t, mode);
	p9_put32(&t, 0);
	return rpc(s, &t, P9_TMKDIR, &r);
}

int p9_symlink(struct p9_session *s, uint32_t dfid, const char *name, size_t len, const char *target)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TSYMLINK);
	p9_put32(&t, dfid);
	p9_putstr(&t, name, (uint32_t)len);
	p9_putstr(&t, target, (uint32_t)strlen(target));
	p9_put32(&t, 0);
	return rpc(s, &t, P9_TSYMLINK, &r);
}

int p9_link(struct p9_session *s, uint32_t dfid, uint32_t fid, const char *name, size_t len)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TLINK);
	p9_put32(&t, dfid);
	p9_put32(&t, fid);
	p9_putstr(&t, name, (uint32_t)len);
	return rpc(s, &t, P9_TLINK, &r);
}

int p9_unlinkat(struct p9_session *s, uint32_t dfid, const char *name, size_t len, bool dir)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TUNLINKAT);
	p9_put32(&t, dfid);
	p9_putstr(&t, name, (uint32_t)len);
	p9_put32(&t, dir ? 0x200 : 0); /* AT_REMOVEDIR */
	return rpc(s, &t, P9_TUNLINKAT, &r);
}

int p9_renameat(struct p9_session *s, uint32_t odfid, const char *on, size_t ol, uint32_t ndfid, const char *nn,
		size_t nl)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TRENAMEAT);
	p9_put32(&t, odfid);
	p9_putstr(&t, on, (uint32_t)ol);
	p9_put32(&t, ndfid);
	p9_putstr(&t, nn, (uint32_t)nl);
	return rpc(s, &t, P9_TRENAMEAT, &r);
}

ssize_t p9_readlink(struct p9_session *s, uint32_t fid, char *buf, size_t size)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TREADLINK);
	p9_put32(&t, fid);
	int e = rpc(s, &t, P9_TREADLINK, &r);
	if (e)
		return e;
	uint16_t len;
	const char *target = p9_getstr(&r, &len);
	if (r.err)
		return -EIO;
	size_t n = len < size ? len : size;
	memcpy(buf, target, n);
	return (ssize_t)n;
}

int p9_setsize(struct p9_session *s, uint32_t fid, uint64_t size)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TSETATTR);
	p9_put32(&t, fid);
	p9_put32(&t, 8); /* P9_ATTR_SIZE */
	p9_put32(&t, 0);
	p9_put32(&t, 0);
	p9_put32(&t, 0);
	p9_put64(&t, size);
	for (int i = 0; i < 4; i++)
		p9_put64(&t, 0);
	return rpc(s, &t, P9_TSETATTR, &r);
}

int p9_fsync(struct p9_session *s, uint32_t fid)
{
	struct p9_msg t, r;
	begin(s, &t, P9_TFSYNC);
	p9_put32(&t, fid);
	p9_put32(&t, 0);
	return rpc(s, &t, P9_TFSYNC, &r);
}

uint32_t p9_io_max(struct p9_session *s)
{
	return s->msize - 24; /* Twrite's header is the larger: 4+1+2+4+8+4 */
}

ssize_t p9_read(struct p9_session *s, uint32_t fid, uint64_t off, void *buf, uint32_t n)
{
	if (n > p9_io_max(s))
		n = p9_io_max(s);
	struct p9_msg t, r;
	begin(s, &t, P9_TREAD);
	p9_put32(&t, fid);
	p9_put64(&t, off);
	p9_put32(&t, n);
	int e = rpc(s, &t, P9_TREAD, &r);
	if (e)
		return e;
	uint32_t got = p9_get32(&r);
	if (r.err || got > n || got > r.len - r.off) {
		pr_err("9p: Rread of %u bytes for a request of %u: dropped\n", got, n);
		return -EIO;
	}
	memcpy(buf, r.buf + r.off, got);
	return got;
}

ssize_t p9_write(struct p9_session *s, uint32_t fid, uint64_t off, const void *buf, uint32_t n)
{
	if (n > p9_io_max(s))
		n = p9_io_max(s);
	struct p9_msg t, r;
	begin(s, &t, P9_TWRITE);
	p9_put32(&t, fid);
	p9_put64(&t, off);
	p9_put32(&t, n);
	p9_putdata(&t, buf, n);
	int e = rpc(s, &t, P9_TWRITE, &r);
	if (e)
		return e;
	uint32_t done = p9_get32(&r);
	if (r.err || done > n) {
		pr_err("9p: Rwrite says %u bytes for a request of %u: dropped\n", done, n);
		return -EIO;
	}
	return done;
}

int p9_readdir(struct p9_session *s, uint32_t fid, uint64_t off, struct p9_msg *out)
{
	struct p9_msg t;
	begin(s, &t, P9_TREADDIR);
	p9_put32(&t, fid);
	p9_put64(&t, off);
	p9_put32(&t, p9_io_max(s));
	int e = rpc(s, &t, P9_TREADDIR, out);
	if (e)
		return e;
	uint32_t count = p9_get32(out);
	if (out->err || count > out->len - out->off)
		return -EIO;
	out->len = out->off + count;
	return 0;
}

struct p9_session *p9_connect(struct p9_trans *tr, uint32_t *rootfid)
{
	struct p9_session *s = kzalloc(sizeof(*s));
	if (!s)
		return NULL;
	s->trans = tr;
	s->msize = P9_MSIZE < tr->max_msize ? P9_MSIZE : tr->max_msize;
	s->order = page_order_for(s->msize);
	s->req = page_alloc(s->order, 0);
	s->rep = page_alloc(s->order, 0);
	s->fids = page_alloc(page_order_for(P9_MAX_FIDS / 8), PAGE_ZERO);
	if (!s->req || !s->rep || !s->fids)
		goto fail;
	struct p9_msg t, r;
	p9_begin(&t, s->req, s->msize, P9_TVERSION, P9_NOTAG);
	p9_put32(&t, s->msize);
	p9_putstr(&t, "9P2000.L", 8);
	s->tag = P9_NOTAG;
	uint32_t n = p9_finish(&t), got = 0;
	if (tr->rpc(tr, s->req, n, s->rep, s->msize, &got) || p9_check_reply(&r, s->rep, got, s->msize, P9_TVERSION, P9_NOTAG))
		goto fail;
	uint32_t msize = p9_get32(&r);
	uint16_t vlen;
	const char *v = p9_getstr(&r, &vlen);
	if (r.err || vlen != 8 || memcmp(v, "9P2000.L", 8) || msize < 4096 || msize > s->msize) {
		pr_err("9p: %s: the server does not speak 9P2000.L with a usable msize\n", tr->tag);
		goto fail;
	}
	s->msize = msize;
	s->tag = 0;
	uint32_t fid;
	if (p9_fid_alloc(s, &fid))
		goto fail;
	begin(s, &t, P9_TATTACH);
	p9_put32(&t, fid);
	p9_put32(&t, P9_NOFID);
	p9_putstr(&t, "root", 4);
	p9_putstr(&t, "", 0);
	p9_put32(&t, 0); /* n_uname: uid 0 */
	int e = rpc(s, &t, P9_TATTACH, &r);
	if (e) {
		pr_err("9p: %s: attach failed (%d)\n", tr->tag, e);
		goto fail;
	}
	*rootfid = fid;
	return s;
fail:
	if (s->req)
		page_free(s->req, s->order);
	if (s->rep)
		page_free(s->rep, s->order);
	if (s->fids)
		page_free(s->fids, page_order_for(P9_MAX_FIDS / 8));
	kfree(s);
	return NULL;
}
