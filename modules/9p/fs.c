/*
 * 9p through the VFS. Inodes are kept per server file (qid.path) for the life
 * of the mount, like tmpfs keeps its own, so a path walk finds the same inode
 * again and directories keep their parent; each holds one walked fid, clunked
 * when the file is removed and its last reference goes. Open files have
 * their own fid (walked from the inode's, then Tlopen). A read-only mount
 * refuses every change with EROFS before asking the server.
 */
#include "client.h"
#include <arch/spinlock.h>
#include <cmdline/cmdline.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <lib/panic.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <sched/mutex.h>
#include <sched/thread.h>
#include <time/clock.h>
#include <vfs/errno.h>
#include <vfs/stat.h>
#include <vfs/vfs.h>

CMDLINE_PARAM(ninep_mount, "9p.mount", "mount 9p channel TAG at PATH: 9p.mount=TAG:/PATH[:ro] (repeatable)");
CMDLINE_PARAM(ninep_msize, "9p.msize", "largest 9P message to negotiate (bytes; default 516 KiB)");
CMDLINE_PARAM(ninep_poll, "9p.poll", "1: wait for 9P replies by polling the device instead of sleeping");
CMDLINE_PARAM(ninep_root, "9p.root", "mount 9p channel TAG as the root filesystem (instead of the initrd)");

#define NODE_BUCKETS 256
#define DIR_BUF (64u * 1024u) /* one Treaddir's worth of entries */

struct p9_dent {
	char *name;
	size_t len;
	uint64_t ino;
	unsigned type;
};

struct p9_node {
	uint32_t fid;
	uint64_t qpath;
	struct inode *inode;
	struct p9_node *next;
	struct p9_dent *dents;  /* directories: the listing readdir hands out */
	size_t ndents;
	bool unhashed;          /* left the table (see inode_for) */
};

struct p9_sb {
	struct super super;
	struct p9_session *s;
	bool ro;
	spinlock_t lock;
	struct p9_node *nodes[NODE_BUCKETS];
	uint64_t wgen;            /* writes through the mount (readahead validity) */
	struct p9_dcache *dcache; /* DCACHE_SLOTS */
};

static const struct inode_ops p9_iops;
static const struct file_ops p9_fops;
static uint32_t next_dev = 0x900;

static struct p9_sb *sb_of(struct inode *ino) { return ino->sb->priv; }
static struct p9_node *node_of(struct inode *ino) { return ino->priv; }

/* The node table: inode ops run under the VFS's big lock, but an inode's
 * last put (and so destroy) may come from anywhere. RPCs are never made with
 * it held. */
static uint64_t lock(struct p9_sb *sb) { return spin_lock_irqsave(&sb->lock); }
static void unlock(struct p9_sb *sb, uint64_t f) { spin_unlock_irqrestore(&sb->lock, f); }

static void set_attr(struct inode *ino, const struct p9_attr *a)
{
	ino->ino = a->qid.path;
	ino->mode = a->mode;
	ino->uid = a->uid;
	ino->gid = a->gid;
	ino->nlink = a->nlink ? (uint32_t)a->nlink : 1;
	ino->rdev = (uint32_t)a->rdev;
	ino->size = a->size;
	ino->atime = (struct vfs_time){ (int64_t)a->atime_sec, (int64_t)a->atime_nsec };
	ino->mtime = (struct vfs_time){ (int64_t)a->mtime_sec, (int64_t)a->mtime_nsec };
	ino->ctime = (struct vfs_time){ (int64_t)a->ctime_sec, (int64_t)a->ctime_nsec };
}

static void set_dir_name(struct inode *ino, struct inode *parent, const char *name, size_t len)
{
	char *n = kmalloc(len + 1);
	if (!n)
		return; /* keeps the old name: only getcwd-style paths suffer */
	memcpy(n, name, len);
	n[len] = 0;
	kfree(ino->name);
	ino->name = n;
	ino->parent = parent;
}

/*
 * The inode for fid (which the caller walked and hands over): the known one
 * for the same server file (fid clunked), or a new one owning fid. A known
 * inode whose links are gone (removed, waiting for its last reference) is a
 * different file now: it leaves the table and a new one is made.
 */
