/* tmpfs: a read-write filesystem in memory. Directories are lists of entries;
 * file data lives in whole pages indexed by file page number (holes read as
 * zeros). Runs under the VFS lock. */
#include <tmpfs/tmpfs.h>
#include <vfs/errno.h>
#include <lib/list.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>

struct tdirent {
	struct list node;
	struct inode *ino;
	size_t len;
	char name[];
};

struct tnode {
	struct list entries;  /* directories */
	uint64_t nentries;
	uint8_t **pages;      /* regular files: page pointers, cap entries */
	size_t cap;
	char *target;         /* symlinks */
};

static const struct inode_ops tmpfs_iops;
static const struct file_ops tmpfs_fops;
static uint32_t next_dev = 1;

static struct tnode *T(struct inode *ino)
{
	return ino->priv;
}

static struct inode *tnew(struct super *sb, uint32_t mode)
{
	struct inode *ino = inode_new(sb, mode);
	if (!ino)
		return NULL;
	struct tnode *t = kzalloc(sizeof(*t));
	if (!t) {
		kfree(ino);
		return NULL;
	}
	list_init(&t->entries);
	ino->priv = t;
	ino->iops = &tmpfs_iops;
	if (S_ISREG(mode))
		ino->fops = &tmpfs_fops;
	return ino;
}

struct inode *tmpfs_new(const char *fstype)
{
	struct super *sb = kzalloc(sizeof(*sb));
	if (!sb)
		return NULL;
	sb->fstype = fstype;
	sb->dev = next_dev++;
	struct inode *root = tnew(sb, S_IFDIR | 0755);
	if (!root) {
		kfree(sb);
		return NULL;
	}
	root->nlink = 2;
	root->parent = root;
	return root;
}

static struct tdirent *find(struct inode *dir, const char *name, size_t len)
{
	struct tdirent *d;
	list_for_each_entry(d, &T(dir)->entries, node)
		if (d->len == len && !memcmp(d->name, name, len))
			return d;
	return NULL;
}

static int t_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
	struct tdirent *d = find(dir, name, len);
	if (!d)
		return -ENOENT;
	*out = inode_get(d->ino);
	return 0;
}

static int add_entry(struct inode *dir, const char *name, size_t len, struct inode *ino)
{
	struct tdirent *d = kmalloc(sizeof(*d) + len + 1);
	if (!d)
		return -ENOSPC;
	d->ino = ino;
	d->len = len;
	memcpy(d->name, name, len);
	d->name[len] = 0;
	list_push_back(&T(dir)->entries, &d->node);
	T(dir)->nentries++;
	dir->size = T(dir)->nentries;
	vfs_now(&dir->mtime);
	dir->ctime = dir->mtime;
	return 0;
}

static int set_dir_name(struct inode *ino, struct inode *parent, const char *name, size_t len)
{
	char *n = kmalloc(len + 1);
	if (!n)
		return -ENOMEM;
	memcpy(n, name, len);
	n[len] = 0;
	kfree(ino->name);
	ino->name = n;
	ino->parent = parent;
	return 0;
}

static int t_create(struct inode *dir, const char *name, size_t len, uint32_t mode, const char *target,
		    struct inode **out)
{
	struct inode *ino = tnew(dir->sb, mode);
	int r = -ENOSPC;

	if (!ino)
		return r;
	if (S_ISLNK(mode)) {
		size_t tl = strlen(target);
		T(ino)->target = kmalloc(tl + 1);
		if (!T(ino)->target)
			goto fail;
		memcpy(T(ino)->target, target, tl + 1);
		ino->size = tl;
	}
	if (S_ISDIR(mode)) {
		if ((r = set_dir_name(ino, dir, name, len)))
			goto fail;
		ino->nlink = 2;
	}
	if ((r = add_entry(dir, name, len, ino)))
		goto fail;
	if (S_ISDIR(mode))
		dir->nlink++;
	inode_get(ino); /* the directory entry's reference */
	*out = ino;
	return 0;
fail:
	ino->nlink = 0;
	inode_put(ino);
	return r;
}

static int t_link(struct inode *dir, const char *name, size_t len, struct inode *target)
{
	int r = add_entry(dir, name, len, target);
	if (r)
		return r;
	inode_get(target);
	target->nlink++;
	vfs_now(&target->ctime);
	return 0;
}

