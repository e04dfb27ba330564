/* Root filesystem: a tmpfs mounted at /, filled from the boot initrd (a newc
 * cpio archive) when the loader passed one. The archive is untrusted: paths
 * are normalised and ".." is refused, sizes and types are checked, and a
 * malformed archive stops the boot with one line naming the offset. */
#include "cpio.h"
#include <boot/boot_info.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <lib/panic.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <tmpfs/tmpfs.h>
#include <vfs/errno.h>

struct hardlink {
	uint32_t ino;
	char *path;
};

static struct hardlink *links;
static size_t nlinks, caplinks;

/* "./a//b/" -> "/a/b"; NULL when the path has a ".." component or is too long. */
static char *normalise(const char *name, size_t len)
{
	char *out = kmalloc(len + 2);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		while (i < len && name[i] == '/')
			i++;
		size_t s = i;
		while (i < len && name[i] != '/')
			i++;
		size_t n = i - s;
		if (n == 0 || (n == 1 && name[s] == '.'))
			continue;
		if ((n == 2 && name[s] == '.' && name[s + 1] == '.') || n > VFS_NAME_MAX) {
			kfree(out);
			return NULL;
		}
		out[o++] = '/';
		memcpy(out + o, name + s, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = 0;
	if (o >= VFS_PATH_MAX) {
		kfree(out);
		return NULL;
	}
	return out;
}

/* mkdir -p of path's parent directories. */
static void make_parents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		int r = vfs_mkdir(NULL, path, 0755);
		*p = '/';
		if (r && r != -EEXIST)
			return;
	}
}

static void set_attrs(const char *path, const struct cpio_entry *e)
{
	struct inode *ino;
	if (vfs_walk(NULL, path, WALK_NOFOLLOW, &ino, NULL, NULL))
		return;
	vfs_lock();
	ino->mode = (ino->mode & S_IFMT) | (e->mode & 07777);
	ino->uid = e->uid;
	ino->gid = e->gid;
	ino->mtime.sec = e->mtime;
	ino->mtime.nsec = 0;
	ino->atime = ino->ctime = ino->mtime;
	vfs_unlock();
	inode_put(ino);
}

static const char *remember_link(const struct cpio_entry *e, const char *path)
{
	for (size_t i = 0; i < nlinks; i++)
		if (links[i].ino == e->ino)
			return links[i].path;
	if (nlinks == caplinks) {
		size_t cap = caplinks ? caplinks * 2 : 16;
		struct hardlink *n = kcalloc(cap, sizeof(*n));
		if (!n)
			return NULL;
		if (links)
			memcpy(n, links, nlinks * sizeof(*n));
		kfree(links);
		links = n;
		caplinks = cap;
	}
	size_t l = strlen(path);
	char *copy = kmalloc(l + 1);
	if (!copy)
		return NULL;
	memcpy(copy, path, l + 1);
	links[nlinks++] = (struct hardlink){ e->ino, copy };
	return NULL;
}

static int unpack_file(const char *path, const struct cpio_entry *e)
{
	struct file *f;
	int r;

	if (e->nlink > 1) {
		const char *first = remember_link(e, path);
		if (first) {
			r = vfs_link(NULL, first, NULL, path, 0);
			if (r)
				return r;
			if (!e->size)
				return 0;
			/* newc stores the data with the last link: write it through this name. */
		}
	}
	r = vfs_open(NULL, path, O_WRONLY | O_CREAT | O_TRUNC, e->mode & 07777, &f);
	if (r)
		return r;
	ssize_t n = e->size ? vfs_write(f, e->data, e->size, &f->pos) : 0;
	file_put(f);
	if (n < 0)
		return n;
	return (size_t)n == e->size ? 0 : -ENOSPC;
}

static int unpack_entry(const struct cpio_entry *e, size_t *nfiles)
{
	char *path = normalise(e->name, e->namelen);
	int r = 0;

	if (!path) {
		printk(LOG_WARN, "initrd: skipping \"%s\": the path escapes the root or is too long\n", e->name);
		return 0;
	}
	if (!strcmp(path, "/")) {
		kfree(path);
		return 0;
	}
	make_parents(path);
	char *target = NULL;
	switch (e->mode & S_IFMT) {
	case S_IFDIR:
		r = vfs_mkdir(NULL, path, e->mode & 07777);
		if (r == -EEXIST)
			r = 0;
		break;
	case S_IFREG:
		r = unpack_file(path, e);
		break;
	case S_IFLNK:
		if (e->size == 0 || e->size >= VFS_PATH_MAX) {
			printk(LOG_WARN, "initrd: skipping symlink \"%s\": bad target length %zu\n", path, e->size);
			break;
		}
		target = kmalloc(e->size + 1);
		if (!target) {
			r = -ENOMEM;
			break;
		}
		memcpy(target, e->data, e->size);
		target[e->size] = 0;
		if (strlen(target) != e->size) {
			printk(LOG_WARN, "initrd: skipping symlink \"%s\": NUL in target\n", path);
			break;
		}
		r = vfs_symlink(NULL, target, path);
		break;
	default:
		/* Device nodes, fifos, sockets: devfs provides the devices; nothing else is needed. */
		printk(LOG_INFO, "initrd: skipping \"%s\" (file type %#o)\n", path, e->mode & S_IFMT);
		kfree(path);
		return 0;
	}
	if (!r && (e->mode & S_IFMT) != S_IFLNK)
		set_attrs(path, e);
	if (!r)
		(*nfiles)++;
	else
		printk(LOG_ERR, "initrd: cannot create \"%s\": error %d\n", path, r);
	kfree(target);
	kfree(path);
	return r;
}

static int rootfs_init(void)
{
	if (vfs_root()) {
		/* Another filesystem (a 9p root) took / first. */
		if (boot_info.initrd_size)
			printk(LOG_WARN, "initrd: / is already mounted; the initrd is not used\n");
		return 0;
	}
	struct inode *root = tmpfs_new("rootfs");
	if (!root || vfs_mount_root(root))
		panic("initrd: cannot create the root tmpfs");
	if (!boot_info.initrd_size) {
		printk(LOG_INFO, "initrd: none; the root filesystem is empty\n");
		return 0;
	}
	if (boot_info.initrd_base + boot_info.initrd_size < boot_info.initrd_base)
		panic("initrd: bad location %#lx+%#lx", (unsigned long)boot_info.initrd_base,
		      (unsigned long)boot_info.initrd_size);
	const uint8_t *buf = phys_to_virt(boot_info.initrd_base);
	size_t len = boot_info.initrd_size, off = 0, nfiles = 0;
	struct cpio_entry e;
	const char *why = NULL;
	int r;

	while ((r = cpio_next(buf, len, &off, &e, &why)) == 1) {
		if (unpack_entry(&e, &nfiles) == -ENOSPC)
			panic("initrd: out of memory unpacking \"%s\" (%zu bytes); give the VM more memory",
			      e.name, e.size);
	}
	if (r < 0)
		panic("initrd: malformed archive at offset %zu: %s", off, why);
	for (size_t i = 0; i < nlinks; i++)
		kfree(links[i].path);
	kfree(links);
	links = NULL;
	nlinks = caplinks = 0;
	printk(LOG_INFO, "initrd: %zu entries unpacked from %zu KiB\n", nfiles, len >> 10);
	/* The archive's memory is not needed any more. */
	page_release_range(boot_info.initrd_base, boot_info.initrd_size);
	return 0;
}

INITCALL(INIT_FS, rootfs_init);