static int inode_for(struct p9_sb *sb, uint32_t fid, struct inode *parent, const char *name, size_t len,
		     struct inode **out)
{
	struct p9_attr a;
	int e = p9_getattr(sb->s, fid, &a);
	if (e) {
		p9_clunk(sb->s, fid);
		return e;
	}
	unsigned b = a.qid.path % NODE_BUCKETS;
	uint64_t f = lock(sb);
	for (struct p9_node **pp = &sb->nodes[b]; *pp; pp = &(*pp)->next) {
		struct p9_node *n = *pp;
		if (n->qpath != a.qid.path)
			continue;
		if (n->inode->nlink == 0) {
			*pp = n->next;
			n->next = NULL;
			n->unhashed = true;
			break;
		}
		struct inode *ino = inode_get(n->inode);
		unlock(sb, f);
		p9_clunk(sb->s, fid);
		set_attr(ino, &a);
		if (S_ISDIR(a.mode) && parent)
			set_dir_name(ino, parent, name, len);
		*out = ino;
		return 0;
	}
	unlock(sb, f);
	struct p9_node *n = kzalloc(sizeof(*n));
	struct inode *ino = n ? inode_new(&sb->super, a.mode) : NULL;
	if (!ino) {
		kfree(n);
		p9_clunk(sb->s, fid);
		return -ENOMEM;
	}
	set_attr(ino, &a);
	ino->iops = &p9_iops;
	ino->fops = &p9_fops;
	ino->priv = n;
	n->fid = fid;
	n->qpath = a.qid.path;
	n->inode = ino;
	if (S_ISDIR(a.mode) && parent)
		set_dir_name(ino, parent, name, len);
	/* The table's own reference keeps it while it has links. */
	inode_get(ino);
	f = lock(sb);
	n->next = sb->nodes[b];
	sb->nodes[b] = n;
	unlock(sb, f);
	*out = ino;
	return 0;
}

static int lookup_locked(struct inode *dir, const char *name, size_t len, struct inode **out)
{
	struct p9_sb *sb = sb_of(dir);
	uint32_t fid;
	int e = p9_walk(sb->s, node_of(dir)->fid, name, len, &fid);
	if (e)
		return e;
	return inode_for(sb, fid, dir, name, len, out);
}

/*
 * Directories looked up in the last second, by (parent's qid.path, name): a
 * path walk does not ask the server again for every directory on the way
 * (each would be a Twalk, a Tgetattr and a Tclunk). Files are always asked
 * (their size and times must be fresh for stat). Changes made through the
 * mount drop the names they touch; a directory renamed or removed on the
 * host is seen within DCACHE_TTL. Used under the VFS's big lock only.
 */
#define DCACHE_SLOTS 512
#define DCACHE_NAME 48
#define DCACHE_TTL_NS 1000000000ull

struct p9_dcache {
	uint64_t dir;
	uint64_t at;
	struct inode *ino;     /* a reference; NULL: empty */
	uint8_t len;
	char name[DCACHE_NAME];
};

static struct p9_dcache *dcache_slot(struct p9_sb *sb, struct inode *dir, const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ node_of(dir)->qpath;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 1099511628211ull;
	return &sb->dcache[h % DCACHE_SLOTS];
}

static bool dcache_match(struct p9_dcache *d, struct inode *dir, const char *name, size_t len)
{
	return d->ino && d->dir == node_of(dir)->qpath && d->len == len && !memcmp(d->name, name, len);
}

static void dcache_clear(struct p9_dcache *d)
{
	struct inode *ino = d->ino;
	d->ino = NULL;
	inode_put(ino);
}

static void dcache_drop(struct p9_sb *sb, struct inode *dir, const char *name, size_t len)
{
	struct p9_dcache *d = sb->dcache ? dcache_slot(sb, dir, name, len) : NULL;
	if (d && dcache_match(d, dir, name, len))
		dcache_clear(d);
}

static int p9_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
	struct p9_sb *sb = sb_of(dir);
	struct p9_dcache *d = sb->dcache && len < DCACHE_NAME ? dcache_slot(sb, dir, name, len) : NULL;
	if (d && dcache_match(d, dir, name, len)) {
		if (d->ino->nlink > 0 && clock_monotonic_ns() - d->at < DCACHE_TTL_NS) {
			*out = inode_get(d->ino);
			return 0;
		}
		dcache_clear(d);
	}
	int e = lookup_locked(dir, name, len, out);
	if (!e && d && S_ISDIR((*out)->mode)) {
		if (d->ino)
			dcache_clear(d);
		d->dir = node_of(dir)->qpath;
		d->at = clock_monotonic_ns();
		d->len = (uint8_t)len;
		memcpy(d->name, name, len);
		d->ino = inode_get(*out);
	}
	return e;
}

