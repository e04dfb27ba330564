/* 9P2000.u requests and the stat structure (see dotu.h). */
#include "dotu.h"
#include <lib/printf.h>
#include <lib/string.h>
#include <vfs/errno.h>
#include <vfs/stat.h>

#define OREAD 0
#define OWRITE 1
#define ORDWR 2
#define OTRUNC 0x10

uint8_t p9u_open_mode(uint32_t flags)
{
	uint8_t m = (flags & O_ACCMODE) == O_WRONLY ? OWRITE : (flags & O_ACCMODE) == O_RDWR ? ORDWR : OREAD;
	if (flags & O_TRUNC)
		m |= OTRUNC;
	return m;
}

static unsigned dec(const char **p, const char *end)
{
	unsigned v = 0;
	while (*p < end && **p >= '0' && **p <= '9')
		v = v * 10 + (unsigned)(*(*p)++ - '0');
	return v;
}

int p9u_parse_stat(struct p9_msg *m, struct p9_attr *a, char *link, size_t linkcap, size_t *linklen)
{
	uint16_t size = p9_get16(m);
	uint32_t start = m->off;
	if (m->err || size > m->len - m->off)
		return -EIO;
	p9_get16(m); /* type */
	p9_get32(m); /* dev */
	a->qid.type = p9_get8(m);
	a->qid.version = p9_get32(m);
	a->qid.path = p9_get64(m);
	uint32_t mode = p9_get32(m);
	a->atime_sec = p9_get32(m);
	a->mtime_sec = p9_get32(m);
	a->ctime_sec = a->mtime_sec;
	a->atime_nsec = a->mtime_nsec = a->ctime_nsec = 0;
	a->size = p9_get64(m);
	uint16_t n;
	for (int i = 0; i < 4; i++)
		p9_getstr(m, &n); /* name uid gid muid */
	uint16_t elen;
	const char *ext = p9_getstr(m, &elen);
	a->uid = p9_get32(m);
	a->gid = p9_get32(m);
	p9_get32(m); /* n_muid */
	if (m->err || m->off - start != size)
		return -EIO;
	a->nlink = 1;
	a->rdev = 0;
	uint32_t type = S_IFREG;
	if (mode & P9U_DMDIR)
		type = S_IFDIR;
	else if (mode & P9U_DMSYMLINK)
		type = S_IFLNK;
	else if (mode & P9U_DMNAMEDPIPE)
		type = S_IFIFO;
	else if (mode & P9U_DMSOCKET)
		type = S_IFSOCK;
	else if (mode & P9U_DMDEVICE) {
		/* "b MAJOR MINOR" or "c MAJOR MINOR" */
		const char *p = ext, *end = ext + elen;
		if (elen < 5 || (p[0] != 'b' && p[0] != 'c') || p[1] != ' ')
			return -EIO;
		type = p[0] == 'b' ? S_IFBLK : S_IFCHR;
		p += 2;
		unsigned major = dec(&p, end);
		if (p == end || *p++ != ' ')
			return -EIO;
		unsigned minor = dec(&p, end);
		if (p != end)
			return -EIO;
		a->rdev = (major << 8) | (minor & 0xff) | ((minor & ~0xffu) << 12);
	}
	a->mode = type | (mode & 0777) | (mode & P9U_DMSETUID ? 04000u : 0) | (mode & P9U_DMSETGID ? 02000u : 0) |
		  (mode & P9U_DMSETVTX ? 01000u : 0);
	if (link) {
		size_t c = elen < linkcap ? elen : linkcap;
		memcpy(link, ext, c);
		*linklen = c;
	}
	return 0;
}

void p9u_put_wstat(struct p9_msg *t, const char *name, size_t nlen, uint64_t length)
{
	/* Fixed part 2+4+13+4+4+4+8 = 39, four strings, extension, 3 ids. */
	uint16_t size = (uint16_t)(39 + 2 + nlen + 2 + 2 + 2 + 2 + 12);
	p9_put16(t, (uint16_t)(size + 2)); /* Twstat's stat[n]: its own count first */
	p9_put16(t, size);
	p9_put16(t, 0xffff);     /* type */
	p9_put32(t, 0xffffffff); /* dev */
	p9_put8(t, 0xff);        /* qid */
	p9_put32(t, 0xffffffff);
	p9_put64(t, ~0ull);
	p9_put32(t, 0xffffffff); /* mode */
	p9_put32(t, 0xffffffff); /* atime */
	p9_put32(t, 0xffffffff); /* mtime */
	p9_put64(t, length);
	p9_putstr(t, name ? name : "", name ? (uint32_t)nlen : 0);
	p9_putstr(t, "", 0); /* uid */
	p9_putstr(t, "", 0); /* gid */
	p9_putstr(t, "", 0); /* muid */
	p9_putstr(t, "", 0); /* extension */
	p9_put32(t, 0xffffffff);
	p9_put32(t, 0xffffffff);
	p9_put32(t, 0xffffffff);
}

