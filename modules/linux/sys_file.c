/* File and directory system calls. Data moves through a kernel bounce buffer;
 * every user pointer goes through uaccess. */
#include "internal.h"
#include "calls.h"
#include <uaccess/uaccess.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <lib/string.h>

#define BOUNCE (64u << 10)
/* Large reads of regular files use a larger bounce, so that a filesystem
 * behind a device (9p) can have several requests in flight for one read. */
#define BIG_BOUNCE (1u << 20)
#define IOV_MAX 1024
#define MAX_RW_COUNT 0x7ffff000ul /* Linux's cap on one read or write */
#define R_OK 4
#define W_OK 2
#define X_OK 1
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define SEEK_DATA 3
#define SEEK_HOLE 4

struct iovec {
	uint64_t base, len;
};

/* read/write through the bounce buffer; pos NULL = the file position. */
static long do_read(struct file *f, uint64_t ubuf, size_t n, uint64_t *pos)
{
	if (!n)
		return 0;
	if (!access_ok(ubuf, n))
		return -EFAULT;
	size_t chunk = n < BOUNCE ? n : BOUNCE;
	char *k = NULL;
	if (n > BOUNCE && S_ISREG(f->inode->mode)) {
		chunk = n < BIG_BOUNCE ? n : BIG_BOUNCE;
		k = kmalloc(chunk);
		if (!k)
			chunk = BOUNCE;
	}
	if (!k)
		k = kmalloc(chunk);
	if (!k)
		return -ENOMEM;
	size_t done = 0;
	long r = 0;
	uint64_t *p = pos ? pos : &f->pos;
	while (done < n) {
		size_t want = MIN(chunk, n - done);
		r = vfs_read(f, k, want, p);
		if (r <= 0)
			break;
		if (copy_to_user((void *)(ubuf + done), k, r)) {
			r = -EFAULT;
			break;
		}
		done += r;
		/* Streams (console, pipes) return what they have; do not wait for more. */
		if ((size_t)r < want || f->ops->stream)
			break;
	}
	kfree(k);
	return done ? (long)done : r;
}

static long do_write(struct file *f, uint64_t ubuf, size_t n, uint64_t *pos)
{
	if (!n)
		return (f->flags & O_ACCMODE) == O_RDONLY ? -EBADF : 0;
	if (!access_ok(ubuf, n))
		return -EFAULT;
	size_t chunk = n < BOUNCE ? n : BOUNCE;
	char *k = kmalloc(chunk);
	if (!k)
		return -ENOMEM;
	size_t done = 0;
	long r = 0;
	uint64_t *p = pos ? pos : &f->pos;
	while (done < n) {
		size_t want = MIN(chunk, n - done);
		if (copy_from_user(k, (const void *)(ubuf + done), want)) {
			r = -EFAULT;
			break;
		}
		r = vfs_write(f, k, want, p);
		if (r <= 0)
			break;
		done += r;
		if ((size_t)r < want)
			break;
		/* A long write to the console or a pipe stops for a signal (the bytes
		 * written so far are the result, as on a Linux tty) and for the exit of
		 * the process. */
		if (proc.exiting || (f->ops->stream && signal_pending()))
			break;
	}
	kfree(k);
	if (r == -EPIPE && !done) {
		struct ksiginfo si = { .signo = SIGPIPE, .code = SI_USER };
		signal_send(current_uthread(), SIGPIPE, &si);
	}
	return done ? (long)done : r;
}

SYSCALL(0, read, 3)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r = do_read(f, a1, a2, NULL);
	file_put(f);
	return r;
}

SYSCALL(1, write, 3)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r = do_write(f, a1, a2, NULL);
	file_put(f);
	return r;
}

SYSCALL(17, pread64, 4)
{
	if ((int64_t)a3 < 0)
		return -EINVAL;
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	uint64_t pos = a3;
	long r = f->ops && f->ops->stream ? -ESPIPE : do_read(f, a1, a2, &pos);
	file_put(f);
	return r;
}

SYSCALL(18, pwrite64, 4)
{
	if ((int64_t)a3 < 0)
		return -EINVAL;
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	uint64_t pos = a3;
	long r = f->ops && f->ops->stream ? -ESPIPE : do_write(f, a1, a2, &pos);
	file_put(f);
	return r;
}

