/*
 * 9P sessions: version/msize negotiation, attach, fids and tags, and one
 * function per request the filesystem uses. A session has P9_SLOTS request
 * slots; the slot's index is the request's tag, so several requests (from
 * several threads, or a reader's readahead) are in flight at once. The
 * requester sleeps until the transport's interrupt completes its call; where
 * it cannot sleep (interrupts off) it polls the transport. Every fid a failed
 * request leaves behind is clunked before the error is returned. 9P2000.u
 * sessions (servers that refuse .L) go through dotu.c for the requests whose
 * encoding differs.
 */
#include "client.h"
#include "dotu.h"
#include <arch/cpu.h>
#include <arch/memlayout.h>
#include <console/printk.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <sched/thread.h>
#include <vfs/errno.h>

#define RREAD_HDR 11u  /* size[4] type[1] tag[2] count[4] */
#define TWRITE_HDR 23u /* size[4] type[1] tag[2] fid[4] offset[8] count[4] */

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

bool p9_poll_replies;

static bool can_sleep(void)
{
	return thread_current() && irqs_enabled();
}

void p9_call_done(struct p9_call *c, uint32_t got)
{
	c->got = got;
	__atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
	wake_up_all(c->wq);
}

/* --- fids --- */

int p9_fid_alloc(struct p9_session *s, uint32_t *fid)
{
	uint64_t f = spin_lock_irqsave(&s->lock);
	for (uint32_t i = 0; i < P9_MAX_FIDS; i++) {
		uint32_t x = (s->fid_hint + i) % P9_MAX_FIDS;
		if (!(s->fids[x / 64] & (1ull << (x % 64)))) {
			s->fids[x / 64] |= 1ull << (x % 64);
			s->fid_hint = x + 1;
			*fid = x;
			spin_unlock_irqrestore(&s->lock, f);
			return 0;
		}
	}
	spin_unlock_irqrestore(&s->lock, f);
	return -ENFILE;
}

void p9_fid_forget(struct p9_session *s, uint32_t fid)
{
	if (fid >= P9_MAX_FIDS)
		return;
	uint64_t f = spin_lock_irqsave(&s->lock);
	s->fids[fid / 64] &= ~(1ull << (fid % 64));
	spin_unlock_irqrestore(&s->lock, f);
}

/* --- slots and calls --- */

static uint16_t tag_of(struct p9_session *s, struct p9_slot *sl)
{
	return (uint16_t)(sl - s->slots);
}

static struct p9_slot *slot_get(struct p9_session *s)
{
	for (;;) {
		uint64_t f = spin_lock_irqsave(&s->lock);
		if (s->slot_free) {
			unsigned i = (unsigned)__builtin_ctz(s->slot_free);
			s->slot_free &= ~(1u << i);
			spin_unlock_irqrestore(&s->lock, f);
			return &s->slots[i];
		}
		spin_unlock_irqrestore(&s->lock, f);
		if (can_sleep()) {
			wait_event(&s->slot_wq, __atomic_load_n(&s->slot_free, __ATOMIC_ACQUIRE) != 0);
		} else {
			s->trans->poll(s->trans);
			cpu_relax();
		}
	}
}

void p9_req_end(struct p9_session *s, struct p9_slot *sl)
{
	if (sl->lost)
		return; /* the device may still write into its buffers */
	uint64_t f = spin_lock_irqsave(&s->lock);
	s->slot_free |= 1u << tag_of(s, sl);
	spin_unlock_irqrestore(&s->lock, f);
	wake_up_all(&s->slot_wq);
}

static int submit(struct p9_session *s, struct p9_slot *sl)
{
	struct p9_call *c = &sl->call;
	c->done = false;
	c->got = 0;
	c->wq = &sl->wq;
	int e;
	while ((e = s->trans->submit(s->trans, c)) == -EAGAIN) {
		if (can_sleep())
			thread_yield();
		else
			s->trans->poll(s->trans);
	}
	return e;
}

/* Waits for sl's reply: 0 (c->got clamped to the buffers the device was
 * given), or -EIO when the channel broke (the slot is then lost for good). */
