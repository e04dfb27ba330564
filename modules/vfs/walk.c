/* Mount table and path walk. */
#include <vfs/vfs.h>
#include <vfs/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>

#define MAX_MOUNTS 16

static struct mount mounts[MAX_MOUNTS];
static int nmounts;
static struct inode *root;
static struct inode *cwd;

struct inode *vfs_root(void)
{
	return root;
}

struct inode **(*vfs_cwd_slot)(void);

static struct inode **cwd_slot(void)
{
	struct inode **s = vfs_cwd_slot ? vfs_cwd_slot() : NULL;
	return s ? s : &cwd;
}

struct inode *vfs_cwd(void)
{
	struct inode *c = *cwd_slot();
	return c ? c : root;
}

void vfs_set_cwd(struct inode *dir)
{
	struct inode **s = cwd_slot();
	struct inode *old = *s;
	*s = inode_get(dir);
	inode_put(old);
}

int vfs_mount_root(struct inode *r)
{
	if (root)
		return -EBUSY;
	r->parent = r;
	root = r;
	mounts[nmounts++] = (struct mount){ r, NULL, "/" };
	return 0;
}

static struct mount *mount_of_root(struct inode *dir)
{
	for (int i = 0; i < nmounts; i++)
		if (mounts[i].root == dir)
			return &mounts[i];
	return NULL;
}

int vfs_mount(const char *path, struct inode *fsroot)
{
	struct inode *dir;
	int r = vfs_walk(NULL, path, 0, &dir, NULL, NULL);

	if (r)
		return r;
	vfs_lock();
	if (!S_ISDIR(dir->mode))
		r = -ENOTDIR;
	else if (dir->mounted)
		r = -EBUSY;
	else if (nmounts == MAX_MOUNTS)
		r = -ENOMEM;
	if (!r) {
		struct mount *m = &mounts[nmounts++];
		*m = (struct mount){ fsroot, dir, path };
		fsroot->parent = fsroot;
		dir->mounted = m;
		dir = NULL; /* the mount keeps the reference */
	}
	vfs_unlock();
	inode_put(dir);
	return r;
}

/* ".." of dir, stepping out of mounted filesystems. Returns a new reference. */
static struct inode *parent_of(struct inode *dir)
{
	for (;;) {
		if (dir == root)
			return inode_get(root);
		struct mount *m = mount_of_root(dir);
		if (!m || !m->covered)
			break;
		dir = m->covered;
	}
	return inode_get(dir->parent ? dir->parent : dir);
}

ssize_t vfs_dir_path(struct inode *dir, char *buf, size_t size)
{
	size_t pos = size;

	if (size < 2)
		return -ERANGE;
	buf[--pos] = 0;
	for (;;) {
		if (dir == root)
			break;
		struct mount *m = mount_of_root(dir);
		if (m && m->covered) {
			dir = m->covered;
			continue;
		}
		if (!dir->name || !dir->parent || dir->parent == dir)
			break;
		size_t n = strlen(dir->name);
		if (n + 1 > pos)
			return -ERANGE;
		pos -= n;
		memcpy(buf + pos, dir->name, n);
		buf[--pos] = '/';
		dir = dir->parent;
	}
	if (pos == size - 1)
		buf[--pos] = '/';
	size_t len = size - 1 - pos;
	memmove(buf, buf + pos, len + 1);
	return len;
}

/* Walks path from *cur (a reference the walk consumes); on success *cur is the result. */
static int walk(struct inode **cur, const char *path, unsigned flags, int *links, const char **last,
		size_t *lastlen)
{
	struct inode *dir = *cur;
	const char *p = path;
	int r;

	if (*p == '/') {
		inode_put(dir);
		dir = inode_get(root);
	}
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p) {
			/* "/" or a path ending in slashes after a directory. */
			if (flags & WALK_PARENT) {
				if (last)
					*last = p;
				if (lastlen)
					*lastlen = 0;
			}
			*cur = dir;
			return 0;
		}
		const char *name = p;
		while (*p && *p != '/')
			p++;
		size_t len = p - name;
		bool trailing = *p == '/';
		const char *rest = p;
		while (*rest == '/')
			rest++;
		bool final = !*rest;

		if (!S_ISDIR(dir->mode)) {
			r = -ENOTDIR;
			goto fail;
		}
		if (len > VFS_NAME_MAX) {
			r = -ENAMETOOLONG;
			goto fail;
		}
		if (final && (flags & WALK_PARENT)) {
			if (last)
				*last = name;
			if (lastlen)
				*lastlen = len;
			*cur = dir;
			return 0;
		}

		struct inode *next;
		if (len == 1 && name[0] == '.') {
			next = inode_get(dir);
		} else if (len == 2 && name[0] == '.' && name[1] == '.') {
			next = parent_of(dir);
		} else {
			if (!dir->iops || !dir->iops->lookup) {
				r = -ENOTDIR;
				goto fail;
			}
			r = dir->iops->lookup(dir, name, len, &next);
			if (r)
				goto fail;
		}
		while (next->mounted) {
			struct inode *m = inode_get(next->mounted->root);
			inode_put(next);
			next = m;
		}

		if (S_ISLNK(next->mode) && (!final || trailing || !(flags & WALK_NOFOLLOW))) {
			if (++*links > VFS_SYMLINK_MAX || !next->iops || !next->iops->readlink) {
				r = *links > VFS_SYMLINK_MAX ? -ELOOP : -EINVAL;
				inode_put(next);
				goto fail;
			}
			char *target = kmalloc(VFS_PATH_MAX);
			if (!target) {
				inode_put(next);
				r = -ENOMEM;
				goto fail;
			}
			ssize_t n = next->iops->readlink(next, target, VFS_PATH_MAX - 1);
			inode_put(next);
			if (n <= 0) {
				kfree(target);
				r = n < 0 ? (int)n : -ENOENT;
				goto fail;
			}
			target[n] = 0;
			/* Resolve the target from dir; the walk consumes dir's reference. */
			struct inode *t = dir;
			dir = NULL;
			r = walk(&t, target, 0, links, NULL, NULL);
			kfree(target);
			if (r)
				return r;
			next = t;
		} else {
			inode_put(dir);
		}
		dir = next;
		if (final) {
			if (trailing && !S_ISDIR(dir->mode)) {
				r = -ENOTDIR;
				goto fail;
			}
			*cur = dir;
			return 0;
		}
		p = rest;
	}
fail:
	inode_put(dir);
	return r;
}

int vfs_walk(struct inode *base, const char *path, unsigned flags, struct inode **out, const char **last,
	     size_t *lastlen)
{
	int links = 0;

	if (!root)
		return -ENOENT;
	if (!*path)
		return -ENOENT;
	vfs_lock();
	struct inode *cur = inode_get(base ? base : vfs_cwd());
	int r = walk(&cur, path, flags, &links, last, lastlen);
	vfs_unlock();
	if (r == 0)
		*out = cur;
	return r;
}

/* Defined apart from vfs_fs_type() (inode.c), which walks the table: in the
 * same file gcc may constant-fold loads through the zero-length start marker. */
KTABLE_DEFINE(struct fs_type, fs_type);