static int p9_create(struct inode *dir, const char *name, size_t len, uint32_t mode, const char *target,
		     struct inode **out)
{
	struct p9_sb *sb = sb_of(dir);
	if (sb->ro)
		return -EROFS;
	uint32_t dfid = node_of(dir)->fid;
	dcache_drop(sb, dir, name, len);
	int e;
	if (S_ISREG(mode)) {
		uint32_t fid;
		e = p9_walk(sb->s, dfid, NULL, 0, &fid);
		if (!e) {
			e = p9_lcreate(sb->s, fid, name, len, O_RDWR | O_CREAT | O_EXCL, mode & 07777);
			p9_clunk(sb->s, fid);
		}
	} else if (S_ISDIR(mode)) {
		e = p9_mkdir(sb->s, dfid, name, len, mode & 07777);
	} else if (S_ISLNK(mode) && target) {
		e = p9_symlink(sb->s, dfid, name, len, target);
	} else if ((mode & S_IFMT) == S_IFIFO || (mode & S_IFMT) == S_IFSOCK) {
		/* A node on the host (a Unix socket's bound path, a FIFO); its
		 * traffic stays in the guest. */
		e = p9_mknod(sb->s, dfid, name, len, mode & (S_IFMT | 07777), 0, 0);
	} else {
		e = -EPERM; /* device nodes live in devfs */
	}
	if (!e)
		e = lookup_locked(dir, name, len, out);
	return e;
}

static int p9_link_op(struct inode *dir, const char *name, size_t len, struct inode *target)
{
	struct p9_sb *sb = sb_of(dir);
	if (sb->ro)
		return -EROFS;
	if (target->sb != dir->sb)
		return -EXDEV;
	int e = p9_link(sb->s, node_of(dir)->fid, node_of(target)->fid, name, len);
	if (!e)
		target->nlink++;
	return e;
}

/* The server removed name: drop the link count of the inode we know for it. */
static void dropped_link(struct inode *ino)
{
	if (ino->nlink > 0)
		ino->nlink--;
	if (S_ISDIR(ino->mode))
		ino->nlink = 0;
	if (ino->nlink == 0)
		inode_put(ino); /* the table's reference */
}

static int p9_unlink(struct inode *dir, const char *name, size_t len, bool dir_only)
{
	struct p9_sb *sb = sb_of(dir);
	if (sb->ro)
		return -EROFS;
	dcache_drop(sb, dir, name, len);
	struct inode *victim = NULL;
	int e = lookup_locked(dir, name, len, &victim);
	if (!e && dir_only && !S_ISDIR(victim->mode))
		e = -ENOTDIR;
	else if (!e && !dir_only && S_ISDIR(victim->mode))
		e = -EISDIR;
	if (!e)
		e = p9_unlinkat(sb->s, node_of(dir)->fid, name, len, dir_only);
	if (!e)
		dropped_link(victim);
	if (victim)
		inode_put(victim);
	return e;
}

static int p9_rename(struct inode *odir, const char *on, size_t ol, struct inode *ndir, const char *nn, size_t nl,
		     unsigned flags)
{
	struct p9_sb *sb = sb_of(odir);
	if (sb->ro)
		return -EROFS;
	if (ndir->sb != odir->sb)
		return -EXDEV;
	if (flags)
		return -EINVAL;
	dcache_drop(sb, odir, on, ol);
	dcache_drop(sb, ndir, nn, nl);
	struct inode *replaced = NULL, *moved = NULL;
	if (lookup_locked(ndir, nn, nl, &replaced))
		replaced = NULL;
	int e = p9_renameat(sb->s, node_of(odir)->fid, on, ol, node_of(ndir)->fid, nn, nl);
	if (!e) {
		if (replaced && lookup_locked(ndir, nn, nl, &moved) == 0 && moved != replaced)
			dropped_link(replaced);
		if (moved)
			inode_put(moved);
	}
	if (replaced)
		inode_put(replaced);
	return e;
}