static int wait_done(struct p9_session *s, struct p9_slot *sl)
{
	struct p9_call *c = &sl->call;
	if (can_sleep() && !p9_poll_replies) {
		while (!wait_event_timeout(&sl->wq, __atomic_load_n(&c->done, __ATOMIC_ACQUIRE), 1000000000ull))
			if (s->trans->broken(s->trans))
				goto lost;
	} else {
		while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE)) {
			if (s->trans->broken(s->trans))
				goto lost;
			s->trans->poll(s->trans);
			cpu_relax();
		}
	}
	uint32_t room = 0;
	for (unsigned i = c->nout; i < c->nout + c->nin; i++)
		room += c->bufs[i].len;
	if (c->got > room)
		c->got = room;
	return 0;
lost:
	pr_err("9p: %s: the device broke the virtqueue: request %u lost\n", s->trans->tag, tag_of(s, sl));
	sl->lost = true;
	return -EIO;
}

static void clunk_now(struct p9_session *s, uint32_t fid);

/* Clunks what was released where nobody could wait for the reply. */
static void flush_clunks(struct p9_session *s)
{
	while (__atomic_load_n(&s->nclunks, __ATOMIC_RELAXED)) {
		uint64_t f = spin_lock_irqsave(&s->lock);
		uint32_t fid = P9_NOFID;
		if (s->nclunks)
			fid = s->clunks[--s->nclunks];
		spin_unlock_irqrestore(&s->lock, f);
		if (fid != P9_NOFID)
			clunk_now(s, fid);
	}
}

/* A slot with a T-message of type begun in its request buffer. */
struct p9_slot *p9_req_start(struct p9_session *s, struct p9_msg *t, uint8_t type)
{
	if (can_sleep())
		flush_clunks(s);
	struct p9_slot *sl = slot_get(s);
	p9_begin(t, sl->req, P9_SLOT_BUF, type, tag_of(s, sl));
	return sl;
}

/* Sends the message built in sl->req, the reply going to sl->rep; on 0 r is
 * the checked reply (valid until slot_put). */
int p9_req_rpc(struct p9_session *s, struct p9_slot *sl, struct p9_msg *t, uint8_t type, struct p9_msg *r)
{
	uint32_t n = p9_finish(t);
	if (n == 0)
		return -ENAMETOOLONG; /* it did not fit */
	struct p9_call *c = &sl->call;
	c->bufs[0] = (struct p9_buf){ sl->req, n };
	c->bufs[1] = (struct p9_buf){ sl->rep, s->msize < P9_SLOT_BUF ? s->msize : P9_SLOT_BUF };
	c->nout = 1;
	c->nin = 1;
	int e = submit(s, sl);
	if (!e)
		e = wait_done(s, sl);
	if (e)
		return e;
	uint16_t tag = (uint16_t)(sl->req[5] | sl->req[6] << 8); /* NOTAG for Tversion */
	return p9_check_reply(r, sl->rep, c->got, s->msize, type, tag);
}

static void get_qid(struct p9_msg *r, struct p9_qid *q)
{
	q->type = p9_get8(r);
	q->version = p9_get32(r);
	q->path = p9_get64(r);
}

static void clunk_now(struct p9_session *s, uint32_t fid)
{
	struct p9_msg t, r;
	struct p9_slot *sl = slot_get(s);
	p9_begin(&t, sl->req, P9_SLOT_BUF, P9_TCLUNK, tag_of(s, sl));
	p9_put32(&t, fid);
	p9_req_rpc(s, sl, &t, P9_TCLUNK, &r);
	p9_req_end(s, sl);
	p9_fid_forget(s, fid); /* gone on the server either way (clunk always frees it) */
}

int p9_clunk(struct p9_session *s, uint32_t fid)
{
	struct p9_msg t, r;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TCLUNK);
	p9_put32(&t, fid);
	int e = p9_req_rpc(s, sl, &t, P9_TCLUNK, &r);
	p9_req_end(s, sl);
	p9_fid_forget(s, fid);
	return e;
}

void p9_clunk_later(struct p9_session *s, uint32_t fid)
{
	if (can_sleep()) {
		p9_clunk(s, fid);
		return;
	}
	uint64_t f = spin_lock_irqsave(&s->lock);
	bool queued = s->nclunks < P9_DEFERRED_CLUNKS;
	if (queued)
		s->clunks[s->nclunks++] = fid;
	spin_unlock_irqrestore(&s->lock, f);
	if (!queued)
		pr_warn("9p: %s: too many fids released in atomic context: fid %u kept\n", s->trans->tag, fid);
}

