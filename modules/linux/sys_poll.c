/* Pipes, eventfd, poll/select and epoll. Every state change of a pollable
 * object wakes one process-wide wait queue; waiters recheck their condition
 * (there are few threads, so precision beats bookkeeping here). */
#include "internal.h"
#include "calls.h"
#include <console/console.h>
#include <init/initcall.h>
#include <mm/kmalloc.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <time/clock.h>
#include <uaccess/uaccess.h>
#include <lib/string.h>

struct wait_queue poll_wq = WAIT_QUEUE_INIT(poll_wq);
static struct super anon_sb = { .fstype = "anon", .dev = 0x40 };

void poll_notify(void)
{
	wake_up_all(&poll_wq);
}

static void notify(void)
{
	poll_notify();
}

/* Console input wakes poll/select/epoll on stdin. */
static int poll_console_init(void)
{
	console_set_input_notify(poll_notify);
	return 0;
}
INITCALL(INIT_LATE, poll_console_init);

struct file *anon_file(uint32_t mode, const struct file_ops *ops, void *priv, unsigned flags)
{
	struct inode *ino = inode_new(&anon_sb, mode | 0600);
	if (!ino)
		return NULL;
	ino->fops = ops;
	int err;
	struct file *f = file_open_inode(ino, flags, &err);
	/* The file holds the only reference; unlinked so it goes with the file. */
	ino->nlink = 0;
	inode_put(ino);
	if (f)
		f->priv = priv;
	return f;
}

/* --- pipes --- */

#define PIPE_SIZE 65536

struct pipe {
	spinlock_t lock;
	char *buf;
	size_t head, len, cap;
	int readers, writers;
	int refs;
};

static void pipe_put(struct pipe *p)
{
	if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		kfree(p->buf);
		kfree(p);
	}
}

static ssize_t pipe_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)pos;
	struct pipe *p = f->priv;
	if (!n)
		return 0;
	for (;;) {
		uint64_t fl = spin_lock_irqsave(&p->lock);
		if (p->len) {
			size_t got = 0;
			while (got < n && p->len) {
				size_t chunk = MIN(n - got, MIN(p->len, p->cap - p->head));
				memcpy((char *)buf + got, p->buf + p->head, chunk);
				p->head = (p->head + chunk) % p->cap;
				p->len -= chunk;
				got += chunk;
			}
			spin_unlock_irqrestore(&p->lock, fl);
			notify();
			return got;
		}
		bool eof = p->writers == 0;
		spin_unlock_irqrestore(&p->lock, fl);
		if (eof)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		int r = WAIT_INTR(READ_ONCE(p->len) || !READ_ONCE(p->writers), 0);
		if (r)
			return r;
	}
}

static ssize_t pipe_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	(void)pos;
	struct pipe *p = f->priv;
	size_t done = 0;
	while (done < n) {
		uint64_t fl = spin_lock_irqsave(&p->lock);
		if (!p->readers) {
			spin_unlock_irqrestore(&p->lock, fl);
			return done ? (ssize_t)done : -EPIPE;
		}
		while (done < n && p->len < p->cap) {
			size_t tail = (p->head + p->len) % p->cap;
			size_t chunk = MIN(n - done, MIN(p->cap - p->len, p->cap - tail));
			memcpy(p->buf + tail, (const char *)buf + done, chunk);
			p->len += chunk;
			done += chunk;
		}
		spin_unlock_irqrestore(&p->lock, fl);
		notify();
		if (done == n)
			break;
		if (f->flags & O_NONBLOCK)
			return done ? (ssize_t)done : -EAGAIN;
		int r = WAIT_INTR(READ_ONCE(p->len) < READ_ONCE(p->cap) || !READ_ONCE(p->readers), 0);
		if (r)
			return done ? (ssize_t)done : r;
	}
	return done;
}

static unsigned pipe_poll(struct file *f)
{
	struct pipe *p = f->priv;
	unsigned m = 0;
	if ((f->flags & O_ACCMODE) == O_RDONLY) {
		if (p->len)
			m |= POLLIN | POLLRDNORM;
		if (!p->writers)
			m |= POLLHUP;
	} else {
		if (p->len < p->cap)
			m |= POLLOUT | POLLWRNORM;
		if (!p->readers)
			m |= POLLERR;
	}
	return m;
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->priv;
	uint64_t fl = spin_lock_irqsave(&p->lock);
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		p->readers--;
	else
		p->writers--;
	spin_unlock_irqrestore(&p->lock, fl);
	notify();
	pipe_put(p);
}

