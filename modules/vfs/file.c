/* Open files and the path-based operations. */
#include <vfs/vfs.h>
#include <vfs/errno.h>
#include <lib/string.h>
#include <arch/cpu.h>
#include <lib/panic.h>
#include <mm/kmalloc.h>
#include <sched/thread.h>
#include <sched/wait.h>

struct file *file_open_inode(struct inode *ino, unsigned flags, int *err)
{
	struct file *f = kzalloc(sizeof(*f));

	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	f->inode = inode_get(ino);
	f->ops = ino->fops;
	f->flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC);
	f->refs = 1;
	if (f->ops && f->ops->open && !(flags & O_PATH)) {
		int r = f->ops->open(ino, f);
		if (r) {
			inode_put(ino);
			kfree(f);
			*err = r;
			return NULL;
		}
	}
	*err = 0;
	return f;
}

struct file *file_get(struct file *f)
{
	__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
	return f;
}

static void file_free(struct file *f)
{
	if (f->ops && f->ops->release && !(f->flags & O_PATH))
		f->ops->release(f);
	inode_put(f->inode);
	kfree(f->path);
	kfree(f);
}

/* A last reference dropped where sleeping is not allowed (a spinlock held,
 * e.g. munmap under the address-space lock) is finished by a kernel thread,
 * because releasing may sleep (a 9p clunk waits for its reply). */
static spinlock_t deferred_lock = SPINLOCK_INIT;
static struct file *deferred;
static struct wait_queue deferred_wq = WAIT_QUEUE_INIT(deferred_wq);
static bool reaper_started;

static void reaper(void *arg)
{
	(void)arg;
	for (;;) {
		wait_event(&deferred_wq, READ_ONCE(deferred) != NULL);
		uint64_t fl = spin_lock_irqsave(&deferred_lock);
		struct file *f = deferred;
		deferred = NULL;
		spin_unlock_irqrestore(&deferred_lock, fl);
		while (f) {
			struct file *next = f->deferred_next;
			file_free(f);
			f = next;
		}
	}
}

static void defer_free(struct file *f)
{
	uint64_t fl = spin_lock_irqsave(&deferred_lock);
	f->deferred_next = deferred;
	deferred = f;
	bool start = !reaper_started;
	reaper_started = true;
	spin_unlock_irqrestore(&deferred_lock, fl);
	if (start) {
		struct thread *t = thread_create("vfs-reaper", reaper, NULL);
		if (!t)
			panic("vfs: no memory for the file reaper thread");
		thread_detach(t);
	}
	wake_up_one(&deferred_wq);
}

void file_put(struct file *f)
{
	if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (thread_current() && !irqs_enabled())
		defer_free(f);
	else
		file_free(f);
}

/* The absolute form of path (relative to base or the cwd), for /proc and maps. */
static char *abs_path(struct inode *base, const char *path)
{
	size_t pl = strlen(path);
	if (path[0] == '/') {
		char *p = kmalloc(pl + 1);
		if (p)
			memcpy(p, path, pl + 1);
		return p;
	}
	char *p = kmalloc(VFS_PATH_MAX + pl + 2);
	if (!p)
		return NULL;
	vfs_lock();
	ssize_t n = vfs_dir_path(base ? base : vfs_cwd(), p, VFS_PATH_MAX);
	vfs_unlock();
	if (n < 0) {
		kfree(p);
		return NULL;
	}
	if (n > 1)
		p[n++] = '/';
	memcpy(p + n, path, pl + 1);
	return p;
}