int p9_walk(struct p9_session *s, uint32_t fid, const char *name, size_t len, uint32_t *newfid)
{
	uint32_t nf;
	int e = p9_fid_alloc(s, &nf);
	if (e)
		return e;
	struct p9_msg t, r;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TWALK);
	p9_put32(&t, fid);
	p9_put32(&t, nf);
	p9_put16(&t, name ? 1 : 0);
	if (name)
		p9_putstr(&t, name, (uint32_t)len);
	e = p9_req_rpc(s, sl, &t, P9_TWALK, &r);
	if (e == 0) {
		uint16_t n = p9_get16(&r);
		/* A partial walk leaves newfid unused on the server. */
		if (r.err)
			e = -EIO;
		else if (n != (name ? 1 : 0))
			e = -ENOENT;
	}
	p9_req_end(s, sl);
	if (e)
		p9_fid_forget(s, nf);
	else
		*newfid = nf;
	return e;
}

int p9_getattr(struct p9_session *s, uint32_t fid, struct p9_attr *a)
{
	if (s->dotu)
		return p9u_stat(s, fid, a, NULL, 0);
	struct p9_msg t, r;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TGETATTR);
	p9_put32(&t, fid);
	p9_put64(&t, 0x7ffull); /* P9_GETATTR_BASIC */
	int e = p9_req_rpc(s, sl, &t, P9_TGETATTR, &r);
	if (!e) {
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
		e = r.err ? -EIO : 0;
	}
	p9_req_end(s, sl);
	return e;
}

int p9_lopen(struct p9_session *s, uint32_t fid, uint32_t flags, uint32_t *iounit)
{
	struct p9_msg t, r;
	struct p9_slot *sl = p9_req_start(s, &t, s->dotu ? P9_TOPEN : P9_TLOPEN);
	p9_put32(&t, fid);
	if (s->dotu)
		p9_put8(&t, p9u_open_mode(flags));
	else
		p9_put32(&t, flags);
	int e = p9_req_rpc(s, sl, &t, s->dotu ? P9_TOPEN : P9_TLOPEN, &r);
	if (!e) {
		struct p9_qid q;
		get_qid(&r, &q);
		*iounit = p9_get32(&r);
		e = r.err ? -EIO : 0;
	}
	p9_req_end(s, sl);
	return e;
}

/* Requests whose reply is only checked (no fields used). */
static int simple(struct p9_session *s, struct p9_slot *sl, struct p9_msg *t, uint8_t type)
{
	struct p9_msg r;
	int e = p9_req_rpc(s, sl, t, type, &r);
	p9_req_end(s, sl);
	return e;
}

int p9_lcreate(struct p9_session *s, uint32_t fid, const char *name, size_t len, uint32_t flags, uint32_t mode)
{
	if (s->dotu)
		return p9u_create(s, fid, name, len, mode, p9u_open_mode(flags), NULL);
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TLCREATE);
	p9_put32(&t, fid);
	p9_putstr(&t, name, (uint32_t)len);
	p9_put32(&t, flags);
	p9_put32(&t, mode);
	p9_put32(&t, 0);
	return simple(s, sl, &t, P9_TLCREATE);
}

int p9_mkdir(struct p9_session *s, uint32_t dfid, const char *name, size_t len, uint32_t mode)
{
	if (s->dotu)
		return p9u_create_in(s, dfid, name, len, P9U_DMDIR | (mode & 0777), NULL);
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TMKDIR);
	p9_put32(&t, dfid);
	p9_putstr(&t, name, (uint32_t)len);
	p9_put32(&t, mode);
	p9_put32(&t, 0);
	return simple(s, sl, &t, P9_TMKDIR);
}

int p9_symlink(struct p9_session *s, uint32_t dfid, const char *name, size_t len, const char *target)
{
	if (s->dotu)
		return p9u_create_in(s, dfid, name, len, P9U_DMSYMLINK | 0777, target);
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TSYMLINK);
	p9_put32(&t, dfid);
	p9_putstr(&t, name, (uint32_t)len);
	p9_putstr(&t, target, (uint32_t)strlen(target));
	p9_put32(&t, 0);
	return simple(s, sl, &t, P9_TSYMLINK);
}