static ssize_t p9_readlink_op(struct inode *ino, char *buf, size_t size)
{
	struct p9_sb *sb = sb_of(ino);
	ssize_t n = p9_readlink(sb->s, node_of(ino)->fid, buf, size);
	return n;
}

static int p9_truncate(struct inode *ino, uint64_t size)
{
	struct p9_sb *sb = sb_of(ino);
	if (sb->ro)
		return -EROFS;
	__atomic_add_fetch(&sb->wgen, 1, __ATOMIC_RELEASE);
	int e = p9_setsize(sb->s, node_of(ino)->fid, size);
	if (!e)
		ino->size = size;
	return e;
}

static void free_dents(struct p9_node *n)
{
	for (size_t i = 0; i < n->ndents; i++)
		kfree(n->dents[i].name);
	kfree(n->dents);
	n->dents = NULL;
	n->ndents = 0;
}

/* Reads the whole directory into n->dents (without "." and ".."). */
static int load_dir(struct p9_sb *sb, struct p9_node *n)
{
	free_dents(n);
	uint32_t fid, iounit;
	int e = p9_walk(sb->s, n->fid, NULL, 0, &fid);
	if (e)
		return e;
	e = p9_lopen(sb->s, fid, O_RDONLY | O_DIRECTORY, &iounit);
	uint8_t *buf = e ? NULL : kmalloc(DIR_BUF);
	if (!e && !buf)
		e = -ENOMEM;
	size_t cap = 0;
	uint64_t off = 0;
	while (!e) {
		struct p9_msg m;
		e = p9_readdir(sb->s, fid, off, buf, DIR_BUF, &m);
		if (e || m.off == m.len)
			break;
		while (!e && m.off < m.len) {
			struct p9_qid q;
			q.type = p9_get8(&m);
			q.version = p9_get32(&m);
			q.path = p9_get64(&m);
			uint64_t next = p9_get64(&m);
			uint8_t type = p9_get8(&m);
			uint16_t len;
			const char *name = p9_getstr(&m, &len);
			if (m.err || len == 0 || len > VFS_NAME_MAX || memchr(name, '/', len) || memchr(name, 0, len)) {
				pr_err("9p: malformed directory entry: listing dropped\n");
				e = -EIO;
				break;
			}
			off = next;
			if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
				continue;
			if (n->ndents == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct p9_dent *d = kcalloc(ncap, sizeof(*d));
				if (!d) {
					e = -ENOMEM;
					break;
				}
				if (n->dents)
					memcpy(d, n->dents, n->ndents * sizeof(*d));
				kfree(n->dents);
				n->dents = d;
				cap = ncap;
			}
			char *copy = kmalloc(len + 1);
			if (!copy) {
				e = -ENOMEM;
				break;
			}
			memcpy(copy, name, len);
			copy[len] = 0;
			n->dents[n->ndents++] = (struct p9_dent){ copy, len, q.path, type };
		}
	}
	p9_clunk(sb->s, fid);
	kfree(buf);
	if (e)
		free_dents(n);
	return e;
}

static int p9_readdir_op(struct inode *dir, uint64_t idx, struct vfs_dirent *out)
{
	struct p9_sb *sb = sb_of(dir);
	struct p9_node *n = node_of(dir);
	if (idx == 0) {
		*out = (struct vfs_dirent){ ".", 1, dir->ino, DT_DIR };
		return 0;
	}
	if (idx == 1) {
		struct inode *p = dir->parent ? dir->parent : dir;
		*out = (struct vfs_dirent){ "..", 2, p->ino, DT_DIR };
		/* A listing from the start reads the directory again. */
		int e = load_dir(sb, n);
		return e;
	}
	if (idx - 2 >= n->ndents)
		return 1;
	struct p9_dent *d = &n->dents[idx - 2];
	*out = (struct vfs_dirent){ d->name, d->len, d->ino, d->type };
	return 0;
}

/* May run where nobody can sleep (a last inode_put in atomic context): the
 * fid is then clunked before the session's next request. */
