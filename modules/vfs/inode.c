/* Inode references, the big filesystem lock, and the clock for timestamps. */
#include <vfs/vfs.h>
#include <arch/cpu.h>
#include <sched/mutex.h>
#include <sched/thread.h>
#include <mm/kmalloc.h>
#include <lib/panic.h>
#include <time/clock.h>



/* One lock for all filesystem metadata and data: simple and enough while
 * filesystems are small. It is a sleeping lock so that filesystems backed by
 * devices (9p, ZFS on a disk) can wait for their replies with it held; so it
 * must never be taken from interrupt context or with a spinlock held.
 * Filesystem ops run with it held and must not call back into the locking
 * vfs_* functions. */
static struct mutex big = MUTEX_INIT(big);

void vfs_lock(void)
{
	if (thread_current() && !irqs_enabled())
		panic("vfs_lock: called with interrupts off (a spinlock held?)");
	mutex_lock(&big);
}

void vfs_unlock(void)
{
	mutex_unlock(&big);
}

void vfs_now(struct vfs_time *t)
{
	uint64_t ns = clock_realtime_ns();
	t->sec = ns / NSEC_PER_SEC;
	t->nsec = ns % NSEC_PER_SEC;
}

struct inode *inode_get(struct inode *ino)
{
	if (ino)
		__atomic_add_fetch(&ino->refs, 1, __ATOMIC_RELAXED);
	return ino;
}

void inode_put(struct inode *ino)
{
	if (!ino)
		return;
	int r = __atomic_sub_fetch(&ino->refs, 1, __ATOMIC_ACQ_REL);
	if (r < 0)
		panic("vfs: inode %lu reference count below zero", (unsigned long)ino->ino);
	if (r == 0 && ino->nlink == 0) {
		if (ino->iops && ino->iops->destroy)
			ino->iops->destroy(ino);
		kfree(ino->name);
		kfree(ino);
	}
}

struct inode *inode_new(struct super *sb, uint32_t mode)
{
	struct inode *ino = kzalloc(sizeof(*ino));
	if (!ino)
		return NULL;
	ino->sb = sb;
	ino->ino = ++sb->next_ino;
	ino->mode = mode;
	ino->nlink = 1;
	ino->refs = 1;
	vfs_now(&ino->mtime);
	ino->atime = ino->ctime = ino->mtime;
	return ino;
}

const struct fs_type *vfs_fs_type(const char *name)
{
	const struct fs_type *t;
	ktable_foreach(t, fs_type) {
		const char *a = t->name, *b = name;
		while (*a && *a == *b)
			a++, b++;
		if (*a == *b)
			return t;
	}
	return NULL;
}