int p9_mknod(struct p9_session *s, uint32_t dfid, const char *name, size_t len, uint32_t mode, uint32_t major,
	     uint32_t minor)
{
	if (s->dotu)
		return p9u_mknod(s, dfid, name, len, mode, major, minor);
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TMKNOD);
	p9_put32(&t, dfid);
	p9_putstr(&t, name, (uint32_t)len);
	p9_put32(&t, mode);
	p9_put32(&t, major);
	p9_put32(&t, minor);
	p9_put32(&t, 0);
	return simple(s, sl, &t, P9_TMKNOD);
}

int p9_link(struct p9_session *s, uint32_t dfid, uint32_t fid, const char *name, size_t len)
{
	if (s->dotu)
		return p9u_link(s, dfid, fid, name, len);
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TLINK);
	p9_put32(&t, dfid);
	p9_put32(&t, fid);
	p9_putstr(&t, name, (uint32_t)len);
	return simple(s, sl, &t, P9_TLINK);
}

int p9_unlinkat(struct p9_session *s, uint32_t dfid, const char *name, size_t len, bool dir)
{
	if (s->dotu)
		return p9u_remove(s, dfid, name, len);
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TUNLINKAT);
	p9_put32(&t, dfid);
	p9_putstr(&t, name, (uint32_t)len);
	p9_put32(&t, dir ? 0x200 : 0); /* AT_REMOVEDIR */
	return simple(s, sl, &t, P9_TUNLINKAT);
}

int p9_renameat(struct p9_session *s, uint32_t odfid, const char *on, size_t ol, uint32_t ndfid, const char *nn,
		size_t nl)
{
	if (s->dotu)
		return p9u_rename(s, odfid, on, ol, ndfid, nn, nl);
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TRENAMEAT);
	p9_put32(&t, odfid);
	p9_putstr(&t, on, (uint32_t)ol);
	p9_put32(&t, ndfid);
	p9_putstr(&t, nn, (uint32_t)nl);
	return simple(s, sl, &t, P9_TRENAMEAT);
}

ssize_t p9_readlink(struct p9_session *s, uint32_t fid, char *buf, size_t size)
{
	if (s->dotu) {
		struct p9_attr a;
		return p9u_stat(s, fid, &a, buf, size);
	}
	struct p9_msg t, r;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TREADLINK);
	p9_put32(&t, fid);
	ssize_t e = p9_req_rpc(s, sl, &t, P9_TREADLINK, &r);
	if (!e) {
		uint16_t len;
		const char *target = p9_getstr(&r, &len);
		if (r.err) {
			e = -EIO;
		} else {
			size_t n = len < size ? len : size;
			memcpy(buf, target, n);
			e = (ssize_t)n;
		}
	}
	p9_req_end(s, sl);
	return e;
}

int p9_setsize(struct p9_session *s, uint32_t fid, uint64_t size)
{
	if (s->dotu)
		return p9u_wstat(s, fid, NULL, 0, size);
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TSETATTR);
	p9_put32(&t, fid);
	p9_put32(&t, 8); /* P9_ATTR_SIZE */
	p9_put32(&t, 0);
	p9_put32(&t, 0);
	p9_put32(&t, 0);
	p9_put64(&t, size);
	for (int i = 0; i < 4; i++)
		p9_put64(&t, 0);
	return simple(s, sl, &t, P9_TSETATTR);
}

int p9_fsync(struct p9_session *s, uint32_t fid)
{
	if (s->dotu)
		return p9u_wstat(s, fid, NULL, 0, ~0ull); /* a wstat that changes nothing is a sync request */
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TFSYNC);
	p9_put32(&t, fid);
	p9_put32(&t, 0);
	return simple(s, sl, &t, P9_TFSYNC);
}