static const struct file_ops pipe_ops = {
	.read = pipe_read, .write = pipe_write, .poll = pipe_poll, .release = pipe_release, .stream = true,
};

/* F_GETPIPE_SZ / F_SETPIPE_SZ: the capacity, set to a power-of-two number of
 * pages (at most 1 MiB, Linux's pipe-max-size; not below what it holds). */
long pipe_size(struct file *f, bool set, uint64_t want)
{
	if (f->ops != &pipe_ops)
		return -EBADF;
	struct pipe *p = f->priv;
	if (!set)
		return READ_ONCE(p->cap);
	if (want > (1u << 20))
		return -EPERM;
	size_t cap = 4096;
	while (cap < want)
		cap <<= 1;
	char *nb = kmalloc(cap);
	if (!nb)
		return -ENOMEM;
	uint64_t fl = spin_lock_irqsave(&p->lock);
	if (p->len > cap) {
		spin_unlock_irqrestore(&p->lock, fl);
		kfree(nb);
		return -EBUSY;
	}
	size_t first = MIN(p->len, p->cap - p->head);
	memcpy(nb, p->buf + p->head, first);
	memcpy(nb + first, p->buf, p->len - first);
	char *old = p->buf;
	p->buf = nb;
	p->head = 0;
	p->cap = cap;
	spin_unlock_irqrestore(&p->lock, fl);
	kfree(old);
	notify();
	return cap;
}