static void drop_entry(struct inode *dir, struct tdirent *d)
{
	list_remove(&d->node);
	T(dir)->nentries--;
	dir->size = T(dir)->nentries;
	vfs_now(&dir->mtime);
	dir->ctime = dir->mtime;
	kfree(d);
}

static int t_unlink(struct inode *dir, const char *name, size_t len, bool rmdir)
{
	struct tdirent *d = find(dir, name, len);
	if (!d)
		return -ENOENT;
	struct inode *ino = d->ino;
	if (rmdir) {
		if (T(ino)->nentries)
			return -ENOTEMPTY;
		dir->nlink--;
		ino->nlink = 0;
	} else {
		ino->nlink--;
	}
	drop_entry(dir, d);
	vfs_now(&ino->ctime);
	inode_put(ino);
	return 0;
}

static int t_rename(struct inode *odir, const char *oname, size_t olen, struct inode *ndir, const char *nname,
		    size_t nlen, unsigned flags)
{
	struct tdirent *od = find(odir, oname, olen), *nd = find(ndir, nname, nlen);

	if (!od)
		return -ENOENT;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (od == nd)
		return 0;
	struct inode *ino = od->ino;
	if (flags & RENAME_EXCHANGE) {
		if (!nd)
			return -ENOENT;
		struct inode *other = nd->ino;
		od->ino = other;
		nd->ino = ino;
		if (S_ISDIR(ino->mode))
			set_dir_name(ino, ndir, nname, nlen);
		if (S_ISDIR(other->mode))
			set_dir_name(other, odir, oname, olen);
		return 0;
	}
	if (nd) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		struct inode *victim = nd->ino;
		if (S_ISDIR(ino->mode) && !S_ISDIR(victim->mode))
			return -ENOTDIR;
		if (!S_ISDIR(ino->mode) && S_ISDIR(victim->mode))
			return -EISDIR;
		if (S_ISDIR(victim->mode)) {
			if (T(victim)->nentries)
				return -ENOTEMPTY;
			if (victim->mounted)
				return -EBUSY;
			ndir->nlink--;
			victim->nlink = 0;
		} else {
			victim->nlink--;
		}
		drop_entry(ndir, nd);
		inode_put(victim);
	}
	if (S_ISDIR(ino->mode)) {
		int r = set_dir_name(ino, ndir, nname, nlen);
		if (r)
			return r;
	}
	int r = add_entry(ndir, nname, nlen, ino);
	if (r)
		return r;
	drop_entry(odir, od);
	if (S_ISDIR(ino->mode) && odir != ndir) {
		odir->nlink--;
		ndir->nlink++;
	}
	vfs_now(&ino->ctime);
	return 0;
}

static ssize_t t_readlink(struct inode *ino, char *buf, size_t size)
{
	const char *t = T(ino)->target;
	if (!t)
		return -EINVAL;
	size_t n = strlen(t);
	if (n > size)
		n = size;
	memcpy(buf, t, n);
	return n;
}

static void free_pages_from(struct tnode *t, size_t first)
{
	for (size_t i = first; i < t->cap; i++) {
		if (t->pages[i]) {
			page_free(t->pages[i], 0);
			t->pages[i] = NULL;
		}
	}
}

static int t_truncate(struct inode *ino, uint64_t size)
{
	struct tnode *t = T(ino);
	if (size < ino->size) {
		size_t keep = DIV_ROUND_UP(size, PAGE_SIZE);
		free_pages_from(t, keep);
		/* Zero the tail of the last kept page so growing again reads zeros. */
		if (size % PAGE_SIZE && keep - 1 < t->cap && t->pages[keep - 1])
			memset(t->pages[keep - 1] + size % PAGE_SIZE, 0, PAGE_SIZE - size % PAGE_SIZE);
	}
	ino->size = size;
	vfs_now(&ino->mtime);
	ino->ctime = ino->mtime;
	return 0;
}