static long do_rwv(int fd, uint64_t uiov, uint64_t cnt, bool write, int64_t off)
{
	if (cnt > IOV_MAX)
		return -EINVAL;
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	struct iovec *iov = kmalloc(sizeof(*iov) * (cnt ? cnt : 1));
	long total = 0, r = 0;
	if (!iov) {
		file_put(f);
		return -ENOMEM;
	}
	if (copy_from_user(iov, (const void *)uiov, sizeof(*iov) * cnt)) {
		r = -EFAULT;
		goto out;
	}
	/* Like Linux, every buffer is checked before any I/O: a negative length is
	 * EINVAL and a buffer outside the user half EFAULT, with nothing done. An
	 * unmapped user buffer faults only when reached (the bytes before count). */
	uint64_t room = MAX_RW_COUNT;
	for (uint64_t i = 0; i < cnt; i++) {
		if ((int64_t)iov[i].len < 0) {
			r = -EINVAL;
			goto out;
		}
		if (!access_ok(iov[i].base, iov[i].len)) {
			r = -EFAULT;
			goto out;
		}
		iov[i].len = MIN(iov[i].len, room);
		room -= iov[i].len;
	}
	uint64_t pos = off;
	for (uint64_t i = 0; i < cnt; i++) {
		if (iov[i].len == 0)
			continue;
		r = write ? do_write(f, iov[i].base, iov[i].len, off >= 0 ? &pos : NULL)
			  : do_read(f, iov[i].base, iov[i].len, off >= 0 ? &pos : NULL);
		if (r < 0)
			break;
		total += r;
		if ((uint64_t)r < iov[i].len)
			break;
	}
out:
	kfree(iov);
	file_put(f);
	return total ? total : r;
}

SYSCALL(19, readv, 3)
{
	return do_rwv(a0, a1, a2, false, -1);
}

SYSCALL(20, writev, 3)
{
	return do_rwv(a0, a1, a2, true, -1);
}

SYSCALL(295, preadv, 4)
{
	return do_rwv(a0, a1, a2, false, (int64_t)a3 < 0 ? 0 : (int64_t)a3);
}

SYSCALL(296, pwritev, 4)
{
	return do_rwv(a0, a1, a2, true, (int64_t)a3 < 0 ? 0 : (int64_t)a3);
}

static long do_openat(int dirfd, uint64_t upath, unsigned flags, uint32_t mode)
{
	char *path;
	struct inode *base;
	struct file *f;
	int r = user_path((const char *)upath, &path);
	if (r)
		return r;
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		kfree(path);
		return -EOPNOTSUPP;
	}
	r = fd_dirbase(dirfd, path, &base);
	if (!r) {
		r = vfs_open(base, path, flags, mode & ~proc.umask, &f);
		inode_put(base);
	}
	kfree(path);
	if (r)
		return r;
	r = fd_install(f, 0, flags & O_CLOEXEC);
	if (r < 0)
		file_put(f);
	return r;
}

SYSCALL(2, open, 3)
{
	return do_openat(AT_FDCWD, a0, a1, a2);
}

SYSCALL(257, openat, 4)
{
	return do_openat(a0, a1, a2, a3);
}

SYSCALL(85, creat, 2)
{
	return do_openat(AT_FDCWD, a0, O_CREAT | O_WRONLY | O_TRUNC, a1);
}

SYSCALL(3, close, 1)
{
	return fd_close(a0);
}

SYSCALL(8, lseek, 3)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r;
	int64_t off = a1;
	if ((f->ops && f->ops->stream) || S_ISCHR(f->inode->mode) || (f->inode->mode & S_IFMT) == S_IFIFO) {
		r = S_ISCHR(f->inode->mode) ? 0 : -ESPIPE;
		goto out;
	}
	int64_t base;
	switch (a2) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = f->pos;
		break;
	case SEEK_END:
		base = S_ISDIR(f->inode->mode) ? 0 : f->inode->size;
		break;
	case SEEK_DATA:
		base = 0;
		if (off >= (int64_t)f->inode->size) {
			r = -ENXIO;
			goto out;
		}
		break;
	case SEEK_HOLE:
		if (off >= (int64_t)f->inode->size) {
			r = -ENXIO;
			goto out;
		}
		base = 0;
		off = f->inode->size;
		break;
	default:
		r = -EINVAL;
		goto out;
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0) {
		r = -EINVAL;
		goto out;
	}
	f->pos = base + off;
	r = f->pos;
out:
	file_put(f);
	return r;
}

/* --- stat --- */

struct linux_stat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	int64_t atime, atime_nsec, mtime, mtime_nsec, ctime, ctime_nsec;
	int64_t unused[3];
};

static int put_stat(uint64_t ubuf, struct inode *ino)
{
	struct kstat k;
	struct linux_stat s;
	vfs_lock();
	vfs_stat(ino, &k);
	vfs_unlock();
	memset(&s, 0, sizeof(s));
	s.dev = k.dev;
	s.ino = k.ino;
	s.nlink = k.nlink;
	s.mode = k.mode;
	s.uid = k.uid;
	s.gid = k.gid;
	s.rdev = k.rdev;
	s.size = k.size;
	s.blksize = k.blksize;
	s.blocks = k.blocks;
	s.atime = k.atime_sec;
	s.atime_nsec = k.atime_nsec;
	s.mtime = k.mtime_sec;
	s.mtime_nsec = k.mtime_nsec;
	s.ctime = k.ctime_sec;
	s.ctime_nsec = k.ctime_nsec;
	return copy_to_user((void *)ubuf, &s, sizeof(s));
}