SYSCALL(293, pipe2, 2)
{
	if (a1 & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	struct pipe *p = kzalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->buf = kmalloc(PIPE_SIZE);
	if (!p->buf) {
		kfree(p);
		return -ENOMEM;
	}
	spin_init(&p->lock);
	p->cap = PIPE_SIZE;
	p->readers = p->writers = 1;
	p->refs = 2;
	unsigned nb = a1 & O_NONBLOCK;
	struct file *r = anon_file(S_IFIFO, &pipe_ops, p, O_RDONLY | nb);
	struct file *w = anon_file(S_IFIFO, &pipe_ops, p, O_WRONLY | nb);
	if (!r || !w) {
		/* release() drops the pipe's references. */
		if (r) {
			file_put(r);
		} else {
			p->readers--;
			pipe_put(p);
		}
		if (w) {
			file_put(w);
		} else {
			p->writers--;
			pipe_put(p);
		}
		return -ENOMEM;
	}
	int fds[2];
	fds[0] = fd_install(r, 0, a1 & O_CLOEXEC);
	if (fds[0] < 0) {
		file_put(r);
		file_put(w);
		return fds[0];
	}
	fds[1] = fd_install(w, 0, a1 & O_CLOEXEC);
	if (fds[1] < 0) {
		fd_close(fds[0]);
		file_put(w);
		return fds[1];
	}
	if (copy_to_user((void *)a0, fds, sizeof(fds))) {
		fd_close(fds[0]);
		fd_close(fds[1]);
		return -EFAULT;
	}
	return 0;
}

/* --- FIFOs (named pipes): mknod(S_IFIFO) in any filesystem; every open of
 * one inode shares one pipe, kept in a small table while the FIFO is open
 * (its data goes when the last end closes, as on Linux). An open for reading
 * waits for a writer and one for writing waits for a reader, unless
 * O_NONBLOCK (then a lone writer gets ENXIO). --- */

struct fifo {
	struct list node;
	struct inode *ino;
	struct pipe *pipe;
	unsigned r_opens, w_opens; /* opens so far, for the waits in fifo_open */
};

static struct list fifos = LIST_INIT(fifos);
static spinlock_t fifos_lock = SPINLOCK_INIT;

static struct fifo *fifo_find(struct inode *ino)
{
	struct fifo *q;
	list_for_each_entry(q, &fifos, node)
		if (q->ino == ino)
			return q;
	return NULL;
}

static int fifo_open(struct inode *ino, struct file *f)
{
	unsigned acc = f->flags & O_ACCMODE;
	uint64_t fl = spin_lock_irqsave(&fifos_lock);
	struct fifo *q = fifo_find(ino);
	if (!q) {
		q = kzalloc(sizeof(*q));
		struct pipe *p = q ? kzalloc(sizeof(*p)) : NULL;
		char *buf = p ? kmalloc(PIPE_SIZE) : NULL;
		if (!buf) {
			spin_unlock_irqrestore(&fifos_lock, fl);
			kfree(p);
			kfree(q);
			return -ENOMEM;
		}
		spin_init(&p->lock);
		p->buf = buf;
		p->cap = PIPE_SIZE;
		q->ino = ino;
		q->pipe = p;
		list_push_back(&fifos, &q->node);
	}
	struct pipe *p = q->pipe;
	spin_lock(&p->lock);
	if (acc == O_WRONLY && !p->readers && (f->flags & O_NONBLOCK)) {
		spin_unlock(&p->lock);
		bool unused = !p->refs;
		if (unused)
			list_remove(&q->node);
		spin_unlock_irqrestore(&fifos_lock, fl);
		if (unused) {
			kfree(p->buf);
			kfree(p);
			kfree(q);
		}
		return -ENXIO;
	}
	if (acc != O_WRONLY) {
		p->readers++;
		q->r_opens++;
	}
	if (acc != O_RDONLY) {
		p->writers++;
		q->w_opens++;
	}
	p->refs++;
	unsigned r0 = q->r_opens, w0 = q->w_opens;
	spin_unlock(&p->lock);
	spin_unlock_irqrestore(&fifos_lock, fl);
	f->priv = p;
	notify();
	if (f->flags & O_NONBLOCK || acc == O_RDWR)
		return 0;
	/* Wait for the other end (an open of it since, or one already there). */
	int r = acc == O_RDONLY ? WAIT_INTR(READ_ONCE(p->writers) || READ_ONCE(q->w_opens) != w0, 0)
				: WAIT_INTR(READ_ONCE(p->readers) || READ_ONCE(q->r_opens) != r0, 0);
	if (r) {
		f->ops->release(f);
		return r;
	}
	return 0;
}

static void fifo_release(struct file *f)
{
	struct pipe *p = f->priv;
	unsigned acc = f->flags & O_ACCMODE;
	if (!p)
		return; /* O_PATH: never opened */
	uint64_t fl = spin_lock_irqsave(&fifos_lock);
	spin_lock(&p->lock);
	if (acc != O_WRONLY)
		p->readers--;
	if (acc != O_RDONLY)
		p->writers--;
	bool last = --p->refs == 0;
	spin_unlock(&p->lock);
	struct fifo *q = NULL;
	if (last) {
		list_for_each_entry(q, &fifos, node)
			if (q->pipe == p)
				break;
		list_remove(&q->node);
	}
	spin_unlock_irqrestore(&fifos_lock, fl);
	notify();
	if (last) {
		kfree(p->buf);
		kfree(p);
		kfree(q);
	}
}

static unsigned fifo_poll(struct file *f)
{
	struct pipe *p = f->priv;
	if ((f->flags & O_ACCMODE) != O_RDWR)
		return pipe_poll(f);
	unsigned m = 0;
	if (p->len)
		m |= POLLIN | POLLRDNORM;
	if (p->len < p->cap)
		m |= POLLOUT | POLLWRNORM;
	return m;
}

static const struct file_ops fifo_ops = {
	.open = fifo_open, .read = pipe_read, .write = pipe_write, .poll = fifo_poll, .release = fifo_release,
	.stream = true,
};

/* mknod: FIFOs and regular files (device nodes are devfs's: EPERM). */
SYSCALL(259, mknodat, 4)
{
	uint32_t mode = a2, type = mode & S_IFMT;
	char *path;
	struct inode *base;
	long r;
	if (type != S_IFIFO && type != S_IFREG && type != 0)
		return (type == S_IFCHR || type == S_IFBLK || type == S_IFSOCK) ? -EPERM : -EINVAL;
	if ((r = user_path((const char *)a1, &path)))
		return r;
	if (!(r = fd_dirbase(a0, path, &base))) {
		uint32_t perm = mode & 07777 & ~proc.umask;
		r = type == S_IFIFO ? vfs_mknod(base, path, S_IFIFO | perm, &fifo_ops, NULL)
				    : vfs_mknod(base, path, S_IFREG | perm, NULL, NULL);
		if (base)
			inode_put(base);
	}
	kfree(path);
	return r;
}

SYSCALL(133, mknod, 3)
{
	return sys_mknodat(AT_FDCWD, a0, a1, a2, 0, 0);
}

SYSCALL(22, pipe, 1)
{
	return sys_pipe2(a0, 0, 0, 0, 0, 0);
}

/* --- eventfd --- */

#define EFD_SEMAPHORE 1

struct eventfd {
	spinlock_t lock;
	uint64_t count;
	bool semaphore;
};

static ssize_t efd_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)pos;
	struct eventfd *e = f->priv;
	if (n < 8)
		return -EINVAL;
	for (;;) {
		uint64_t fl = spin_lock_irqsave(&e->lock);
		if (e->count) {
			uint64_t v = e->semaphore ? 1 : e->count;
			e->count -= v;
			spin_unlock_irqrestore(&e->lock, fl);
			memcpy(buf, &v, 8);
			notify();
			return 8;
		}
		spin_unlock_irqrestore(&e->lock, fl);
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		int r = WAIT_INTR(READ_ONCE(e->count) != 0, 0);
		if (r)
			return r;
	}
}