int p9_statfs(struct p9_session *s, uint32_t fid, struct p9_statfs *st)
{
	if (s->dotu)
		return -ENOSYS;
	struct p9_msg t, r;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TSTATFS);
	p9_put32(&t, fid);
	int e = p9_req_rpc(s, sl, &t, P9_TSTATFS, &r);
	if (!e) {
		st->type = p9_get32(&r);
		st->bsize = p9_get32(&r);
		st->blocks = p9_get64(&r);
		st->bfree = p9_get64(&r);
		st->bavail = p9_get64(&r);
		st->files = p9_get64(&r);
		st->ffree = p9_get64(&r);
		st->fsid = p9_get64(&r);
		st->namelen = p9_get32(&r);
		e = r.err ? -EIO : 0;
	}
	p9_req_end(s, sl);
	return e;
}

static void put_flock(struct p9_msg *t, const struct p9_flock *l, bool flags)
{
	p9_put8(t, l->type);
	if (flags)
		p9_put32(t, l->flags);
	p9_put64(t, l->start);
	p9_put64(t, l->length);
	p9_put32(t, l->proc_id);
	p9_putstr(t, l->client_id, (uint32_t)strlen(l->client_id));
}

int p9_lock(struct p9_session *s, uint32_t fid, const struct p9_flock *l)
{
	if (s->dotu)
		return -ENOSYS;
	struct p9_msg t, r;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TLOCK);
	p9_put32(&t, fid);
	put_flock(&t, l, true);
	int e = p9_req_rpc(s, sl, &t, P9_TLOCK, &r);
	if (!e) {
		uint8_t status = p9_get8(&r);
		e = r.err || status > 3 ? -EIO : status;
	}
	p9_req_end(s, sl);
	return e;
}

int p9_getlock(struct p9_session *s, uint32_t fid, struct p9_flock *l)
{
	if (s->dotu)
		return -ENOSYS;
	struct p9_msg t, r;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TGETLOCK);
	p9_put32(&t, fid);
	put_flock(&t, l, false);
	int e = p9_req_rpc(s, sl, &t, P9_TGETLOCK, &r);
	if (!e) {
		l->type = p9_get8(&r);
		l->start = p9_get64(&r);
		l->length = p9_get64(&r);
		l->proc_id = p9_get32(&r);
		uint16_t n;
		p9_getstr(&r, &n);
		e = r.err || l->type > 2 ? -EIO : 0;
	}
	p9_req_end(s, sl);
	return e;
}

uint32_t p9_io_max(struct p9_session *s)
{
	return s->msize - 24; /* Twrite's header is the larger: 4+1+2+4+8+4 */
}

/* Can the device reach buf directly? The direct map is physically contiguous. */
bool p9_zero_copy(struct p9_session *s, const void *buf)
{
	uintptr_t v = (uintptr_t)buf;
	return !s->dotu && v >= DIRECT_MAP_BASE && v < KSTACK_AREA_BASE;
}

/* Tread and Treaddir (same fields): the data goes straight into buf when the
 * device can reach it, else through the slot's reply buffer. */
static struct p9_slot *data_start(struct p9_session *s, uint8_t type, uint32_t fid, uint64_t off, void *buf,
				  uint32_t n, int *err)
{
	bool zc = p9_zero_copy(s, buf);
	uint32_t max = zc ? p9_io_max(s) : P9_SLOT_BUF - RREAD_HDR;
	if (max > s->msize - RREAD_HDR)
		max = s->msize - RREAD_HDR;
	if (n > max)
		n = max;
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, type);
	p9_put32(&t, fid);
	p9_put64(&t, off);
	p9_put32(&t, n);
	uint32_t len = p9_finish(&t);
	struct p9_call *c = &sl->call;
	c->bufs[0] = (struct p9_buf){ sl->req, len };
	c->nout = 1;
	if (zc) {
		c->bufs[1] = (struct p9_buf){ sl->rep, RREAD_HDR };
		c->bufs[2] = (struct p9_buf){ buf, n };
		c->nin = 2;
	} else {
		c->bufs[1] = (struct p9_buf){ sl->rep, RREAD_HDR + n };
		c->nin = 1;
	}
	sl->type = type;
	sl->want = n;
	int e = submit(s, sl);
	if (e) {
		p9_req_end(s, sl);
		*err = e;
		return NULL;
	}
	return sl;
}