/* Resolve (dirfd, upath, flags) to an inode, honouring AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW. */
static int at_inode(int dirfd, uint64_t upath, unsigned flags, struct inode **out)
{
	char *path;
	int r = user_path((const char *)upath, &path);
	if (r)
		return r;
	if (!path[0]) {
		kfree(path);
		if (!(flags & AT_EMPTY_PATH))
			return -ENOENT;
		if (dirfd == AT_FDCWD) {
			*out = inode_get(vfs_cwd());
			return 0;
		}
		struct file *f = fd_get(dirfd);
		if (!f)
			return -EBADF;
		*out = inode_get(f->inode);
		file_put(f);
		return 0;
	}
	struct inode *base;
	r = fd_dirbase(dirfd, path, &base);
	if (!r) {
		r = vfs_walk(base, path, (flags & AT_SYMLINK_NOFOLLOW) ? WALK_NOFOLLOW : 0, out, NULL, NULL);
		inode_put(base);
	}
	kfree(path);
	return r;
}

SYSCALL(5, fstat, 2)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	int r = put_stat(a1, f->inode);
	file_put(f);
	return r;
}

static long stat_at(int dirfd, uint64_t upath, uint64_t ubuf, unsigned flags)
{
	struct inode *ino;
	int r = at_inode(dirfd, upath, flags, &ino);
	if (r)
		return r;
	r = put_stat(ubuf, ino);
	inode_put(ino);
	return r;
}

SYSCALL(4, stat, 2)
{
	return stat_at(AT_FDCWD, a0, a1, 0);
}

SYSCALL(6, lstat, 2)
{
	return stat_at(AT_FDCWD, a0, a1, AT_SYMLINK_NOFOLLOW);
}

SYSCALL(262, newfstatat, 4)
{
	return stat_at(a0, a1, a2, a3);
}

struct statx_ts {
	int64_t sec;
	uint32_t nsec;
	int32_t pad;
};

struct linux_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad1;
	uint64_t ino, size, blocks, attributes_mask;
	struct statx_ts atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};

SYSCALL(332, statx, 5)
{
	struct inode *ino;
	int r = at_inode(a0, a1, a2, &ino);
	if (r)
		return r;
	struct kstat k;
	struct linux_statx s;
	vfs_lock();
	vfs_stat(ino, &k);
	vfs_unlock();
	inode_put(ino);
	memset(&s, 0, sizeof(s));
	s.mask = 0x7ff; /* STATX_BASIC_STATS */
	s.blksize = k.blksize;
	s.nlink = k.nlink;
	s.uid = k.uid;
	s.gid = k.gid;
	s.mode = k.mode;
	s.ino = k.ino;
	s.size = k.size;
	s.blocks = k.blocks;
	s.atime = (struct statx_ts){ k.atime_sec, k.atime_nsec, 0 };
	s.mtime = (struct statx_ts){ k.mtime_sec, k.mtime_nsec, 0 };
	s.ctime = (struct statx_ts){ k.ctime_sec, k.ctime_nsec, 0 };
	s.rdev_major = k.rdev >> 8;
	s.rdev_minor = k.rdev & 0xff;
	s.dev_minor = k.dev;
	return copy_to_user((void *)a4, &s, sizeof(s));
}

static long access_at(int dirfd, uint64_t upath, int mode, unsigned flags)
{
	struct inode *ino;
	if (mode & ~7)
		return -EINVAL;
	int r = at_inode(dirfd, upath, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), &ino);
	if (r)
		return r;
	/* Root may read and write anything; execute needs some x bit (or a directory). */
	if ((mode & X_OK) && !S_ISDIR(ino->mode) && !(ino->mode & 0111))
		r = -EACCES;
	inode_put(ino);
	return r;
}

SYSCALL(21, access, 2)
{
	return access_at(AT_FDCWD, a0, a1, 0);
}

SYSCALL(269, faccessat, 3)
{
	return access_at(a0, a1, a2, 0);
}

SYSCALL(439, faccessat2, 4)
{
	return access_at(a0, a1, a2, a3);
}

/* --- descriptors --- */

SYSCALL(32, dup, 1)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	int r = fd_install(f, 0, false);
	if (r < 0)
		file_put(f);
	return r;
}

static long do_dup3(int oldfd, int newfd, unsigned flags)
{
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if (newfd < 0 || newfd >= NR_FDS)
		return -EBADF;
	struct file *f = fd_get(oldfd);
	if (!f)
		return -EBADF;
	return fd_install_at(newfd, f, flags & O_CLOEXEC);
}

SYSCALL(33, dup2, 2)
{
	if (a0 == a1) {
		struct file *f = fd_get(a0);
		if (!f)
			return -EBADF;
		file_put(f);
		return a1;
	}
	return do_dup3(a0, a1, 0);
}

SYSCALL(292, dup3, 3)
{
	if (a0 == a1)
		return -EINVAL;
	return do_dup3(a0, a1, a2);
}

#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#define F_DUPFD_CLOEXEC 1030
#define F_NOTIFY 1026
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034

/* struct flock: l_type, l_whence (shorts), l_start, l_len, l_pid. */
struct linux_flock {
	int16_t type, whence;
	int64_t start, len;
	int32_t pid;
};

