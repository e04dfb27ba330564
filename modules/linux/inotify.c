/* inotify and dnotify (fcntl F_NOTIFY): watches on inodes, fed by the VFS's
 * change hook (vfs_event_hook). dnotify sends SIGIO for changes in a watched
 * directory (DN_CREATE, DN_DELETE, DN_RENAME, DN_MODIFY; DN_MULTISHOT).
 * inotify: 
 * Reported: IN_CREATE, IN_DELETE, IN_MOVED_FROM/TO (with a shared cookie),
 * IN_MODIFY (writes and truncation, to the file's own watch and to a watch on
 * the directory it was opened in), IN_DELETE_SELF and IN_IGNORED; IN_ISDIR,
 * IN_ONESHOT, IN_ONLYDIR, IN_MASK_ADD and IN_MASK_CREATE. Not reported:
 * IN_ACCESS, IN_ATTRIB, IN_OPEN, IN_CLOSE_*, IN_MOVE_SELF. */
#include "calls.h"
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <sched/wait.h>
#include <uaccess/uaccess.h>

#define IN_MODIFY 0x2
#define IN_ALL_EVENTS 0xfff
#define IN_DELETE_SELF 0x400
#define IN_Q_OVERFLOW 0x4000
#define IN_IGNORED 0x8000
#define IN_ONLYDIR 0x01000000
#define IN_DONT_FOLLOW 0x02000000
#define IN_EXCL_UNLINK 0x04000000
#define IN_MASK_CREATE 0x10000000
#define IN_MASK_ADD 0x20000000
#define IN_ISDIR 0x40000000
#define IN_ONESHOT 0x80000000u
#define MAX_QUEUED 16384

struct iev {
	int32_t wd;
	uint32_t mask, cookie, len;
};

struct event {
	struct list node;
	struct iev h;
	char name[];
};

struct watch {
	struct list node;
	int wd;
	uint32_t mask;
	struct inode *ino; /* a reference */
	bool dead;         /* deleted or one-shot: reported IN_IGNORED, reference dropped at close/rm */
};

struct instance {
	struct list node; /* instances */
	struct list watches, events;
	int next_wd, queued;
	uint64_t gen;
};

static spinlock_t lock = SPINLOCK_INIT;
static struct list instances = LIST_INIT(instances);

#define DN_MODIFY 0x2
#define DN_CREATE 0x4
#define DN_DELETE 0x8
#define DN_RENAME 0x10
#define DN_MULTISHOT 0x80000000u

struct dnotify {
	struct list node;
	struct file *file; /* the descriptor's open file (a reference: kept until F_NOTIFY replaces it,
			    * as there is no hook at close) */
	struct inode *dir;  /* a reference */
	uint32_t mask;
	int pid;            /* who gets SIGIO */
};
static struct list dnotifies = LIST_INIT(dnotifies);

/* dnotify bits an inotify event stands for. */
static uint32_t dn_bits(uint32_t mask)
{
	switch (mask & ~IN_ISDIR) {
	case 0x100: /* IN_CREATE */
		return DN_CREATE;
	case 0x200: /* IN_DELETE */
		return DN_DELETE;
	case 0x40: /* IN_MOVED_FROM */
	case 0x80: /* IN_MOVED_TO */
		return DN_RENAME;
	case IN_MODIFY:
		return DN_MODIFY;
	default:
		return 0;
	}
}

/* Queue an event (lock held); identical back-to-back events merge, as on Linux. */
static void queue(struct instance *in, int wd, uint32_t mask, uint32_t cookie, const char *name, size_t len)
{
	uint32_t padded = len ? (uint32_t)((len + 1 + 15) & ~15ul) : 0;
	if (!list_empty(&in->events)) {
		struct event *last = list_entry(in->events.prev, struct event, node);
		if (last->h.wd == wd && last->h.mask == mask && last->h.cookie == cookie && last->h.len == padded &&
		    (!len || !strncmp(last->name, name, len)))
			return;
	}
	if (in->queued >= MAX_QUEUED) {
		wd = -1, mask = IN_Q_OVERFLOW, cookie = 0, len = padded = 0;
		if (in->queued > MAX_QUEUED)
			return;
	}
	struct event *e = kzalloc(sizeof(*e) + padded);
	if (!e)
		return;
	e->h = (struct iev){ wd, mask, cookie, padded };
	memcpy(e->name, name, len);
	list_push_back(&in->events, &e->node);
	in->queued++;
	in->gen++;
}

/* Does path (absolute) name an entry of directory dir? *base gets its last part. */
static bool in_dir(struct inode *dir, const char *path, size_t len, const char **base, size_t *blen)
{
	char buf[VFS_PATH_MAX];
	const char *slash = NULL;
	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			slash = path + i;
	if (!slash || !S_ISDIR(dir->mode))
		return false;
	ssize_t n = vfs_dir_path(dir, buf, sizeof(buf));
	size_t dlen = slash == path ? 1 : (size_t)(slash - path);
	if (n < 0 || (size_t)n != dlen || memcmp(buf, path, dlen))
		return false;
	*base = slash + 1;
	*blen = len - (slash + 1 - path);
	return true;
}