static ssize_t data_end(struct p9_session *s, struct p9_slot *sl, void *buf)
{
	int e = wait_done(s, sl);
	if (e)
		return e;
	struct p9_call *c = &sl->call;
	struct p9_msg r;
	uint32_t size, count = 0;
	e = p9_check_reply_split(&r, sl->rep, c->bufs[1].len, c->got, s->msize, sl->type, tag_of(s, sl), &size);
	if (!e) {
		count = p9_get32(&r);
		if (r.err || count > sl->want || count > size - RREAD_HDR) {
			pr_err("9p: R%s of %u bytes for a request of %u: dropped\n", sl->type == P9_TREAD ? "read" : "readdir",
			       count, sl->want);
			e = -EIO;
		} else if (c->nin == 1) {
			memcpy(buf, sl->rep + RREAD_HDR, count);
		}
	}
	p9_req_end(s, sl);
	return e ? e : (ssize_t)count;
}

struct p9_slot *p9_read_start(struct p9_session *s, uint32_t fid, uint64_t off, void *buf, uint32_t n, int *err)
{
	return data_start(s, P9_TREAD, fid, off, buf, n, err);
}

ssize_t p9_read_end(struct p9_session *s, struct p9_slot *sl, void *buf, uint32_t n)
{
	(void)n;
	return data_end(s, sl, buf);
}

ssize_t p9_read(struct p9_session *s, uint32_t fid, uint64_t off, void *buf, uint32_t n)
{
	int e = 0;
	struct p9_slot *sl = p9_read_start(s, fid, off, buf, n, &e);
	return sl ? p9_read_end(s, sl, buf, n) : e;
}

ssize_t p9_write(struct p9_session *s, uint32_t fid, uint64_t off, const void *buf, uint32_t n)
{
	bool zc = p9_zero_copy(s, buf);
	uint32_t max = zc ? p9_io_max(s) : P9_SLOT_BUF - TWRITE_HDR;
	if (max > p9_io_max(s))
		max = p9_io_max(s);
	if (n > max)
		n = max;
	struct p9_msg t, r;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TWRITE);
	p9_put32(&t, fid);
	p9_put64(&t, off);
	p9_put32(&t, n);
	struct p9_call *c = &sl->call;
	if (zc) {
		/* The size field counts the data that follows in the second buffer. */
		uint32_t len = p9_finish(&t);
		uint32_t size = len + n;
		memcpy(sl->req, &size, 4);
		c->bufs[0] = (struct p9_buf){ sl->req, len };
		c->bufs[1] = (struct p9_buf){ (void *)buf, n };
		c->nout = 2;
	} else {
		p9_putdata(&t, buf, n);
		c->bufs[0] = (struct p9_buf){ sl->req, p9_finish(&t) };
		c->nout = 1;
	}
	c->bufs[c->nout] = (struct p9_buf){ sl->rep, P9_SLOT_BUF };
	c->nin = 1;
	int e = submit(s, sl);
	if (!e)
		e = wait_done(s, sl);
	if (!e)
		e = p9_check_reply(&r, sl->rep, c->got, s->msize, P9_TWRITE, tag_of(s, sl));
	uint32_t done = 0;
	if (!e) {
		done = p9_get32(&r);
		if (r.err || done > n) {
			pr_err("9p: Rwrite says %u bytes for a request of %u: dropped\n", done, n);
			e = -EIO;
		}
	}
	p9_req_end(s, sl);
	return e ? e : (ssize_t)done;
}

int p9_readdir(struct p9_session *s, uint32_t fid, uint64_t off, void *buf, uint32_t cap, struct p9_msg *out)
{
	if (s->dotu)
		return p9u_readdir(s, fid, off, buf, cap, out);
	int e = 0;
	struct p9_slot *sl = data_start(s, P9_TREADDIR, fid, off, buf, cap, &e);
	ssize_t n = sl ? data_end(s, sl, buf) : e;
	if (n < 0)
		return (int)n;
	*out = (struct p9_msg){ .buf = buf, .len = (uint32_t)n, .off = 0, .err = false };
	return 0;
}