static int p9_statfs_op(struct inode *ino, struct vfs_statfs *st)
{
	struct p9_sb *sb = sb_of(ino);
	struct p9_statfs r;
	int e = p9_statfs(sb->s, node_of(ino)->fid, &r);
	if (e == -ENOSYS) { /* 9P2000.u has no statfs: say what is known */
		r = (struct p9_statfs){ .type = 0x01021997, .bsize = 4096, .namelen = VFS_NAME_MAX };
		e = 0;
	}
	if (e)
		return e;
	*st = (struct vfs_statfs){
		.type = 0x01021997, /* V9FS_MAGIC, as Linux reports any 9p mount */
		.bsize = r.bsize,
		.blocks = r.blocks,
		.bfree = r.bfree,
		.bavail = r.bavail,
		.files = r.files,
		.ffree = r.ffree,
		.fsid = r.fsid,
		.namelen = r.namelen,
		.flags = sb->ro ? 1 : 0, /* ST_RDONLY */
	};
	return 0;
}

static void p9_destroy(struct inode *ino)
{
	struct p9_sb *sb = sb_of(ino);
	struct p9_node *n = node_of(ino);
	uint64_t f = lock(sb);
	for (struct p9_node **pp = &sb->nodes[n->qpath % NODE_BUCKETS]; !n->unhashed && *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	unlock(sb, f);
	p9_clunk_later(sb->s, n->fid);
	free_dents(n);
	kfree(n);
}

static const struct inode_ops p9_iops = {
	.lookup = p9_lookup,
	.create = p9_create,
	.link = p9_link_op,
	.unlink = p9_unlink,
	.rename = p9_rename,
	.readlink = p9_readlink_op,
	.truncate = p9_truncate,
	.readdir = p9_readdir_op,
	.destroy = p9_destroy,
	.statfs = p9_statfs_op,
};

/* Readahead for small sequential reads of files opened read-only: the
 * reader is served from a 128 KiB buffer while the next 128 KiB is already
 * on its way. A write, truncate or O_TRUNC open through the mount drops what
 * was read ahead (changes made on the host meanwhile are seen at the next
 * buffer, as with any client cache). */
#define RA_CHUNK (128u * 1024u)

struct p9_ra {
	uint8_t *buf;
	uint64_t off;
	uint32_t len;          /* bytes there once the read is done */
	struct p9_slot *sl;    /* the read in flight */
	uint64_t gen;          /* the mount's write count when asked for */
	bool valid;
};

struct p9_open {
	uint32_t fid;
	struct mutex lock;     /* the readahead state (threads sharing the file) */
	uint64_t next;         /* where a sequential reader reads next */
	struct p9_ra ra[2];
};

static int p9_open(struct inode *ino, struct file *file)
{
	struct p9_sb *sb = sb_of(ino);
	unsigned acc = file->flags & O_ACCMODE;
	if (sb->ro && (acc != O_RDONLY || (file->flags & O_TRUNC)))
		return -EROFS;
	if (S_ISLNK(ino->mode) || (file->flags & O_PATH))
		return 0;
	if (!S_ISREG(ino->mode) && !S_ISDIR(ino->mode))
		return -ENXIO; /* a FIFO or socket node: the other end would be on the host */
	struct p9_open *o = kzalloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	uint32_t iounit;
	int e = p9_walk(sb->s, node_of(ino)->fid, NULL, 0, &o->fid);
	if (!e) {
		uint32_t fl = S_ISDIR(ino->mode) ? (O_RDONLY | O_DIRECTORY) : (file->flags & (O_ACCMODE | O_TRUNC | O_APPEND));
		e = p9_lopen(sb->s, o->fid, fl, &iounit);
		if (e)
			p9_clunk(sb->s, o->fid);
		else if (file->flags & O_TRUNC)
			ino->size = 0;
	}
	if (e) {
		kfree(o);
		return e;
	}
	mutex_init(&o->lock);
	if (file->flags & O_TRUNC)
		__atomic_add_fetch(&sb->wgen, 1, __ATOMIC_RELEASE);
	file->priv = o;
	return 0;
}

static void p9_release(struct file *file)
{
	struct p9_open *o = file->priv;
	if (!o)
		return;
	struct p9_sb *sb = sb_of(file->inode);
	for (int i = 0; i < 2; i++) {
		if (o->ra[i].sl)
			p9_read_end(sb->s, o->ra[i].sl, o->ra[i].buf, RA_CHUNK);
		kfree(o->ra[i].buf);
	}
	p9_clunk_later(sb->s, o->fid);
	kfree(o);
	file->priv = NULL;
}

/* A large read goes out as several Treads at once (each straight into its
 * part of buf), so the server reads ahead of the guest's copying; the parts
 * are then taken in order and the first short one ends the read. */
#define READ_PARTS 4
#define READ_PART_MIN (64u * 1024u)

static ssize_t p9_read_direct(struct p9_open *o, struct p9_session *s, void *buf, size_t n, uint64_t *pos)
{
	uint32_t max = p9_io_max(s);
	size_t done = 0;
	while (done < n) {
		size_t left = n - done;
		uint32_t part = left / READ_PARTS > max ? max : (uint32_t)(left / READ_PARTS);
		if (part < READ_PART_MIN)
			part = left < max ? (uint32_t)left : max;
		if (!p9_zero_copy(s, buf))
			part = left < P9_SLOT_BUF / 2 ? (uint32_t)left : P9_SLOT_BUF / 2; /* one at a time, through the slot */
		struct p9_slot *sl[READ_PARTS];
		uint8_t *dst[READ_PARTS];
		uint32_t len[READ_PARTS];
		unsigned k = 0;
		int err = 0;
		for (size_t at = done; k < READ_PARTS && at < n; k++, at += part) {
			len[k] = n - at < part ? (uint32_t)(n - at) : part;
			dst[k] = (uint8_t *)buf + at;
			sl[k] = p9_read_start(s, o->fid, *pos + (at - done), dst[k], len[k], &err);
			if (!sl[k])
				break;
		}
		bool stop = k == 0;
		for (unsigned i = 0; i < k; i++) {
			ssize_t r = p9_read_end(s, sl[i], dst[i], len[i]);
			if (stop)
				continue; /* after a short part: only collected */
			if (r < 0) {
				err = (int)r;
				stop = true;
				continue;
			}
			done += (size_t)r;
			*pos += (uint64_t)r;
			if ((uint32_t)r < len[i])
				stop = true;
		}
		if (stop || err)
			return done ? (ssize_t)done : err;
	}
	return (ssize_t)done;
}

static void ra_finish(struct p9_session *s, struct p9_ra *r)
{
	if (!r->sl)
		return;
	ssize_t n = p9_read_end(s, r->sl, r->buf, RA_CHUNK);
	r->sl = NULL;
	r->valid = n >= 0;
	r->len = n >= 0 ? (uint32_t)n : 0;
}

static void ra_start(struct p9_sb *sb, struct p9_open *o, struct p9_ra *r, uint64_t off)
{
	ra_finish(sb->s, r);
	int e;
	r->off = off;
	r->len = 0;
	r->gen = __atomic_load_n(&sb->wgen, __ATOMIC_ACQUIRE);
	r->sl = p9_read_start(sb->s, o->fid, off, r->buf, RA_CHUNK, &e);
	r->valid = r->sl != NULL;
}

/* The buffer holding (or about to hold) p: NULL when none. */
static struct p9_ra *ra_find(struct p9_sb *sb, struct p9_open *o, uint64_t p)
{
	uint64_t gen = __atomic_load_n(&sb->wgen, __ATOMIC_ACQUIRE);
	for (int i = 0; i < 2; i++) {
		struct p9_ra *r = &o->ra[i];
		if (r->valid && r->gen != gen) {
			ra_finish(sb->s, r);
			r->valid = false;
		}
		if (!r->valid || p < r->off || p >= r->off + RA_CHUNK)
			continue;
		ra_finish(sb->s, r);
		if (r->valid)
			return r;
	}
	return NULL;
}

static ssize_t p9_read_op(struct file *file, void *buf, size_t n, uint64_t *pos)
{
	struct p9_open *o = file->priv;
	if (!o)
		return -EBADF;
	struct p9_sb *sb = sb_of(file->inode);
	if (n >= RA_CHUNK || (file->flags & O_ACCMODE) != O_RDONLY || !S_ISREG(file->inode->mode) ||
	    sb->s->dotu) /* 9P2000.u reads go through the slots, in pieces smaller than a chunk */
		return p9_read_direct(o, sb->s, buf, n, pos);
	mutex_lock(&o->lock);
	if (!o->ra[0].buf) {
		o->ra[0].buf = kmalloc(RA_CHUNK);
		o->ra[1].buf = o->ra[0].buf ? kmalloc(RA_CHUNK) : NULL;
		if (!o->ra[1].buf) {
			kfree(o->ra[0].buf);
			o->ra[0].buf = NULL;
			mutex_unlock(&o->lock);
			return p9_read_direct(o, sb->s, buf, n, pos);
		}
	}
	size_t done = 0;
	bool started = false;
	while (done < n) {
		uint64_t p = *pos;
		struct p9_ra *r = ra_find(sb, o, p);
		if (r && p < r->off + r->len) {
			uint32_t c = (uint32_t)(r->off + r->len - p);
			if (c > n - done)
				c = (uint32_t)(n - done);
			memcpy((uint8_t *)buf + done, r->buf + (p - r->off), c);
			done += c;
			*pos += c;
			/* Keep the next chunk on its way. */
			struct p9_ra *other = &o->ra[r == &o->ra[0]];
			uint64_t ahead = r->off + RA_CHUNK;
			if (r->len == RA_CHUNK && !(other->valid && other->off == ahead))
				ra_start(sb, o, other, ahead);
			continue;
		}
		if (r)
			break; /* the end of the file */
		if (started || p != o->next)
			break; /* not sequential, or the read failed: read directly */
		ra_start(sb, o, &o->ra[0], p);
		started = true;
	}
	o->next = *pos;
	mutex_unlock(&o->lock);
	if (done > 0)
		return (ssize_t)done;
	/* Nothing read ahead for p: a seek, a failed read, or the end of the
	 * file as the buffer saw it (the server says whether it grew). */
	ssize_t r = p9_read_direct(o, sb->s, buf, n, pos);
	if (r > 0) {
		mutex_lock(&o->lock);
		o->next = *pos;
		mutex_unlock(&o->lock);
	}
	return r;
}

static ssize_t p9_write_op(struct file *file, const void *buf, size_t n, uint64_t *pos)
{
	struct p9_open *o = file->priv;
	if (!o)
		return -EBADF;
	struct p9_sb *sb = sb_of(file->inode);
	if (sb->ro)
		return -EROFS;
	size_t done = 0;
	if (file->flags & O_APPEND)
		*pos = file->inode->size;
	__atomic_add_fetch(&sb->wgen, 1, __ATOMIC_RELEASE);
	while (done < n) {
		uint32_t want = n - done > 0x7fffffff ? 0x7fffffff : (uint32_t)(n - done);
		ssize_t r = p9_write(sb->s, o->fid, *pos, (const uint8_t *)buf + done, want);
		if (r < 0)
			return done ? (ssize_t)done : r;
		if (r == 0)
			break;
		done += r;
		*pos += r;
		if (*pos > file->inode->size)
			file->inode->size = *pos;
	}
	return (ssize_t)done;
}

static int p9_fsync_op(struct file *file)
{
	struct p9_open *o = file->priv;
	if (!o)
		return 0;
	struct p9_sb *sb = sb_of(file->inode);
	int e = p9_fsync(sb->s, o->fid);
	return e;
}

/* Locks are the server's (Tlock/Tgetlock), so that other clients of the same
 * host directory see them. A blocked F_SETLKW/flock asks again, as Linux's
 * v9fs does, since the server answers "blocked" rather than waiting. */
static int p9_lock_op(struct file *file, struct vfs_flock *fl, bool wait, bool get)
{
	struct p9_open *o = file->priv;
	if (!o)
		return -EBADF;
	struct p9_sb *sb = sb_of(file->inode);
	struct p9_flock l = { (uint8_t)fl->type, wait ? 1u : 0u, fl->start, fl->len, fl->pid, "osvb" };
	if (get) {
		int e = p9_getlock(sb->s, o->fid, &l);
		if (e)
			return e;
		*fl = (struct vfs_flock){ l.type, l.start, l.length, l.proc_id };
		return 0;
	}
	for (;;) {
		int st = p9_lock(sb->s, o->fid, &l);
		if (st < 0)
			return st;
		if (st == 0)
			return 0;
		if (st != 1 && st != 3) /* error */
			return -ENOLCK;
		if (!wait)
			return -EAGAIN;
		thread_sleep_ns(10 * 1000 * 1000);
	}
}

static const struct file_ops p9_fops = {
	.open = p9_open,
	.release = p9_release,
	.read = p9_read_op,
	.write = p9_write_op,
	.fsync = p9_fsync_op,
	.lock = p9_lock_op,
};

static struct inode *p9_mount_tag(const char *tag, size_t len, bool ro)
{
	struct p9_trans *t = p9_trans_find(tag, len);
	if (!t)
		return NULL;
	struct p9_sb *sb = kzalloc(sizeof(*sb));
	if (!sb)
		return NULL;
	uint32_t rootfid, msize = P9_MSIZE;
	const char *m = cmdline_param("9p.msize", 0);
	if (m) {
		char *end;
		unsigned long long v = strtoull(m, &end, 10);
		if (*end || v < 8192 || v > P9_MSIZE)
			pr_err("9p: 9p.msize=%s: expected 8192 to %u: ignored\n", m, P9_MSIZE);
		else
			msize = (uint32_t)v;
	}
	const char *poll = cmdline_param("9p.poll", 0);
	p9_poll_replies = poll && !strcmp(poll, "1");
	sb->s = p9_connect(t, msize, &rootfid);
	if (!sb->s) {
		kfree(sb);
		return NULL;
	}
	sb->ro = ro;
	spin_init(&sb->lock);
	sb->dcache = kcalloc(DCACHE_SLOTS, sizeof(struct p9_dcache)); /* NULL: no cache */
	sb->super.fstype = "9p";
	sb->super.dev = next_dev++;
	sb->super.priv = sb;
	struct inode *root;
	int e = inode_for(sb, rootfid, NULL, NULL, 0, &root);
	if (e)
		return NULL;
	root->parent = root;
	return root;
}

static struct inode *p9_mount_fs(const char *source)
{
	return p9_mount_tag(source, strlen(source), false);
}
FS_TYPE(ninep, "9p", p9_mount_fs);

/* mkdir -p for a mount point (in the root filesystem). */
static void make_dirs(const char *path)
{
	char buf[VFS_PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof(buf))
		return;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == 0) {
			char c = buf[i];
			buf[i] = 0;
			vfs_mkdir(NULL, buf, 0755);
			buf[i] = c;
		}
	}
}