static void hook(struct inode *dir, const char *name, size_t len, struct inode *ino, uint32_t mask, uint32_t cookie)
{
	bool any = false;
	uint64_t f = spin_lock_irqsave(&lock);
	struct instance *in;
	list_for_each_entry(in, &instances, node) {
		struct watch *w;
		list_for_each_entry(w, &in->watches, node) {
			if (w->dead)
				continue;
			const char *n = name;
			size_t l = len;
			bool hit;
			if (dir)
				hit = w->ino == dir;
			else if (w->ino == ino)
				hit = true, n = NULL, l = 0;
			else
				hit = mask == IN_MODIFY && name && in_dir(w->ino, name, len, &n, &l);
			if (!hit)
				continue;
			if (mask == IN_DELETE_SELF) {
				queue(in, w->wd, IN_DELETE_SELF, 0, NULL, 0);
				queue(in, w->wd, IN_IGNORED, 0, NULL, 0);
				w->dead = true;
				any = true;
				continue;
			}
			if (!(w->mask & mask & IN_ALL_EVENTS))
				continue;
			queue(in, w->wd, mask, cookie, n, l);
			any = true;
			if (w->mask & IN_ONESHOT) {
				queue(in, w->wd, IN_IGNORED, 0, NULL, 0);
				w->dead = true;
			}
		}
	}
	int sigio = 0;
	struct dnotify *d;
	list_for_each_entry(d, &dnotifies, node) {
		const char *n;
		size_t l;
		bool hit = dir ? d->dir == dir : mask == IN_MODIFY && name && in_dir(d->dir, name, len, &n, &l);
		if (!hit || !(d->mask & dn_bits(mask)))
			continue;
		sigio = d->pid;
		if (!(d->mask & DN_MULTISHOT))
			d->mask = 0; /* spent, until the next F_NOTIFY */
	}
	spin_unlock_irqrestore(&lock, f);
	if (any)
		poll_notify();
	if (sigio) {
		struct ksiginfo si = { .signo = SIGIO, .code = 0x80 /* SI_KERNEL */ };
		signal_to_pid(sigio, SIGIO, &si);
	}
}

static ssize_t in_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)pos;
	struct instance *in = f->priv;
	for (;;) {
		size_t done = 0;
		long r = 0;
		uint64_t fl = spin_lock_irqsave(&lock);
		while (!list_empty(&in->events)) {
			struct event *e = list_first_entry(&in->events, struct event, node);
			size_t sz = sizeof(e->h) + e->h.len;
			if (done + sz > n) {
				if (!done)
					r = -EINVAL;
				break;
			}
			memcpy((char *)buf + done, &e->h, sizeof(e->h));
			memcpy((char *)buf + done + sizeof(e->h), e->name, e->h.len);
			done += sz;
			list_remove(&e->node);
			in->queued--;
			kfree(e);
		}
		spin_unlock_irqrestore(&lock, fl);
		if (r)
			return r;
		if (done)
			return done;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		r = WAIT_INTR(!list_empty(&in->events), 0);
		if (r)
			return r;
	}
}

static unsigned in_poll(struct file *f)
{
	struct instance *in = f->priv;
	return READ_ONCE(in->queued) ? POLLIN | POLLRDNORM : 0;
}

static uint64_t in_poll_gen(struct file *f)
{
	return READ_ONCE(((struct instance *)f->priv)->gen);
}

#define FIONREAD 0x541b

static int in_ioctl(struct file *f, unsigned cmd, unsigned long arg)
{
	struct instance *in = f->priv;
	if (cmd != FIONREAD)
		return -ENOTTY;
	int32_t total = 0;
	uint64_t fl = spin_lock_irqsave(&lock);
	struct event *e;
	list_for_each_entry(e, &in->events, node)
		total += sizeof(e->h) + e->h.len;
	spin_unlock_irqrestore(&lock, fl);
	return copy_to_user((void *)arg, &total, sizeof(total));
}

static void in_release(struct file *f)
{
	struct instance *in = f->priv;
	uint64_t fl = spin_lock_irqsave(&lock);
	list_remove(&in->node);
	spin_unlock_irqrestore(&lock, fl);
	struct list *n;
	while ((n = list_pop_front(&in->watches))) {
		struct watch *w = list_entry(n, struct watch, node);
		inode_put(w->ino);
		kfree(w);
	}
	while ((n = list_pop_front(&in->events)))
		kfree(list_entry(n, struct event, node));
	kfree(in);
}

static const struct file_ops in_ops = {
	.read = in_read,
	.poll = in_poll,
	.poll_gen = in_poll_gen,
	.ioctl = in_ioctl,
	.release = in_release,
	.stream = true,
};