static bool writable(unsigned flags)
{
	return (flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR;
}

void (*vfs_event_hook)(struct inode *dir, const char *name, size_t len, struct inode *ino, uint32_t mask,
		       uint32_t cookie);

static void event(struct inode *dir, const char *name, size_t len, struct inode *ino, uint32_t mask, uint32_t cookie)
{
	void (*hook)(struct inode *, const char *, size_t, struct inode *, uint32_t, uint32_t) =
		__atomic_load_n(&vfs_event_hook, __ATOMIC_ACQUIRE);
	if (hook)
		hook(dir, name, len, ino, mask, cookie);
}

static uint32_t isdir(const struct inode *ino)
{
	return ino && S_ISDIR(ino->mode) ? VFS_EV_ISDIR : 0;
}

static int create_in(struct inode *dir, const char *name, size_t len, uint32_t mode, const char *target,
		     struct inode **out)
{
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (!dir->iops || !dir->iops->create)
		return -EROFS;
	if (len == 0 || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EEXIST;
	if (dir->nlink == 0)
		return -ENOENT; /* removed directory */
	int r = dir->iops->create(dir, name, len, mode, target, out);
	if (!r)
		event(dir, name, len, *out, VFS_EV_CREATE | isdir(*out), 0);
	return r;
}

int vfs_open(struct inode *base, const char *path, unsigned flags, uint32_t mode, struct file **out)
{
	struct inode *ino = NULL;
	int r;

	if (flags & O_CREAT) {
		struct inode *dir;
		const char *last;
		size_t len;
		r = vfs_walk(base, path, WALK_PARENT, &dir, &last, &len);
		if (r)
			return r;
		vfs_lock();
		if (len == 0) {
			r = -EISDIR;
		} else if (!S_ISDIR(dir->mode)) {
			r = -ENOTDIR;
		} else if (last[len] == '/') {
			r = -EISDIR;
		} else {
			r = dir->iops && dir->iops->lookup ? dir->iops->lookup(dir, last, len, &ino) : -ENOENT;
			if (r == -ENOENT)
				r = create_in(dir, last, len, S_IFREG | (mode & 07777), NULL, &ino);
			else if (r == 0 && (flags & O_EXCL))
				r = -EEXIST;
			else if (r == 0) {
				/* Exists: open it through the ordinary walk (symlinks, mounts). */
				inode_put(ino);
				ino = NULL;
				r = 1;
			}
		}
		vfs_unlock();
		inode_put(dir);
		if (r < 0)
			return r;
	}
	if (!ino) {
		r = vfs_walk(base, path, (flags & O_NOFOLLOW) ? WALK_NOFOLLOW : 0, &ino, NULL, NULL);
		if (r)
			return r;
		if (S_ISLNK(ino->mode) && !(flags & O_PATH)) {
			inode_put(ino);
			return -ELOOP;
		}
	}
	if ((flags & O_DIRECTORY) && !S_ISDIR(ino->mode))
		r = -ENOTDIR;
	else if (S_ISDIR(ino->mode) && (writable(flags) || (flags & O_TRUNC)) && !(flags & O_PATH))
		r = -EISDIR;
	else if ((flags & O_TRUNC) && writable(flags) && S_ISREG(ino->mode))
		r = vfs_truncate(ino, 0);
	else
		r = 0;
	if (!r) {
		struct file *f = file_open_inode(ino, flags, &r);
		if (f) {
			f->path = abs_path(base, path);
			*out = f;
		}
	}
	inode_put(ino);
	return r;
}

ssize_t vfs_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	if ((f->flags & O_ACCMODE) == O_WRONLY || (f->flags & O_PATH))
		return -EBADF;
	if (S_ISDIR(f->inode->mode))
		return -EISDIR;
	if (!f->ops || !f->ops->read)
		return -EINVAL;
	return f->ops->read(f, buf, n, pos);
}

ssize_t vfs_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	if (!writable(f->flags) || (f->flags & O_PATH))
		return -EBADF;
	if (!f->ops || !f->ops->write)
		return -EINVAL;
	ssize_t r = f->ops->write(f, buf, n, pos);
	if (r > 0 && S_ISREG(f->inode->mode))
		event(NULL, f->path, f->path ? strlen(f->path) : 0, f->inode, VFS_EV_MODIFY, 0);
	return r;
}