static int t_readdir(struct inode *dir, uint64_t idx, struct vfs_dirent *out)
{
	if (idx == 0) {
		*out = (struct vfs_dirent){ ".", 1, dir->ino, DT_DIR };
		return 0;
	}
	if (idx == 1) {
		struct inode *p = dir->parent ? dir->parent : dir;
		*out = (struct vfs_dirent){ "..", 2, p->ino, DT_DIR };
		return 0;
	}
	uint64_t i = 2;
	struct tdirent *d;
	list_for_each_entry(d, &T(dir)->entries, node) {
		if (i++ == idx) {
			*out = (struct vfs_dirent){ d->name, d->len, d->ino->ino, mode_to_dtype(d->ino->mode) };
			return 0;
		}
	}
	return 1;
}

static void t_destroy(struct inode *ino)
{
	struct tnode *t = T(ino);
	if (!t)
		return;
	free_pages_from(t, 0);
	kfree(t->pages);
	kfree(t->target);
	kfree(t);
	ino->priv = NULL;
}

static const struct inode_ops tmpfs_iops = {
	.lookup = t_lookup,
	.create = t_create,
	.link = t_link,
	.unlink = t_unlink,
	.rename = t_rename,
	.readlink = t_readlink,
	.truncate = t_truncate,
	.readdir = t_readdir,
	.destroy = t_destroy,
};

static ssize_t t_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	struct inode *ino = f->inode;
	vfs_lock();
	struct tnode *t = T(ino);
	uint64_t off = *pos;
	if (off >= ino->size) {
		vfs_unlock();
		return 0;
	}
	if (n > ino->size - off)
		n = ino->size - off;
	size_t done = 0;
	while (done < n) {
		size_t pg = (off + done) / PAGE_SIZE, in = (off + done) % PAGE_SIZE;
		size_t chunk = MIN(n - done, PAGE_SIZE - in);
		if (pg < t->cap && t->pages[pg])
			memcpy((char *)buf + done, t->pages[pg] + in, chunk);
		else
			memset((char *)buf + done, 0, chunk);
		done += chunk;
	}
	*pos = off + done;
	vfs_unlock();
	return done;
}

static int grow(struct tnode *t, size_t npages)
{
	if (npages <= t->cap)
		return 0;
	size_t cap = t->cap ? t->cap : 4;
	while (cap < npages)
		cap *= 2;
	uint8_t **p = kcalloc(cap, sizeof(*p));
	if (!p)
		return -ENOSPC;
	if (t->pages)
		memcpy(p, t->pages, t->cap * sizeof(*p));
	kfree(t->pages);
	t->pages = p;
	t->cap = cap;
	return 0;
}

static ssize_t t_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	struct inode *ino = f->inode;
	vfs_lock();
	struct tnode *t = T(ino);
	uint64_t off = (f->flags & O_APPEND) ? ino->size : *pos;
	if (off + n < off || off + n > (1ull << 40)) {
		vfs_unlock();
		return -EFBIG;
	}
	int r = grow(t, DIV_ROUND_UP(off + n, PAGE_SIZE));
	size_t done = 0;
	while (!r && done < n) {
		size_t pg = (off + done) / PAGE_SIZE, in = (off + done) % PAGE_SIZE;
		size_t chunk = MIN(n - done, PAGE_SIZE - in);
		if (!t->pages[pg]) {
			t->pages[pg] = page_alloc(0, PAGE_ZERO);
			if (!t->pages[pg]) {
				r = -ENOSPC;
				break;
			}
		}
		memcpy(t->pages[pg] + in, (const char *)buf + done, chunk);
		done += chunk;
	}
	if (off + done > ino->size)
		ino->size = off + done;
	if (done) {
		vfs_now(&ino->mtime);
		ino->ctime = ino->mtime;
	}
	*pos = off + done;
	vfs_unlock();
	return done ? (ssize_t)done : r;
}

static int t_fsync(struct file *f)
{
	(void)f;
	return 0;
}

static const struct file_ops tmpfs_fops = {
	.read = t_read,
	.write = t_write,
	.fsync = t_fsync,
};

void *tmpfs_page(struct inode *ino, uint64_t pgidx)
{
	struct tnode *t = T(ino);
	if (ino->iops != &tmpfs_iops || !S_ISREG(ino->mode) || pgidx >= t->cap)
		return NULL;
	return t->pages[pgidx];
}

static struct inode *tmpfs_mount(const char *source)
{
	(void)source;
	return tmpfs_new("tmpfs");
}

FS_TYPE(tmpfs, "tmpfs", tmpfs_mount);