static long do_fcntl_lock(struct file *f, long cmd, uint64_t ubuf)
{
	struct linux_flock l;
	if (copy_from_user(&l, (const void *)ubuf, sizeof(l)))
		return -EFAULT;
	if (l.type < 0 || l.type > 2) /* F_RDLCK F_WRLCK F_UNLCK */
		return -EINVAL;
	if (!f->ops || !f->ops->lock) {
		/* No other process can hold a lock: always granted, never in the way. */
		if (cmd != F_GETLK)
			return 0;
		l.type = 2;
		return copy_to_user((void *)ubuf, &l, sizeof(l));
	}
	int64_t base = l.whence == 0 ? 0 : l.whence == 1 ? (int64_t)f->pos : l.whence == 2 ? (int64_t)f->inode->size : -1;
	if (base < 0)
		return -EINVAL;
	int64_t start = base + l.start, len = l.len;
	if (len < 0) { /* the range ends at start */
		start += len;
		len = -len;
	}
	if (start < 0)
		return -EINVAL;
	struct vfs_flock fl = { l.type, (uint64_t)start, (uint64_t)len, (uint32_t)proc.pid };
	int r = f->ops->lock(f, &fl, cmd == F_SETLKW, cmd == F_GETLK);
	if (r || cmd != F_GETLK)
		return r;
	l.type = (int16_t)fl.type;
	l.whence = 0;
	l.start = (int64_t)fl.start;
	l.len = (int64_t)fl.len;
	l.pid = (int32_t)fl.pid;
	return copy_to_user((void *)ubuf, &l, sizeof(l));
}

SYSCALL(72, fcntl, 3)
{
	struct file *f = fd_get(a0);
	long r = 0;
	if (!f)
		return -EBADF;
	switch (a1) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		r = fd_install(file_get(f), a2, a1 == F_DUPFD_CLOEXEC);
		if (r < 0)
			file_put(f);
		break;
	case F_GETFD:
		r = fd_cloexec(a0) ? FD_CLOEXEC : 0;
		break;
	case F_SETFD:
		r = fd_set_cloexec(a0, a2 & FD_CLOEXEC);
		break;
	case F_GETFL:
		r = f->flags;
		break;
	case F_SETFL:
		f->flags = (f->flags & ~(O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT)) |
			   (a2 & (O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT));
		break;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
		r = do_fcntl_lock(f, a1, a2);
		break;
	case F_GETPIPE_SZ:
	case F_SETPIPE_SZ:
		r = pipe_size(f, a1 == F_SETPIPE_SZ, a2);
		break;
	case F_NOTIFY:
		r = dnotify_set(f, a2);
		break;
	case F_ADD_SEALS:
	case F_GET_SEALS:
		r = memfd_seals(f, a1, a2);
		break;
	default:
		r = -EINVAL;
	}
	file_put(f);
	return r;
}

/* The console's foreground process group (tcsetpgrp/tcgetpgrp): the
 * terminal itself (devfs) answers whether the file is one. */
static int console_pgrp = 1;

static long pgrp_ioctl(unsigned cmd, uint64_t arg)
{
	int32_t pg;
	if (cmd == 0x540f /* TIOCGPGRP */) {
		pg = READ_ONCE(console_pgrp);
		return copy_to_user((void *)arg, &pg, sizeof(pg));
	}
	if (copy_from_user(&pg, (const void *)arg, sizeof(pg)))
		return -EFAULT;
	if (pg <= 0)
		return -EINVAL;
	uint64_t f = spin_lock_irqsave(&procs_lock);
	long r = -EPERM; /* no such group in the caller's session */
	struct process *p;
	list_for_each_entry(p, &procs, all)
		if (p->pgid == pg && p->sid == proc.sid && p->state == PROC_ALIVE)
			r = 0;
	spin_unlock_irqrestore(&procs_lock, f);
	if (!r)
		console_pgrp = pg;
	return r;
}

SYSCALL(16, ioctl, 3)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r = -ENOTTY;
	if (f->ops && f->ops->ioctl)
		r = f->ops->ioctl(f, a1, a2);
	if (!r && (a1 == 0x540f || a1 == 0x5410))
		r = pgrp_ioctl(a1, a2);
	else if (a1 == 0x5421 /* FIONBIO */) {
		int on;
		r = copy_from_user(&on, (const void *)a2, sizeof(on));
		if (!r)
			f->flags = on ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK;
	} else if (a1 == 0x5451 /* FIOCLEX */) {
		r = fd_set_cloexec(a0, true);
	} else if (a1 == 0x5450 /* FIONCLEX */) {
		r = fd_set_cloexec(a0, false);
	}
	file_put(f);
	return r;
}

SYSCALL(74, fsync, 1)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r = f->ops && f->ops->fsync ? f->ops->fsync(f) : 0;
	file_put(f);
	return r;
}

SYSCALL(75, fdatasync, 1)
{
	return sys_fsync(a0, 0, 0, 0, 0, 0);
}

SYSCALL(77, ftruncate, 2)
{
	if ((int64_t)a1 < 0)
		return -EINVAL;
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r = (f->flags & O_ACCMODE) == O_RDONLY ? -EINVAL : vfs_truncate(f->inode, a1);
	file_put(f);
	return r;
}

