/* Descriptor tables (one per process, shared by its threads) and user path
 * strings. */
#include "internal.h"
#include <uaccess/uaccess.h>
#include <mm/kmalloc.h>
#include <lib/printf.h>
#include <lib/string.h>

struct fdtable {
	int refs;
	spinlock_t lock;
	struct file *fds[NR_FDS];
	uint64_t cloexec[NR_FDS / 64];
};

struct fdtable *fdtable_new(void)
{
	struct fdtable *t = kzalloc(sizeof(*t));
	if (t) {
		t->refs = 1;
		spin_init(&t->lock);
	}
	return t;
}

struct fdtable *fdtable_dup(struct fdtable *src)
{
	struct fdtable *t = fdtable_new();
	if (!t)
		return NULL;
	uint64_t fl = spin_lock_irqsave(&src->lock);
	for (int fd = 0; fd < NR_FDS; fd++)
		t->fds[fd] = src->fds[fd] ? file_get(src->fds[fd]) : NULL;
	memcpy(t->cloexec, src->cloexec, sizeof(t->cloexec));
	spin_unlock_irqrestore(&src->lock, fl);
	return t;
}

void fdtable_get(struct fdtable *t)
{
	__atomic_fetch_add(&t->refs, 1, __ATOMIC_RELAXED);
}

void fdtable_put(struct fdtable *t)
{
	if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* The last user is gone: release is where pipe ends and sockets close. */
	for (int fd = 0; fd < NR_FDS; fd++)
		if (t->fds[fd])
			file_put(t->fds[fd]);
	kfree(t);
}

/* The caller's table, under the short names the functions below use. */
#define T (proc.fdt)
#define fds (T->fds)
#define cloexec (T->cloexec)
#define lock (T->lock)

static void set_cloexec(int fd, bool on)
{
	if (on)
		cloexec[fd / 64] |= 1ull << (fd % 64);
	else
		cloexec[fd / 64] &= ~(1ull << (fd % 64));
}

int fd_install(struct file *f, int min, bool ce)
{
	if (min < 0 || min >= NR_FDS)
		return -EINVAL;
	uint64_t fl = spin_lock_irqsave(&lock);
	for (int fd = min; fd < NR_FDS; fd++) {
		if (!fds[fd]) {
			fds[fd] = f;
			set_cloexec(fd, ce);
			spin_unlock_irqrestore(&lock, fl);
			return fd;
		}
	}
	spin_unlock_irqrestore(&lock, fl);
	return -EMFILE;
}

int fd_install_at(int fd, struct file *f, bool ce)
{
	if (fd < 0 || fd >= NR_FDS)
		return -EBADF;
	uint64_t fl = spin_lock_irqsave(&lock);
	struct file *old = fds[fd];
	fds[fd] = f;
	set_cloexec(fd, ce);
	spin_unlock_irqrestore(&lock, fl);
	if (old)
		file_put(old);
	return fd;
}

struct file *fd_get(int fd)
{
	struct file *f = NULL;
	if (fd < 0 || fd >= NR_FDS)
		return NULL;
	uint64_t fl = spin_lock_irqsave(&lock);
	if (fds[fd])
		f = file_get(fds[fd]);
	spin_unlock_irqrestore(&lock, fl);
	return f;
}

int fd_close(int fd)
{
	if (fd < 0 || fd >= NR_FDS)
		return -EBADF;
	uint64_t fl = spin_lock_irqsave(&lock);
	struct file *f = fds[fd];
	fds[fd] = NULL;
	set_cloexec(fd, false);
	spin_unlock_irqrestore(&lock, fl);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}

bool fd_cloexec(int fd)
{
	return fd >= 0 && fd < NR_FDS && (cloexec[fd / 64] >> (fd % 64)) & 1;
}

int fd_set_cloexec(int fd, bool on)
{
	if (fd < 0 || fd >= NR_FDS || !fds[fd])
		return -EBADF;
	set_cloexec(fd, on);
	return 0;
}

int fd_dirbase(int dirfd, const char *path, struct inode **base)
{
	*base = NULL;
	if (path[0] == '/' || dirfd == AT_FDCWD)
		return 0;
	struct file *f = fd_get(dirfd);
	if (!f)
		return -EBADF;
	if (!S_ISDIR(f->inode->mode)) {
		file_put(f);
		return -ENOTDIR;
	}
	*base = inode_get(f->inode);
	file_put(f);
	return 0;
}

int user_path(const char *upath, char **kpath)
{
	char *p = kmalloc(VFS_PATH_MAX);
	if (!p)
		return -ENOMEM;
	long n = strncpy_from_user(p, upath, VFS_PATH_MAX);
	if (n < 0) {
		kfree(p);
		return n;
	}
	*kpath = p;
	return 0;
}

void fd_init_stdio(void)
{
	struct file *f;
	int r = vfs_open(NULL, "/dev/console", O_RDWR, 0, &f);
	if (r) {
		/* No devfs: run without standard streams rather than not at all. */
		return;
	}
	fd_install_at(0, f, false);
	fd_install_at(1, file_get(f), false);
	/* stderr is its own stream (COM3), so the host can keep it apart. */
	struct file *e;
	if (vfs_open(NULL, "/dev/ttyS2", O_RDWR, 0, &e))
		e = file_get(f);
	fd_install_at(2, e, false);
}

void fd_close_on_exec(void)
{
	for (int fd = 0; fd < NR_FDS; fd++)
		if (fd_cloexec(fd))
			fd_close(fd);
}

int process_next_fd(int from)
{
	for (int fd = from < 0 ? 0 : from; fd < NR_FDS; fd++)
		if (fds[fd])
			return fd;
	return -1;
}

long process_fd_link(int fd, char *buf, size_t size)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	long n;
	if (f->path) {
		n = strlen(f->path);
		if ((size_t)n > size)
			n = size;
		memcpy(buf, f->path, n);
	} else {
		bool fifo = (f->inode->mode & S_IFMT) == S_IFIFO;
		n = snprintf(buf, size, "%s:[%lu]", fifo ? "pipe" : "anon_inode", (unsigned long)f->inode->ino);
		if ((size_t)n > size)
			n = size;
	}
	file_put(f);
	return n;
}