static ssize_t efd_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	(void)pos;
	struct eventfd *e = f->priv;
	uint64_t v;
	if (n < 8)
		return -EINVAL;
	memcpy(&v, buf, 8);
	if (v == ~0ull)
		return -EINVAL;
	for (;;) {
		uint64_t fl = spin_lock_irqsave(&e->lock);
		if (e->count + v >= e->count && e->count + v < ~0ull) {
			e->count += v;
			spin_unlock_irqrestore(&e->lock, fl);
			notify();
			return 8;
		}
		spin_unlock_irqrestore(&e->lock, fl);
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		int r = WAIT_INTR(READ_ONCE(e->count) + v >= v && READ_ONCE(e->count) + v < ~0ull, 0);
		if (r)
			return r;
	}
}

static unsigned efd_poll(struct file *f)
{
	struct eventfd *e = f->priv;
	unsigned m = POLLOUT | POLLWRNORM;
	if (e->count)
		m |= POLLIN | POLLRDNORM;
	return m;
}

static void efd_release(struct file *f)
{
	kfree(f->priv);
}

static const struct file_ops efd_ops = {
	.read = efd_read, .write = efd_write, .poll = efd_poll, .release = efd_release, .stream = true,
};

SYSCALL(290, eventfd2, 2)
{
	if (a1 & ~(O_CLOEXEC | O_NONBLOCK | EFD_SEMAPHORE))
		return -EINVAL;
	struct eventfd *e = kzalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	spin_init(&e->lock);
	e->count = (uint32_t)a0;
	e->semaphore = a1 & EFD_SEMAPHORE;
	struct file *f = anon_file(S_IFREG, &efd_ops, e, O_RDWR | (a1 & O_NONBLOCK));
	if (!f) {
		kfree(e);
		return -ENOMEM;
	}
	int fd = fd_install(f, 0, a1 & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

SYSCALL(284, eventfd, 1)
{
	return sys_eventfd2(a0, 0, 0, 0, 0, 0);
}

/* --- poll and select --- */

static unsigned file_poll(struct file *f)
{
	if (f->ops && f->ops->poll)
		return f->ops->poll(f);
	/* Regular files and directories are always ready. */
	return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
}

struct pollfd {
	int32_t fd;
	int16_t events, revents;
};

static uint64_t deadline_from_ms(int64_t ms)
{
	if (ms < 0)
		return 0;
	return clock_monotonic_ns() + (uint64_t)ms * NSEC_PER_MSEC + 1;
}

static int poll_scan(struct pollfd *p, uint64_t n)
{
	int ready = 0;
	for (uint64_t i = 0; i < n; i++) {
		p[i].revents = 0;
		if (p[i].fd < 0)
			continue;
		struct file *f = fd_get(p[i].fd);
		if (!f) {
			p[i].revents = POLLNVAL;
		} else {
			p[i].revents = file_poll(f) & (p[i].events | POLLERR | POLLHUP);
			file_put(f);
		}
		if (p[i].revents)
			ready++;
	}
	return ready;
}

static long do_poll(uint64_t ufds, uint64_t n, uint64_t deadline, bool immediate)
{
	if (n > NR_FDS)
		return -EINVAL;
	struct pollfd *p = kmalloc(sizeof(*p) * (n ? n : 1));
	if (!p)
		return -ENOMEM;
	if (copy_from_user(p, (const void *)ufds, sizeof(*p) * n)) {
		kfree(p);
		return -EFAULT;
	}
	int ready = 0;
	long r = 0;
	if (immediate)
		ready = poll_scan(p, n);
	else
		r = WAIT_INTR((ready = poll_scan(p, n)) > 0, deadline);
	if (r == -ETIMEDOUT)
		r = 0;
	if (!r && copy_to_user((void *)ufds, p, sizeof(*p) * n))
		r = -EFAULT;
	kfree(p);
	return r ? r : ready;
}

SYSCALL(7, poll, 3)
{
	int64_t ms = (int32_t)a2;
	return do_poll(a0, a1, deadline_from_ms(ms), ms == 0);
}

struct timespec {
	int64_t sec, nsec;
};

static int timeout_from_ts(uint64_t uts, uint64_t *deadline, bool *immediate)
{
	*deadline = 0;
	*immediate = false;
	if (!uts)
		return 0;
	struct timespec ts;
	if (copy_from_user(&ts, (const void *)uts, sizeof(ts)))
		return -EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC_PER_SEC)
		return -EINVAL;
	uint64_t ns = (uint64_t)ts.sec * NSEC_PER_SEC + ts.nsec;
	*immediate = ns == 0;
	*deadline = clock_monotonic_ns() + ns + 1;
	return 0;
}

/* Install a temporary signal mask for ppoll/pselect/epoll_pwait (restored on return). */
static int temp_sigmask(uint64_t umask, uint64_t size)
{
	if (!umask)
		return 0;
	uint64_t m;
	if (size != 8)
		return -EINVAL;
	if (copy_from_user(&m, (const void *)umask, 8))
		return -EFAULT;
	struct uthread *ut = current_uthread();
	ut->saved_sigmask = ut->sigmask;
	ut->restore_sigmask = true;
	ut->sigmask = m & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
	return 0;
}

SYSCALL(271, ppoll, 5)
{
	uint64_t deadline;
	bool imm;
	int r = timeout_from_ts(a2, &deadline, &imm);
	if (r)
		return r;
	if ((r = temp_sigmask(a3, a4)))
		return r;
	return do_poll(a0, a1, deadline, imm);
}

static long do_select(int n, uint64_t urd, uint64_t uwr, uint64_t uex, uint64_t deadline, bool imm)
{
	if (n < 0 || n > NR_FDS)
		return -EINVAL;
	size_t bytes = ((size_t)n + 63) / 64 * 8;
	uint64_t in[3][NR_FDS / 64], out[3][NR_FDS / 64];
	uint64_t u[3] = { urd, uwr, uex };
	memset(in, 0, sizeof(in));
	for (int k = 0; k < 3; k++)
		if (u[k] && copy_from_user(in[k], (const void *)u[k], bytes))
			return -EFAULT;
	int ready = 0;
#define SCAN()                                                                                  \
	({                                                                                      \
		ready = 0;                                                                      \
		memset(out, 0, sizeof(out));                                                    \
		for (int fd = 0; fd < n; fd++) {                                                \
			uint64_t bit = 1ull << (fd % 64);                                       \
			bool want_r = in[0][fd / 64] & bit, want_w = in[1][fd / 64] & bit,      \
			     want_e = in[2][fd / 64] & bit;                                     \
			if (!want_r && !want_w && !want_e)                                      \
				continue;                                                       \
			struct file *f = fd_get(fd);                                            \
			if (!f) {                                                               \
				ready = -EBADF;                                                 \
				break;                                                          \
			}                                                                       \
			unsigned m = file_poll(f);                                              \
			file_put(f);                                                            \
			if (want_r && (m & (POLLIN | POLLHUP | POLLERR)))                       \
				out[0][fd / 64] |= bit, ready++;                                \
			if (want_w && (m & (POLLOUT | POLLERR)))                                \
				out[1][fd / 64] |= bit, ready++;                                \
			if (want_e && (m & POLLPRI))                                            \
				out[2][fd / 64] |= bit, ready++;                                \
		}                                                                               \
		ready != 0;                                                                     \
	})
	long r = 0;
	if (imm)
		SCAN();
	else
		r = WAIT_INTR(SCAN(), deadline);
#undef SCAN
	if (r == -ETIMEDOUT)
		r = 0;
	if (r)
		return r;
	if (ready < 0)
		return ready;
	for (int k = 0; k < 3; k++)
		if (u[k] && copy_to_user((void *)u[k], out[k], bytes))
			return -EFAULT;
	return ready;
}

SYSCALL(23, select, 5)
{
	uint64_t deadline = 0;
	bool imm = false;
	if (a4) {
		int64_t tv[2];
		if (copy_from_user(tv, (const void *)a4, sizeof(tv)))
			return -EFAULT;
		if (tv[0] < 0 || tv[1] < 0)
			return -EINVAL;
		uint64_t ns = (uint64_t)tv[0] * NSEC_PER_SEC + (uint64_t)tv[1] * 1000;
		imm = ns == 0;
		deadline = clock_monotonic_ns() + ns + 1;
	}
	return do_select(a0, a1, a2, a3, deadline, imm);
}

SYSCALL(270, pselect6, 6)
{
	uint64_t deadline;
	bool imm;
	int r = timeout_from_ts(a4, &deadline, &imm);
	if (r)
		return r;
	if (a5) {
		uint64_t sm[2];
		if (copy_from_user(sm, (const void *)a5, sizeof(sm)))
			return -EFAULT;
		if ((r = temp_sigmask(sm[0], sm[1])))
			return r;
	}
	return do_select(a0, a1, a2, a3, deadline, imm);
}

/* --- epoll --- */

#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3
#define EPOLLIN 0x001
#define EPOLLOUT 0x004
#define EPOLLERR 0x008
#define EPOLLHUP 0x010
#define EPOLLRDHUP 0x2000
#define EPOLLEXCLUSIVE (1u << 28)
#define EPOLLWAKEUP (1u << 29)
#define EPOLLONESHOT (1u << 30)
#define EPOLLET (1u << 31)

struct epoll_event {
	uint32_t events;
	uint64_t data;
} __attribute__((packed));

struct interest {
	struct list node;
	int fd;
	struct file *file;
	uint32_t events;
	uint64_t data;
	uint32_t last;     /* readiness last reported (edge-triggered emulation) */
	uint64_t gen;      /* the file's event counter when last scanned (poll_gen) */
	bool disabled;     /* EPOLLONESHOT fired */
};

struct epoll {
	spinlock_t lock;
	struct list interests;
};

static void ep_release(struct file *f)
{
	struct epoll *ep = f->priv;
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &ep->interests) {
		struct interest *in = list_entry(pos, struct interest, node);
		file_put(in->file);
		kfree(in);
	}
	kfree(ep);
}