static int ninep_mounts(void)
{
	for (int i = 0; i < cmdline_param_count("9p.mount"); i++) {
		const char *v = cmdline_param("9p.mount", i);
		const char *colon = strchr(v, ':');
		if (!colon || colon == v || colon[1] != '/') {
			pr_err("9p: 9p.mount=%s: expected TAG:/PATH[:ro]\n", v);
			continue;
		}
		char path[VFS_PATH_MAX];
		const char *p = colon + 1;
		size_t plen = strlen(p);
		bool ro = plen > 3 && !strcmp(p + plen - 3, ":ro");
		if (ro)
			plen -= 3;
		if (plen >= sizeof(path))
			continue;
		memcpy(path, p, plen);
		path[plen] = 0;
		struct inode *root = p9_mount_tag(v, (size_t)(colon - v), ro);
		if (!root) {
			pr_err("9p: no usable 9p channel \"%.*s\" for %s\n", (int)(colon - v), v, path);
			continue;
		}
		make_dirs(path);
		int e = vfs_mount(path, root);
		if (e)
			pr_err("9p: mounting %s failed (%d)\n", path, e);
		else
			pr_info("9p: %.*s on %s%s\n", (int)(colon - v), v, path, ro ? " (read-only)" : "");
	}
	return 0;
}
INITCALL(INIT_LATE, ninep_mounts);

/* A 9p root (novm-style: the root is a host directory) is mounted before the
 * initrd module would make its tmpfs root (same init level, earlier in link order). */
static int ninep_root(void)
{
	const char *tag = cmdline_param("9p.root", 0);
	if (!tag)
		return 0;
	struct inode *root = p9_mount_tag(tag, strlen(tag), false);
	if (!root)
		panic("9p: 9p.root=%s: no usable 9p channel with that tag", tag);
	if (vfs_mount_root(root))
		panic("9p: 9p.root=%s: / is already mounted", tag);
	pr_info("9p: %s is the root filesystem\n", tag);
	return 0;
}
INITCALL(INIT_FS, ninep_root);