int p9u_dir_to_dirents(uint8_t *buf, uint32_t n, uint64_t off)
{
	struct p9_msg m = { .buf = buf, .len = n, .off = 0, .err = false };
	struct p9_msg out = { .buf = buf, .len = n, .off = 0, .err = false };
	while (m.off < m.len) {
		uint32_t at = m.off;
		struct p9_attr a;
		if (p9u_parse_stat(&m, &a, NULL, 0, NULL))
			return -EIO;
		/* The name is the first string, at a fixed place in the entry. */
		struct p9_msg nm = { .buf = buf, .len = m.off, .off = at + 41, .err = false };
		uint16_t len;
		const char *name = p9_getstr(&nm, &len);
		if (nm.err)
			return -EIO;
		/* The .L entry (24 + len bytes) is shorter than the stat it came
		 * from (at least 61 + len), so writing never overtakes reading;
		 * memmove the name first, since it may overlap where it goes. */
		uint8_t dt = (uint8_t)mode_to_dtype(a.mode);
		memmove(buf + out.off + 24, name, len);
		p9_put8(&out, a.qid.type);
		p9_put32(&out, a.qid.version);
		p9_put64(&out, a.qid.path);
		p9_put64(&out, off + m.off); /* where the next read starts */
		p9_put8(&out, dt);
		p9_put16(&out, len);
		out.off += len;
	}
	return (int)out.off;
}

static int simple(struct p9_session *s, struct p9_slot *sl, struct p9_msg *t, uint8_t type)
{
	struct p9_msg r;
	int e = p9_req_rpc(s, sl, t, type, &r);
	p9_req_end(s, sl);
	return e;
}

ssize_t p9u_stat(struct p9_session *s, uint32_t fid, struct p9_attr *a, char *link, size_t linkcap)
{
	struct p9_msg t, r;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TSTAT);
	p9_put32(&t, fid);
	ssize_t e = p9_req_rpc(s, sl, &t, P9_TSTAT, &r);
	size_t len = 0;
	if (!e) {
		uint16_t n = p9_get16(&r); /* stat[n] */
		if (r.err || n != r.len - r.off)
			e = -EIO;
		else
			e = p9u_parse_stat(&r, a, link, linkcap, &len);
	}
	p9_req_end(s, sl);
	if (!e && link)
		e = (ssize_t)len;
	return e;
}

int p9u_create(struct p9_session *s, uint32_t fid, const char *name, size_t len, uint32_t perm, uint8_t mode,
	       const char *ext)
{
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TCREATE);
	p9_put32(&t, fid);
	p9_putstr(&t, name, (uint32_t)len);
	p9_put32(&t, perm);
	p9_put8(&t, mode);
	p9_putstr(&t, ext ? ext : "", ext ? (uint32_t)strlen(ext) : 0);
	return simple(s, sl, &t, P9_TCREATE);
}

int p9u_create_in(struct p9_session *s, uint32_t dfid, const char *name, size_t len, uint32_t perm, const char *ext)
{
	uint32_t fid;
	int e = p9_walk(s, dfid, NULL, 0, &fid);
	if (e)
		return e;
	e = p9u_create(s, fid, name, len, perm, OREAD, ext);
	p9_clunk(s, fid);
	return e;
}

int p9u_mknod(struct p9_session *s, uint32_t dfid, const char *name, size_t len, uint32_t mode, uint32_t major,
	      uint32_t minor)
{
	char ext[32];
	uint32_t perm = mode & 0777;
	ext[0] = 0;
	if ((mode & S_IFMT) == S_IFIFO) {
		perm |= P9U_DMNAMEDPIPE;
	} else if ((mode & S_IFMT) == S_IFSOCK) {
		perm |= P9U_DMSOCKET;
	} else if (S_ISCHR(mode) || (mode & S_IFMT) == S_IFBLK) {
		perm |= P9U_DMDEVICE;
		snprintf(ext, sizeof(ext), "%c %u %u", (mode & S_IFMT) == S_IFBLK ? 'b' : 'c', major, minor);
	} else {
		return -EINVAL;
	}
	return p9u_create_in(s, dfid, name, len, perm, ext);
}

int p9u_link(struct p9_session *s, uint32_t dfid, uint32_t fid, const char *name, size_t len)
{
	char ext[16];
	snprintf(ext, sizeof(ext), "%u", fid); /* the extension names the target by its fid */
	return p9u_create_in(s, dfid, name, len, P9U_DMLINK, ext);
}

int p9u_remove(struct p9_session *s, uint32_t dfid, const char *name, size_t len)
{
	uint32_t fid;
	int e = p9_walk(s, dfid, name, len, &fid);
	if (e)
		return e;
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TREMOVE);
	p9_put32(&t, fid);
	e = simple(s, sl, &t, P9_TREMOVE);
	p9_fid_forget(s, fid); /* Tremove clunks the fid, failed or not */
	return e;
}

int p9u_wstat(struct p9_session *s, uint32_t fid, const char *name, size_t nlen, uint64_t length)
{
	struct p9_msg t;
	struct p9_slot *sl = p9_req_start(s, &t, P9_TWSTAT);
	p9_put32(&t, fid);
	p9u_put_wstat(&t, name, nlen, length);
	return simple(s, sl, &t, P9_TWSTAT);
}

int p9u_rename(struct p9_session *s, uint32_t odfid, const char *on, size_t ol, uint32_t ndfid, const char *nn,
	       size_t nl)
{
	if (odfid != ndfid)
		return -EXDEV; /* 9P2000.u renames within a directory only (wstat of the name) */
	uint32_t fid;
	int e = p9_walk(s, odfid, on, ol, &fid);
	if (e)
		return e;
	e = p9u_wstat(s, fid, nn, nl, ~0ull);
	p9_clunk(s, fid);
	return e;
}

int p9u_readdir(struct p9_session *s, uint32_t fid, uint64_t off, void *buf, uint32_t cap, struct p9_msg *out)
{
	ssize_t n = p9_read(s, fid, off, buf, cap);
	if (n < 0)
		return (int)n;
	int m = p9u_dir_to_dirents(buf, (uint32_t)n, off);
	if (m < 0)
		return m;
	*out = (struct p9_msg){ .buf = buf, .len = (uint32_t)m, .off = 0, .err = false };
	return 0;
}