SYSCALL(76, truncate, 2)
{
	struct inode *ino;
	if ((int64_t)a1 < 0)
		return -EINVAL;
	int r = at_inode(AT_FDCWD, a0, 0, &ino);
	if (r)
		return r;
	r = vfs_truncate(ino, a1);
	inode_put(ino);
	return r;
}

SYSCALL(285, fallocate, 4)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r = 0;
	if (a1 != 0)
		r = -EOPNOTSUPP;
	else if ((int64_t)a2 < 0 || (int64_t)a3 <= 0)
		r = -EINVAL;
	else if (a2 + a3 > f->inode->size)
		r = vfs_truncate(f->inode, a2 + a3);
	file_put(f);
	return r;
}

/* --- directories --- */

struct linux_dirent64_hdr {
	uint64_t ino;
	int64_t off;
	uint16_t reclen;
	uint8_t type;
} __attribute__((packed));

/*
 * Writes one directory record for d at p; returns its length, or 0 when it
 * does not fit in room. next_off is the position after this entry.
 */
typedef size_t dirent_encoder(char *p, size_t room, const struct vfs_dirent *d, int64_t next_off);

static size_t encode_dirent64(char *p, size_t room, const struct vfs_dirent *d, int64_t next_off)
{
	size_t reclen = ALIGN_UP(sizeof(struct linux_dirent64_hdr) + d->len + 1, 8);
	if (reclen > room)
		return 0;
	struct linux_dirent64_hdr h = { d->ino, next_off, reclen, d->type };
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), d->name, d->len);
	memset(p + sizeof(h) + d->len, 0, reclen - sizeof(h) - d->len);
	return reclen;
}

/* The old getdents record: ino, off, reclen, name, NUL, type (last byte). */
static size_t encode_dirent(char *p, size_t room, const struct vfs_dirent *d, int64_t next_off)
{
	size_t reclen = ALIGN_UP(8 + 8 + 2 + d->len + 2, 8);
	if (reclen > room)
		return 0;
	uint64_t ino = d->ino;
	uint16_t rl = reclen;
	memcpy(p, &ino, 8);
	memcpy(p + 8, &next_off, 8);
	memcpy(p + 16, &rl, 2);
	memcpy(p + 18, d->name, d->len);
	memset(p + 18 + d->len, 0, reclen - 18 - d->len);
	p[reclen - 1] = d->type;
	return reclen;
}

static long get_dents(uint64_t fd, uint64_t ubuf, uint64_t len, dirent_encoder *encode)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	struct inode *dir = f->inode;
	long r = 0;
	if (!S_ISDIR(dir->mode) || !dir->iops || !dir->iops->readdir) {
		file_put(f);
		return -ENOTDIR;
	}
	size_t cap = MIN(len, (uint64_t)BOUNCE);
	char *k = kmalloc(cap ? cap : 1);
	if (!k) {
		file_put(f);
		return -ENOMEM;
	}
	size_t used = 0;
	vfs_lock();
	for (;;) {
		struct vfs_dirent d;
		if (dir->iops->readdir(dir, f->pos, &d))
			break;
		size_t reclen = encode(k + used, cap - used, &d, (int64_t)f->pos + 1);
		if (!reclen) {
			if (!used)
				r = -EINVAL;
			break;
		}
		used += reclen;
		f->pos++;
	}
	vfs_unlock();
	if (used && copy_to_user((void *)ubuf, k, used))
		r = -EFAULT;
	kfree(k);
	file_put(f);
	return r ? r : (long)used;
}

SYSCALL(217, getdents64, 3)
{
	return get_dents(a0, a1, a2, encode_dirent64);
}

SYSCALL(79, getcwd, 2)
{
	char *k = kmalloc(VFS_PATH_MAX);
	if (!k)
		return -ENOMEM;
	vfs_lock();
	ssize_t n = vfs_dir_path(vfs_cwd(), k, VFS_PATH_MAX);
	vfs_unlock();
	long r = n;
	if (n >= 0) {
		if ((size_t)n + 1 > a1)
			r = -ERANGE;
		else
			r = copy_to_user((void *)a0, k, n + 1) ? -EFAULT : n + 1;
	}
	kfree(k);
	return r;
}

static long chdir_inode(struct inode *ino)
{
	if (!S_ISDIR(ino->mode))
		return -ENOTDIR;
	vfs_set_cwd(ino);
	return 0;
}

SYSCALL(80, chdir, 1)
{
	struct inode *ino;
	int r = at_inode(AT_FDCWD, a0, 0, &ino);
	if (r)
		return r;
	r = chdir_inode(ino);
	inode_put(ino);
	return r;
}

SYSCALL(81, fchdir, 1)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r = chdir_inode(f->inode);
	file_put(f);
	return r;
}

/* Run fn(base, path) for a (dirfd, user path) pair. */
static long with_path(int dirfd, uint64_t upath, long (*fn)(struct inode *base, const char *path, uint64_t x),
		      uint64_t x)
{
	char *path;
	struct inode *base;
	int r = user_path((const char *)upath, &path);
	if (r)
		return r;
	r = fd_dirbase(dirfd, path, &base);
	if (!r) {
		r = fn(base, path, x);
		inode_put(base);
	}
	kfree(path);
	return r;
}