SYSCALL(294, inotify_init1, 1)
{
	if (a0 & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	struct instance *in = kzalloc(sizeof(*in));
	if (!in)
		return -ENOMEM;
	list_init(&in->watches);
	list_init(&in->events);
	in->next_wd = 1;
	struct file *f = anon_file(S_IFREG, &in_ops, in, O_RDONLY | (a0 & O_NONBLOCK));
	if (!f) {
		kfree(in);
		return -ENOMEM;
	}
	uint64_t fl = spin_lock_irqsave(&lock);
	list_push_back(&instances, &in->node);
	spin_unlock_irqrestore(&lock, fl);
	__atomic_store_n(&vfs_event_hook, hook, __ATOMIC_RELEASE);
	int fd = fd_install(f, 0, a0 & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

SYSCALL(253, inotify_init, 0)
{
	return sys_inotify_init1(0, 0, 0, 0, 0, 0);
}

/* The instance behind fd (a file reference in *fp): -EBADF, or -EINVAL. */
static long instance_of(int fd, struct file **fp, struct instance **out)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (f->ops != &in_ops) {
		file_put(f);
		return -EINVAL;
	}
	*fp = f;
	*out = f->priv;
	return 0;
}

SYSCALL(254, inotify_add_watch, 3)
{
	uint32_t mask = a2;
	struct file *f;
	struct instance *in;
	long r = instance_of(a0, &f, &in);
	if (r)
		return r;
	char *path = NULL;
	struct inode *base = NULL, *ino = NULL;
	if (!(mask & IN_ALL_EVENTS) || ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE))) {
		r = -EINVAL;
		goto out;
	}
	r = user_path((const char *)a1, &path);
	if (r)
		goto out;
	r = fd_dirbase(AT_FDCWD, path, &base);
	if (!r)
		r = vfs_walk(base, path, (mask & IN_DONT_FOLLOW) ? WALK_NOFOLLOW : 0, &ino, NULL, NULL);
	if (r)
		goto out;
	if ((mask & IN_ONLYDIR) && !S_ISDIR(ino->mode)) {
		r = -ENOTDIR;
		goto out;
	}
	struct watch *nw = kzalloc(sizeof(*nw));
	if (!nw) {
		r = -ENOMEM;
		goto out;
	}
	uint32_t keep = IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK;
	uint64_t fl = spin_lock_irqsave(&lock);
	struct watch *w, *found = NULL;
	list_for_each_entry(w, &in->watches, node)
		if (w->ino == ino && !w->dead)
			found = w;
	if (found && (mask & IN_MASK_CREATE)) {
		r = -EEXIST;
	} else if (found) {
		found->mask = (mask & IN_MASK_ADD) ? found->mask | (mask & keep) : mask & keep;
		r = found->wd;
	} else {
		nw->wd = in->next_wd++;
		nw->mask = mask & keep;
		nw->ino = ino;
		ino = NULL; /* the watch holds the reference */
		list_push_back(&in->watches, &nw->node);
		r = nw->wd;
		nw = NULL;
	}
	spin_unlock_irqrestore(&lock, fl);
	kfree(nw);
out:
	if (ino)
		inode_put(ino);
	if (base)
		inode_put(base);
	kfree(path);
	file_put(f);
	return r;
}

SYSCALL(255, inotify_rm_watch, 2)
{
	struct file *f;
	struct instance *in;
	long r = instance_of(a0, &f, &in);
	if (r)
		return r;
	struct watch *w, *found = NULL;
	uint64_t fl = spin_lock_irqsave(&lock);
	list_for_each_entry(w, &in->watches, node)
		if (w->wd == (int)a1)
			found = w;
	if (found) {
		if (!found->dead)
			queue(in, found->wd, IN_IGNORED, 0, NULL, 0);
		list_remove(&found->node);
	}
	spin_unlock_irqrestore(&lock, fl);
	file_put(f);
	if (!found)
		return -EINVAL;
	bool was_dead = found->dead;
	inode_put(found->ino);
	kfree(found);
	if (!was_dead)
		poll_notify();
	return was_dead ? -EINVAL : 0;
}

/* fcntl(fd, F_NOTIFY, mask): replace the descriptor's registration; 0 removes it. */
long dnotify_set(struct file *f, uint64_t arg)
{
	if (!S_ISDIR(f->inode->mode))
		return -ENOTDIR;
	struct dnotify *nd = (arg & ~(uint64_t)DN_MULTISHOT) ? kzalloc(sizeof(*nd)) : NULL;
	if ((arg & ~(uint64_t)DN_MULTISHOT) && !nd)
		return -ENOMEM;
	struct dnotify *d, *old = NULL;
	uint64_t fl = spin_lock_irqsave(&lock);
	list_for_each_entry(d, &dnotifies, node)
		if (d->file == f)
			old = d;
	if (old)
		list_remove(&old->node);
	if (nd) {
		nd->file = file_get(f);
		nd->pid = proc.pid;
		nd->dir = inode_get(f->inode);
		nd->mask = arg;
		list_push_back(&dnotifies, &nd->node);
	}
	spin_unlock_irqrestore(&lock, fl);
	if (nd)
		__atomic_store_n(&vfs_event_hook, hook, __ATOMIC_RELEASE);
	if (old) {
		inode_put(old->dir);
		file_put(old->file);
		kfree(old);
	}
	return 0;
}
