/* memfd_create: an anonymous tmpfs file (created in a private tmpfs and
 * unlinked at once), with file seals (F_ADD_SEALS/F_GET_SEALS) that the
 * file's write and truncate honour. */
#include "calls.h"
#include <lib/printf.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <tmpfs/tmpfs.h>
#include <uaccess/uaccess.h>

#define MFD_CLOEXEC 1
#define MFD_ALLOW_SEALING 2
#define MFD_NAME_MAX 249
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x1
#define F_SEAL_SHRINK 0x2
#define F_SEAL_GROW 0x4
#define F_SEAL_WRITE 0x8
#define F_SEAL_FUTURE_WRITE 0x10
#define SEALS_ALL (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

struct memfd {
	struct list node;
	struct inode *ino;
	unsigned seals;
};

static spinlock_t lock = SPINLOCK_INIT;
static struct list memfds = LIST_INIT(memfds);
static struct inode *root;
static struct inode_ops iops;          /* tmpfs's, with truncate and destroy checked here */
static struct file_ops fops;           /* tmpfs's, with write checked here */
static const struct inode_ops *tmpfs_iops;
static const struct file_ops *tmpfs_fops;
static uint64_t counter;

/* The seal record of ino (memfd inodes only), under lock. */
static struct memfd *find(struct inode *ino)
{
	struct memfd *m;
	list_for_each_entry(m, &memfds, node)
		if (m->ino == ino)
			return m;
	return NULL;
}

static unsigned seals_of(struct inode *ino)
{
	uint64_t f = spin_lock_irqsave(&lock);
	struct memfd *m = find(ino);
	unsigned s = m ? m->seals : 0;
	spin_unlock_irqrestore(&lock, f);
	return s;
}

static ssize_t m_write(struct file *f, const void *buf, size_t n, uint64_t *pos)
{
	unsigned s = seals_of(f->inode);
	if (s & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return -EPERM;
	uint64_t at = (f->flags & O_APPEND) ? f->inode->size : *pos;
	if ((s & F_SEAL_GROW) && at + n > f->inode->size)
		return -EPERM;
	return tmpfs_fops->write(f, buf, n, pos);
}

static int m_truncate(struct inode *ino, uint64_t size)
{
	unsigned s = seals_of(ino);
	if ((s & F_SEAL_SHRINK) && size < ino->size)
		return -EPERM;
	if ((s & F_SEAL_GROW) && size > ino->size)
		return -EPERM;
	return tmpfs_iops->truncate(ino, size);
}

static void m_destroy(struct inode *ino)
{
	uint64_t f = spin_lock_irqsave(&lock);
	struct memfd *m = find(ino);
	if (m)
		list_remove(&m->node);
	spin_unlock_irqrestore(&lock, f);
	kfree(m);
	tmpfs_iops->destroy(ino);
}

static int setup(void)
{
	if (__atomic_load_n(&root, __ATOMIC_ACQUIRE))
		return 0;
	struct inode *r = tmpfs_new("tmpfs");
	if (!r)
		return -ENOMEM;
	uint64_t f = spin_lock_irqsave(&lock);
	if (root) {
		spin_unlock_irqrestore(&lock, f);
		inode_put(r);
		return 0;
	}
	tmpfs_iops = r->iops;
	iops = *r->iops;
	iops.truncate = m_truncate;
	iops.destroy = m_destroy;
	__atomic_store_n(&root, r, __ATOMIC_RELEASE);
	spin_unlock_irqrestore(&lock, f);
	return 0;
}

SYSCALL(319, memfd_create, 2)
{
	char name[MFD_NAME_MAX + 1];
	if (a1 & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING))
		return -EINVAL;
	long n = strncpy_from_user(name, (const char *)a0, sizeof(name));
	if (n < 0)
		return n;
	if (n >= (long)sizeof(name))
		return -EINVAL;
	int r = setup();
	if (r)
		return r;
	struct memfd *m = kzalloc(sizeof(*m));
	char *path = kmalloc(VFS_NAME_MAX + 32);
	if (!m || !path) {
		kfree(m);
		kfree(path);
		return -ENOMEM;
	}
	char tmp[32];
	struct inode *ino = NULL;
	vfs_lock();
	int len = snprintf(tmp, sizeof(tmp), "%lu", (unsigned long)__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	r = root->iops->create(root, tmp, len, S_IFREG | 0777, NULL, &ino);
	if (!r)
		root->iops->unlink(root, tmp, len, false);
	vfs_unlock();
	if (r) {
		kfree(m);
		kfree(path);
		return r;
	}
	if (!tmpfs_fops) {
		tmpfs_fops = ino->fops;
		fops = *ino->fops;
		fops.write = m_write;
	}
	ino->iops = &iops;
	ino->fops = &fops;
	m->ino = ino;
	m->seals = (a1 & MFD_ALLOW_SEALING) ? 0 : F_SEAL_SEAL;
	uint64_t fl = spin_lock_irqsave(&lock);
	list_push_back(&memfds, &m->node);
	spin_unlock_irqrestore(&lock, fl);
	struct file *f = file_open_inode(ino, O_RDWR | O_LARGEFILE, &r);
	inode_put(ino);
	if (!f) {
		kfree(path);
		return r;
	}
	snprintf(path, VFS_NAME_MAX + 32, "/memfd:%s (deleted)", name);
	f->path = path;
	int fd = fd_install(f, 0, a1 & MFD_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

long memfd_seals(struct file *f, unsigned cmd, uint64_t arg)
{
	uint64_t fl = spin_lock_irqsave(&lock);
	struct memfd *m = f->inode->iops == &iops ? find(f->inode) : NULL;
	long r;
	if (!m)
		r = -EINVAL;
	else if (cmd == F_GET_SEALS)
		r = m->seals;
	else if (arg & ~(uint64_t)SEALS_ALL)
		r = -EINVAL;
	else if ((f->flags & O_ACCMODE) == O_RDONLY)
		r = -EPERM;
	else if (m->seals & F_SEAL_SEAL)
		r = -EPERM;
	else {
		m->seals |= arg;
		r = 0;
	}
	spin_unlock_irqrestore(&lock, fl);
	return r;
}