static const struct file_ops epoll_ops = { .release = ep_release };

SYSCALL(291, epoll_create1, 1)
{
	if (a0 & ~O_CLOEXEC)
		return -EINVAL;
	struct epoll *ep = kzalloc(sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	spin_init(&ep->lock);
	list_init(&ep->interests);
	struct file *f = anon_file(S_IFREG, &epoll_ops, ep, O_RDWR);
	if (!f) {
		kfree(ep);
		return -ENOMEM;
	}
	int fd = fd_install(f, 0, a0 & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

SYSCALL(213, epoll_create, 1)
{
	if ((int)a0 <= 0)
		return -EINVAL;
	return sys_epoll_create1(0, 0, 0, 0, 0, 0);
}

static struct epoll *epoll_of(struct file *f)
{
	return f->ops == &epoll_ops ? f->priv : NULL;
}

SYSCALL(233, epoll_ctl, 4)
{
	struct file *ef = fd_get(a0);
	if (!ef)
		return -EBADF;
	struct epoll *ep = epoll_of(ef);
	struct file *tf = fd_get(a2);
	long r = 0;
	struct epoll_event ev = { 0, 0 };
	if (!ep || !tf || tf == ef) {
		r = !tf ? -EBADF : -EINVAL;
		goto out;
	}
	if (epoll_of(tf)) {
		r = -EINVAL; /* nested epoll is not supported */
		goto out;
	}
	if (a1 != EPOLL_CTL_DEL && copy_from_user(&ev, (const void *)a3, sizeof(ev))) {
		r = -EFAULT;
		goto out;
	}
	uint64_t fl = spin_lock_irqsave(&ep->lock);
	struct interest *in, *found = NULL;
	list_for_each_entry(in, &ep->interests, node)
		if (in->fd == (int)a2 && in->file == tf)
			found = in;
	switch (a1) {
	case EPOLL_CTL_ADD:
		if (found) {
			r = -EEXIST;
			break;
		}
		in = kzalloc(sizeof(*in));
		if (!in) {
			r = -ENOMEM;
			break;
		}
		*in = (struct interest){ .fd = a2, .file = file_get(tf), .events = ev.events, .data = ev.data };
		list_push_back(&ep->interests, &in->node);
		break;
	case EPOLL_CTL_MOD:
		if (!found) {
			r = -ENOENT;
			break;
		}
		found->events = ev.events;
		found->data = ev.data;
		found->last = 0;
		found->disabled = false;
		break;
	case EPOLL_CTL_DEL:
		if (!found) {
			r = -ENOENT;
			break;
		}
		list_remove(&found->node);
		file_put(found->file);
		kfree(found);
		break;
	default:
		r = -EINVAL;
	}
	spin_unlock_irqrestore(&ep->lock, fl);
	notify();
out:
	if (tf)
		file_put(tf);
	file_put(ef);
	return r;
}

static int ep_scan(struct epoll *ep, struct epoll_event *out, int max)
{
	int n = 0;
	uint64_t fl = spin_lock_irqsave(&ep->lock);
	struct interest *in;
	list_for_each_entry(in, &ep->interests, node) {
		if (n >= max)
			break;
		if (in->disabled)
			continue;
		unsigned m = file_poll(in->file);
		uint64_t gen = in->file->ops && in->file->ops->poll_gen ? in->file->ops->poll_gen(in->file) : 0;
		uint32_t ready = m & (in->events | EPOLLERR | EPOLLHUP);
		/* An edge: a bit that was not set, or a new event on the file (data
		 * that arrived after the reader drained it without a scan in between). */
		uint32_t report = (in->events & EPOLLET) ? (gen != in->gen ? ready : ready & ~in->last) : ready;
		in->last = ready;
		in->gen = gen;
		if (!report)
			continue;
		out[n].events = report;
		out[n].data = in->data;
		n++;
		if (in->events & EPOLLONESHOT)
			in->disabled = true;
	}
	spin_unlock_irqrestore(&ep->lock, fl);
	return n;
}

static long do_epoll_wait(int epfd, uint64_t uev, int max, int64_t ms)
{
	if (max <= 0 || max > 4096)
		return -EINVAL;
	struct file *f = fd_get(epfd);
	if (!f)
		return -EBADF;
	struct epoll *ep = epoll_of(f);
	if (!ep) {
		file_put(f);
		return -EINVAL;
	}
	struct epoll_event *ev = kmalloc(sizeof(*ev) * max);
	if (!ev) {
		file_put(f);
		return -ENOMEM;
	}
	int n = 0;
	long r = 0;
	if (ms == 0)
		n = ep_scan(ep, ev, max);
	else
		r = WAIT_INTR((n = ep_scan(ep, ev, max)) > 0, deadline_from_ms(ms));
	if (r == -ETIMEDOUT)
		r = 0;
	if (!r && n && copy_to_user((void *)uev, ev, sizeof(*ev) * n))
		r = -EFAULT;
	kfree(ev);
	file_put(f);
	return r ? r : n;
}

SYSCALL(232, epoll_wait, 4)
{
	return do_epoll_wait(a0, a1, a2, (int32_t)a3);
}

SYSCALL(281, epoll_pwait, 6)
{
	int r = temp_sigmask(a4, a5);
	if (r)
		return r;
	return do_epoll_wait(a0, a1, a2, (int32_t)a3);
}