static long mkdir_fn(struct inode *base, const char *path, uint64_t mode)
{
	return vfs_mkdir(base, path, mode & ~proc.umask & 07777);
}

SYSCALL(83, mkdir, 2)
{
	return with_path(AT_FDCWD, a0, mkdir_fn, a1);
}

SYSCALL(258, mkdirat, 3)
{
	return with_path(a0, a1, mkdir_fn, a2);
}

static long unlink_fn(struct inode *base, const char *path, uint64_t dir)
{
	return vfs_unlink(base, path, dir);
}

SYSCALL(87, unlink, 1)
{
	return with_path(AT_FDCWD, a0, unlink_fn, 0);
}

SYSCALL(84, rmdir, 1)
{
	return with_path(AT_FDCWD, a0, unlink_fn, 1);
}

SYSCALL(263, unlinkat, 3)
{
	if (a2 & ~AT_REMOVEDIR)
		return -EINVAL;
	return with_path(a0, a1, unlink_fn, (a2 & AT_REMOVEDIR) != 0);
}

/* rename and link: two user paths, each relative to its own directory fd. */
typedef int two_path_fn(struct inode *obase, const char *opath, struct inode *nbase, const char *npath,
			unsigned flags);

static long two_paths_at(int odfd, uint64_t uold, int ndfd, uint64_t unew, unsigned flags, two_path_fn *fn)
{
	char *op, *np;
	struct inode *ob = NULL, *nb = NULL;
	int r = user_path((const char *)uold, &op);
	if (r)
		return r;
	r = user_path((const char *)unew, &np);
	if (r) {
		kfree(op);
		return r;
	}
	r = fd_dirbase(odfd, op, &ob);
	if (!r)
		r = fd_dirbase(ndfd, np, &nb);
	if (!r)
		r = fn(ob, op, nb, np, flags);
	inode_put(ob);
	inode_put(nb);
	kfree(op);
	kfree(np);
	return r;
}

static long rename_at(int odfd, uint64_t uold, int ndfd, uint64_t unew, unsigned flags)
{
	return two_paths_at(odfd, uold, ndfd, unew, flags, vfs_rename);
}

SYSCALL(82, rename, 2)
{
	return rename_at(AT_FDCWD, a0, AT_FDCWD, a1, 0);
}

SYSCALL(264, renameat, 4)
{
	return rename_at(a0, a1, a2, a3, 0);
}

SYSCALL(316, renameat2, 5)
{
	return rename_at(a0, a1, a2, a3, a4);
}

static long link_at(int odfd, uint64_t uold, int ndfd, uint64_t unew, unsigned flags)
{
	return two_paths_at(odfd, uold, ndfd, unew, flags, vfs_link);
}

SYSCALL(86, link, 2)
{
	return link_at(AT_FDCWD, a0, AT_FDCWD, a1, 0);
}

SYSCALL(265, linkat, 5)
{
	return link_at(a0, a1, a2, a3, a4);
}

static long symlink_fn(struct inode *base, const char *path, uint64_t target)
{
	return vfs_symlink(base, (const char *)target, path);
}

static long symlink_at(uint64_t utarget, int dirfd, uint64_t upath)
{
	char *target;
	int r = user_path((const char *)utarget, &target);
	if (r)
		return r;
	r = with_path(dirfd, upath, symlink_fn, (uint64_t)target);
	kfree(target);
	return r;
}

SYSCALL(88, symlink, 2)
{
	return symlink_at(a0, AT_FDCWD, a1);
}

SYSCALL(266, symlinkat, 3)
{
	return symlink_at(a0, a1, a2);
}

static long readlink_at(int dirfd, uint64_t upath, uint64_t ubuf, int64_t size)
{
	char *path, *k;
	struct inode *base;
	if (size <= 0)
		return -EINVAL;
	int r = user_path((const char *)upath, &path);
	if (r)
		return r;
	k = kmalloc(VFS_PATH_MAX);
	if (!k) {
		kfree(path);
		return -ENOMEM;
	}
	long n = fd_dirbase(dirfd, path, &base);
	if (!n) {
		n = vfs_readlink(base, path, k, VFS_PATH_MAX);
		inode_put(base);
	}
	if (n >= 0) {
		if (n > size)
			n = size;
		if (copy_to_user((void *)ubuf, k, n))
			n = -EFAULT;
	}
	kfree(k);
	kfree(path);
	return n;
}

SYSCALL(89, readlink, 3)
{
	return readlink_at(AT_FDCWD, a0, a1, a2);
}

SYSCALL(267, readlinkat, 4)
{
	return readlink_at(a0, a1, a2, a3);
}

static long chmod_ino(struct inode *ino, uint32_t mode)
{
	vfs_lock();
	ino->mode = (ino->mode & S_IFMT) | (mode & 07777);
	vfs_now(&ino->ctime);
	vfs_unlock();
	return 0;
}