ssize_t vfs_pread_full(struct file *f, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	if (!f->ops || !f->ops->read)
		return -EINVAL;
	while (done < n) {
		uint64_t pos = off + done;
		ssize_t r = f->ops->read(f, (char *)buf + done, n - done, &pos);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

void vfs_stat(struct inode *ino, struct kstat *st)
{
	memset(st, 0, sizeof(*st));
	st->dev = ino->sb ? ino->sb->dev : 0;
	st->ino = ino->ino;
	st->nlink = ino->nlink;
	st->mode = ino->mode;
	st->uid = ino->uid;
	st->gid = ino->gid;
	st->rdev = ino->rdev;
	st->size = ino->size;
	st->blksize = 4096;
	st->blocks = (ino->size + 511) / 512;
	st->atime_sec = ino->atime.sec;
	st->atime_nsec = ino->atime.nsec;
	st->mtime_sec = ino->mtime.sec;
	st->mtime_nsec = ino->mtime.nsec;
	st->ctime_sec = ino->ctime.sec;
	st->ctime_nsec = ino->ctime.nsec;
}

/* Walk to the parent of path and run fn on (dir, last). */
static int with_parent(struct inode *base, const char *path,
		       int (*fn)(struct inode *dir, const char *name, size_t len, void *ctx), void *ctx)
{
	struct inode *dir;
	const char *last;
	size_t len;
	int r = vfs_walk(base, path, WALK_PARENT, &dir, &last, &len);

	if (r)
		return r;
	vfs_lock();
	if (!S_ISDIR(dir->mode))
		r = -ENOTDIR;
	else
		r = fn(dir, last, len, ctx);
	vfs_unlock();
	inode_put(dir);
	return r;
}

struct mk_ctx {
	uint32_t mode;
	const char *target;
	const struct file_ops *fops;
	void *priv;
};

static int do_create(struct inode *dir, const char *name, size_t len, void *ctx)
{
	struct mk_ctx *c = ctx;
	struct inode *ino, *old;

	if (len == 0)
		return -EEXIST;
	/* A trailing slash is only allowed for directories. */
	if (name[len] == '/' && !S_ISDIR(c->mode))
		return -ENOENT;
	if (dir->iops && dir->iops->lookup && dir->iops->lookup(dir, name, len, &old) == 0) {
		inode_put(old);
		return -EEXIST;
	}
	int r = create_in(dir, name, len, c->mode, c->target, &ino);
	if (r)
		return r;
	if (c->fops)
		ino->fops = c->fops;
	if (c->priv)
		ino->priv = c->priv;
	inode_put(ino);
	return 0;
}

int vfs_mkdir(struct inode *base, const char *path, uint32_t mode)
{
	struct mk_ctx c = { S_IFDIR | (mode & 07777), NULL, NULL, NULL };
	return with_parent(base, path, do_create, &c);
}

int vfs_symlink(struct inode *base, const char *target, const char *path)
{
	struct mk_ctx c = { S_IFLNK | 0777, target, NULL, NULL };
	if (!*target)
		return -ENOENT;
	return with_parent(base, path, do_create, &c);
}

int vfs_mknod(struct inode *base, const char *path, uint32_t mode, const struct file_ops *fops, void *priv)
{
	struct mk_ctx c = { mode, NULL, fops, priv };
	return with_parent(base, path, do_create, &c);
}

static int do_unlink(struct inode *dir, const char *name, size_t len, void *ctx)
{
	bool rmdir = *(bool *)ctx;

	if (len == 0)
		return -EBUSY;
	if (len == 1 && name[0] == '.')
		return -EINVAL;
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return -ENOTEMPTY;
	if (!dir->iops || !dir->iops->unlink)
		return -EROFS;
	struct inode *victim;
	int r = dir->iops->lookup(dir, name, len, &victim);
	if (r)
		return r;
	if (victim->mounted)
		r = -EBUSY;
	else if (rmdir && !S_ISDIR(victim->mode))
		r = -ENOTDIR;
	else if (!rmdir && S_ISDIR(victim->mode))
		r = -EISDIR;
	else if (!rmdir && name[len] == '/')
		r = -ENOTDIR;
	if (!r)
		r = dir->iops->unlink(dir, name, len, rmdir);
	if (!r) {
		/* In Linux's order: the inode's own watches hear first. */
		if (victim->nlink == 0 || S_ISDIR(victim->mode))
			event(NULL, NULL, 0, victim, VFS_EV_DELETE_SELF, 0);
		event(dir, name, len, victim, VFS_EV_DELETE | isdir(victim), 0);
	}
	inode_put(victim);
	return r;
}

int vfs_unlink(struct inode *base, const char *path, bool dir)
{
	return with_parent(base, path, do_unlink, &dir);
}

ssize_t vfs_readlink(struct inode *base, const char *path, char *buf, size_t size)
{
	struct inode *ino;
	int r = vfs_walk(base, path, WALK_NOFOLLOW, &ino, NULL, NULL);

	if (r)
		return r;
	ssize_t n = -EINVAL;
	vfs_lock();
	if (S_ISLNK(ino->mode) && ino->iops && ino->iops->readlink)
		n = ino->iops->readlink(ino, buf, size);
	vfs_unlock();
	inode_put(ino);
	return n;
}

int vfs_truncate(struct inode *ino, uint64_t size)
{
	if (S_ISDIR(ino->mode))
		return -EISDIR;
	if (!S_ISREG(ino->mode))
		return -EINVAL;
	if (!ino->iops || !ino->iops->truncate)
		return -EROFS;
	vfs_lock();
	int r = ino->iops->truncate(ino, size);
	vfs_unlock();
	if (!r)
		event(NULL, NULL, 0, ino, VFS_EV_MODIFY, 0);
	return r;
}

int vfs_link(struct inode *obase, const char *opath, struct inode *nbase, const char *npath, unsigned flags)
{
	struct inode *target, *dir, *old;
	const char *last;
	size_t len;
	int r = vfs_walk(obase, opath, (flags & AT_SYMLINK_FOLLOW) ? 0 : WALK_NOFOLLOW, &target, NULL, NULL);

	if (r)
		return r;
	if (S_ISDIR(target->mode)) {
		inode_put(target);
		return -EPERM;
	}
	r = vfs_walk(nbase, npath, WALK_PARENT, &dir, &last, &len);
	if (r) {
		inode_put(target);
		return r;
	}
	vfs_lock();
	if (len == 0)
		r = -EEXIST;
	else if (!S_ISDIR(dir->mode))
		r = -ENOTDIR;
	else if (dir->sb != target->sb)
		r = -EXDEV;
	else if (!dir->iops->link)
		r = -EPERM;
	else if (dir->iops->lookup(dir, last, len, &old) == 0) {
		inode_put(old);
		r = -EEXIST;
	} else
		r = dir->iops->link(dir, last, len, target);
	vfs_unlock();
	inode_put(dir);
	inode_put(target);
	return r;
}

int vfs_rename(struct inode *obase, const char *opath, struct inode *nbase, const char *npath, unsigned flags)
{
	struct inode *odir, *ndir;
	const char *olast, *nlast;
	size_t olen, nlen;
	int r = vfs_walk(obase, opath, WALK_PARENT, &odir, &olast, &olen);

	if (r)
		return r;
	r = vfs_walk(nbase, npath, WALK_PARENT, &ndir, &nlast, &nlen);
	if (r) {
		inode_put(odir);
		return r;
	}
	vfs_lock();
	if (olen == 0 || nlen == 0 || (olen == 1 && olast[0] == '.') || (nlen == 1 && nlast[0] == '.') ||
	    (olen == 2 && !strncmp(olast, "..", 2)) || (nlen == 2 && !strncmp(nlast, "..", 2)))
		r = -EBUSY;
	else if (!S_ISDIR(odir->mode) || !S_ISDIR(ndir->mode))
		r = -ENOTDIR;
	else if (odir->sb != ndir->sb)
		r = -EXDEV;
	else if (!odir->iops->rename)
		r = -EROFS;
	else {
		/* Moving a directory into its own subtree would detach it. */
		struct inode *moving;
		r = odir->iops->lookup(odir, olast, olen, &moving);
		if (!r) {
			if (S_ISDIR(moving->mode))
				for (struct inode *d = ndir; d && d != d->parent; d = d->parent)
					if (d == moving) {
						r = -EINVAL;
						break;
					}
			if (!r)
				r = odir->iops->rename(odir, olast, olen, ndir, nlast, nlen, flags);
			if (!r) {
				static uint32_t cookie;
				uint32_t c = ++cookie;
				event(odir, olast, olen, moving, VFS_EV_MOVED_FROM | isdir(moving), c);
				event(ndir, nlast, nlen, moving, VFS_EV_MOVED_TO | isdir(moving), c);
			}
			inode_put(moving);
		}
	}
	vfs_unlock();
	inode_put(odir);
	inode_put(ndir);
	return r;
}