struct p9_session *p9_session_new(struct p9_trans *tr, uint32_t msize)
{
	struct p9_session *s = kzalloc(sizeof(*s));
	if (!s)
		return NULL;
	s->trans = tr;
	s->msize = msize < tr->max_msize ? msize : tr->max_msize;
	spin_init(&s->lock);
	wait_queue_init(&s->slot_wq);
	s->fids = page_alloc(page_order_for(P9_MAX_FIDS / 8), PAGE_ZERO);
	if (!s->fids) {
		kfree(s);
		return NULL;
	}
	for (unsigned i = 0; i < P9_SLOTS; i++) {
		struct p9_slot *sl = &s->slots[i];
		wait_queue_init(&sl->wq);
		sl->req = page_alloc(page_order_for(P9_SLOT_BUF), 0);
		sl->rep = page_alloc(page_order_for(P9_SLOT_BUF), 0);
		if (!sl->req || !sl->rep) {
			p9_session_free(s);
			return NULL;
		}
		s->slot_free |= 1u << i;
	}
	return s;
}

void p9_session_free(struct p9_session *s)
{
	for (unsigned i = 0; i < P9_SLOTS; i++) {
		if (s->slots[i].lost)
			continue; /* the device may still write there */
		if (s->slots[i].req)
			page_free(s->slots[i].req, page_order_for(P9_SLOT_BUF));
		if (s->slots[i].rep)
			page_free(s->slots[i].rep, page_order_for(P9_SLOT_BUF));
	}
	if (s->fids)
		page_free(s->fids, page_order_for(P9_MAX_FIDS / 8));
	kfree(s);
}

/* Tversion with version: the server's msize and whether it answered with the same version. */
static int version(struct p9_session *s, const char *v, uint32_t *msize, char *answer, size_t cap)
{
	struct p9_msg t, r;
	struct p9_slot *sl = slot_get(s);
	p9_begin(&t, sl->req, P9_SLOT_BUF, P9_TVERSION, P9_NOTAG);
	p9_put32(&t, s->msize);
	p9_putstr(&t, v, (uint32_t)strlen(v));
	int e = p9_req_rpc(s, sl, &t, P9_TVERSION, &r);
	if (!e) {
		*msize = p9_get32(&r);
		uint16_t n;
		const char *a = p9_getstr(&r, &n);
		if (r.err || n >= cap) {
			e = -EIO;
		} else {
			memcpy(answer, a, n);
			answer[n] = 0;
		}
	}
	p9_req_end(s, sl);
	return e;
}

int p9_session_start(struct p9_session *s, uint32_t *rootfid)
{
	const char *tag = s->trans->tag;
	char answer[16];
	uint32_t msize = 0;
	int e = version(s, "9P2000.L", &msize, answer, sizeof(answer));
	if (!e && strcmp(answer, "9P2000.L")) {
		/* novm-style servers speak 9P2000.u: ask for it by name (a .u
		 * server may answer a .L request with plain "9P2000" or "unknown"). */
		if (strcmp(answer, "9P2000.u"))
			e = version(s, "9P2000.u", &msize, answer, sizeof(answer));
		if (!e && strcmp(answer, "9P2000.u"))
			e = -EPROTONOSUPPORT;
		if (!e) {
			s->dotu = true;
			pr_info("9p: %s: the server speaks 9P2000.u\n", tag);
		}
	}
	if (!e && (msize < 4096 || msize > s->msize))
		e = -EPROTONOSUPPORT;
	if (e) {
		pr_err("9p: %s: the server speaks neither 9P2000.L nor 9P2000.u with a usable msize (%d)\n", tag, e);
		return e;
	}
	s->msize = msize;
	uint32_t fid;
	e = p9_fid_alloc(s, &fid);
	if (e)
		return e;
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TATTACH);
	p9_put32(&t, fid);
	p9_put32(&t, P9_NOFID);
	p9_putstr(&t, "root", 4);
	p9_putstr(&t, "", 0);
	p9_put32(&t, 0); /* n_uname: uid 0 (.L and .u alike) */
	e = simple(s, sl, &t, P9_TATTACH);
	if (e) {
		p9_fid_forget(s, fid);
		pr_err("9p: %s: attach failed (%d)\n", tag, e);
		return e;
	}
	*rootfid = fid;
	return 0;
}

struct p9_session *p9_connect(struct p9_trans *tr, uint32_t msize, uint32_t *rootfid)
{
	struct p9_session *s = p9_session_new(tr, msize);
	if (s && p9_session_start(s, rootfid)) {
		p9_session_free(s);
		s = NULL;
	}
	return s;
}