static long chmod_at(int dfd, uint64_t upath, int flags, uint32_t mode)
{
	struct inode *ino;
	int r = at_inode(dfd, upath, flags, &ino);
	if (r)
		return r;
	r = chmod_ino(ino, mode);
	inode_put(ino);
	return r;
}

SYSCALL(90, chmod, 2)
{
	return chmod_at(AT_FDCWD, a0, 0, a1);
}

SYSCALL(268, fchmodat, 3)
{
	return chmod_at(a0, a1, 0, a2);
}

SYSCALL(91, fchmod, 2)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r = chmod_ino(f->inode, a1);
	file_put(f);
	return r;
}

static long chown_ino(struct inode *ino, uint32_t uid, uint32_t gid)
{
	vfs_lock();
	if (uid != (uint32_t)-1)
		ino->uid = uid;
	if (gid != (uint32_t)-1)
		ino->gid = gid;
	vfs_unlock();
	return 0;
}

static long chown_at(int dfd, uint64_t upath, int flags, uint32_t uid, uint32_t gid)
{
	struct inode *ino;
	int r = at_inode(dfd, upath, flags, &ino);
	if (r)
		return r;
	r = chown_ino(ino, uid, gid);
	inode_put(ino);
	return r;
}

SYSCALL(92, chown, 3)
{
	return chown_at(AT_FDCWD, a0, 0, a1, a2);
}

SYSCALL(94, lchown, 3)
{
	return chown_at(AT_FDCWD, a0, AT_SYMLINK_NOFOLLOW, a1, a2);
}

SYSCALL(93, fchown, 3)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r = chown_ino(f->inode, a1, a2);
	file_put(f);
	return r;
}

SYSCALL(260, fchownat, 5)
{
	return chown_at(a0, a1, a4, a2, a3);
}

SYSCALL(95, umask, 1)
{
	uint32_t old = proc.umask;
	proc.umask = a0 & 0777;
	return old;
}

#define UTIME_NOW ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)

SYSCALL(280, utimensat, 4)
{
	struct inode *ino;
	int64_t ts[4];
	int r;
	if (a1)
		r = at_inode(a0, a1, a3, &ino);
	else if (a0 == (uint64_t)AT_FDCWD)
		r = -EFAULT;
	else {
		struct file *f = fd_get(a0);
		if (!f)
			return -EBADF;
		ino = inode_get(f->inode);
		file_put(f);
		r = 0;
	}
	if (r)
		return r;
	struct vfs_time now;
	vfs_now(&now);
	if (a2 && copy_from_user(ts, (const void *)a2, sizeof(ts))) {
		inode_put(ino);
		return -EFAULT;
	}
	vfs_lock();
	for (int i = 0; i < 2; i++) {
		struct vfs_time *t = i ? &ino->mtime : &ino->atime;
		if (!a2 || ts[2 * i + 1] == UTIME_NOW)
			*t = now;
		else if (ts[2 * i + 1] != UTIME_OMIT)
			*t = (struct vfs_time){ ts[2 * i], ts[2 * i + 1] };
	}
	ino->ctime = now;
	vfs_unlock();
	inode_put(ino);
	return 0;
}

/* sendfile: copy through the kernel between any two descriptors. */
SYSCALL(40, sendfile, 4)
{
	struct file *out = fd_get(a0), *in = fd_get(a1);
	long r = 0;
	uint64_t off = 0;
	if (!out || !in) {
		r = -EBADF;
		goto done;
	}
	if (a2 && copy_from_user(&off, (const void *)a2, 8)) {
		r = -EFAULT;
		goto done;
	}
	size_t n = a3, total = 0, chunk = MIN(n, (size_t)BOUNCE);
	char *k = kmalloc(chunk ? chunk : 1);
	if (!k) {
		r = -ENOMEM;
		goto done;
	}
	while (total < n) {
		ssize_t got = vfs_read(in, k, MIN(chunk, n - total), a2 ? &off : &in->pos);
		if (got <= 0) {
			r = got;
			break;
		}
		ssize_t put = vfs_write(out, k, got, &out->pos);
		if (put < got) {
			/* What the output did not take stays unread (a nonblocking socket). */
			uint64_t *p = a2 ? &off : &in->pos;
			*p -= got - (put > 0 ? put : 0);
		}
		if (put < 0) {
			r = put;
			break;
		}
		total += put;
		if (put < got)
			break;
	}
	kfree(k);
	if (total)
		r = total;
	if (a2 && copy_to_user((void *)a2, &off, 8))
		r = -EFAULT;
done:
	if (out)
		file_put(out);
	if (in)
		file_put(in);
	return r;
}

SYSCALL(73, flock, 2)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r = 0;
	unsigned op = a1 & ~4u; /* LOCK_NB */
	if (op != 1 && op != 2 && op != 8) /* LOCK_SH LOCK_EX LOCK_UN */
		r = -EINVAL;
	else if (f->ops && f->ops->lock) {
		/* The whole file, on the server that keeps the locks. */
		struct vfs_flock fl = { op == 1 ? VFS_LOCK_READ : op == 2 ? VFS_LOCK_WRITE : VFS_LOCK_UNLOCK, 0, 0,
					(uint32_t)proc.pid };
		r = f->ops->lock(f, &fl, !(a1 & 4), false);
	}
	file_put(f);
	return r; /* otherwise one process: locks never conflict */
}

struct linux_statfs {
	int64_t type, bsize, blocks, bfree, bavail, files, ffree;
	int32_t fsid[2];
	int64_t namelen, frsize, flags, spare[4];
};

static long put_statfs(uint64_t ubuf, struct inode *ino)
{
	struct linux_statfs s;
	memset(&s, 0, sizeof(s));
	struct vfs_statfs v;
	if (ino->iops && ino->iops->statfs) {
		int r = ino->iops->statfs(ino, &v);
		if (r)
			return r;
		s.type = (int64_t)v.type;
		s.bsize = s.frsize = (int64_t)v.bsize;
		s.blocks = (int64_t)v.blocks;
		s.bfree = (int64_t)v.bfree;
		s.bavail = (int64_t)v.bavail;
		s.files = (int64_t)v.files;
		s.ffree = (int64_t)v.ffree;
		s.fsid[0] = (int32_t)v.fsid;
		s.fsid[1] = (int32_t)(v.fsid >> 32);
		s.namelen = (int64_t)v.namelen;
		s.flags = (int64_t)v.flags;
		return copy_to_user((void *)ubuf, &s, sizeof(s));
	}
	const char *t = ino->sb ? ino->sb->fstype : "";
	s.type = !strcmp(t, "proc") ? 0x9fa0 : !strcmp(t, "sysfs") ? 0x62656572 : 0x01021994; /* tmpfs */
	s.bsize = s.frsize = 4096;
	s.blocks = page_total_count();
	s.bfree = s.bavail = page_free_count();
	s.files = 1 << 20;
	s.ffree = 1 << 20;
	s.fsid[0] = ino->sb ? ino->sb->dev : 0;
	s.namelen = VFS_NAME_MAX;
	return copy_to_user((void *)ubuf, &s, sizeof(s));
}

SYSCALL(137, statfs, 2)
{
	struct inode *ino;
	int r = at_inode(AT_FDCWD, a0, 0, &ino);
	if (r)
		return r;
	r = put_statfs(a1, ino);
	inode_put(ino);
	return r;
}

SYSCALL(138, fstatfs, 2)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	long r = put_statfs(a1, f->inode);
	file_put(f);
	return r;
}

/* getdents (the old 32-bit-offset form still used by some static binaries). */
SYSCALL(78, getdents, 3)
{
	return get_dents(a0, a1, a2, encode_dirent);
}

#define CLOSE_RANGE_UNSHARE 2
#define CLOSE_RANGE_CLOEXEC 4

SYSCALL(436, close_range, 3)
{
	uint64_t first = a0, last = a1;
	if (first > last || (a2 & ~(uint64_t)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)))
		return -EINVAL;
	if (last >= NR_FDS)
		last = NR_FDS - 1;
	for (uint64_t fd = first; fd <= last && first < NR_FDS; fd++) {
		if (a2 & CLOSE_RANGE_CLOEXEC)
			fd_set_cloexec(fd, true);
		else
			fd_close(fd);
	}
	return 0;
}

SYSCALL(221, fadvise64, 4)
{
	struct file *f = fd_get(a0);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0; /* advice only */
}

/* Extended attributes: no filesystem here stores any. */
static long xattr_none(uint64_t upath, unsigned flags, int fd, long none)
{
	if (fd >= 0) {
		struct file *f = fd_get(fd);
		if (!f)
			return -EBADF;
		file_put(f);
		return none;
	}
	struct inode *ino;
	int r = at_inode(AT_FDCWD, upath, flags, &ino);
	if (r)
		return r;
	inode_put(ino);
	return none;
}

SYSCALL(191, getxattr, 4)
{
	return xattr_none(a0, 0, -1, -ENODATA);
}

SYSCALL(192, lgetxattr, 4)
{
	return xattr_none(a0, AT_SYMLINK_NOFOLLOW, -1, -ENODATA);
}

SYSCALL(193, fgetxattr, 4)
{
	return xattr_none(0, 0, a0, -ENODATA);
}

SYSCALL(194, listxattr, 3)
{
	return xattr_none(a0, 0, -1, 0);
}

SYSCALL(195, llistxattr, 3)
{
	return xattr_none(a0, AT_SYMLINK_NOFOLLOW, -1, 0);
}

SYSCALL(196, flistxattr, 3)
{
	return xattr_none(0, 0, a0, 0);
}

SYSCALL(188, setxattr, 5)
{
	return xattr_none(a0, 0, -1, -ENOTSUP);
}

SYSCALL(189, lsetxattr, 5)
{
	return xattr_none(a0, AT_SYMLINK_NOFOLLOW, -1, -ENOTSUP);
}

SYSCALL(190, fsetxattr, 5)
{
	return xattr_none(0, 0, a0, -ENOTSUP);
}
