/*
 * ZFS through the VFS, read-only. One inode per ZPL object for the mount's
 * life (the table holds a reference), each with its dnode (bonus copied) so a
 * read goes straight to its blocks. A directory's listing is read from its
 * ZAP on the first readdir and kept. The pool's mutex serialises every read:
 * page faults read files without the VFS lock.
 *
 * zfs.root=DISK mounts DISK's root dataset as / and zfs.mount=DISK:/PATH
 * mounts it at PATH (osvb run writes both).
 */
#include "zfs_impl.h"
#include <block/block.h>
#include <cmdline/cmdline.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <lib/panic.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <vfs/errno.h>
#include <vfs/stat.h>
#include <vfs/vfs.h>

CMDLINE_PARAM(zfs_root, "zfs.root", "mount the ZFS pool on disk DISK as the root filesystem: zfs.root=DISK");
CMDLINE_PARAM(zfs_mount, "zfs.mount", "mount the ZFS pool on disk DISK at PATH (read-only): zfs.mount=DISK:/PATH");

#define NODE_BUCKETS 256
#define ZFS_DIRENT_OBJ(v) ((v) & ((1ULL << 48) - 1))

struct zdent {
	char *name;
	size_t len;
	uint64_t ino;
	unsigned type;
};

struct znode {
	struct dnode dn;
	struct inode *inode;
	struct znode *next;
	struct zdent *dents;
	size_t ndents;
	bool listed;
};

struct zfs_sb {
	struct super super;
	struct zfs_pool pool;
	struct zfs_fs fs;
	struct znode *nodes[NODE_BUCKETS];
};

static const struct inode_ops zfs_iops;
static const struct file_ops zfs_fops;
static uint32_t next_dev = 0xa00;

static struct zfs_sb *sb_of(struct inode *ino) { return ino->sb->priv; }
static struct znode *node_of(struct inode *ino) { return ino->priv; }

static struct vfs_time ztime(const uint64_t t[2])
{
	return (struct vfs_time){ (int64_t)t[0], (int64_t)t[1] };
}

/* The inode of object obj (a new reference); the caller holds the pool lock. */
static int inode_for(struct zfs_sb *sb, uint64_t obj, struct inode *parent, const char *name, size_t len,
		     struct inode **out)
{
	unsigned b = obj % NODE_BUCKETS;
	for (struct znode *n = sb->nodes[b]; n; n = n->next) {
		if (n->dn.obj == obj) {
			*out = inode_get(n->inode);
			return 0;
		}
	}
	struct znode *n = kzalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	struct zattr za;
	int e = dnode_get(&sb->fs.os, obj, &n->dn);
	if (e) {
		kfree(n);
		return e == -ENOENT ? -EIO : e;
	}
	e = znode_attrs(&sb->fs, &n->dn, &za);
	struct inode *ino = e ? NULL : inode_new(&sb->super, (uint32_t)za.mode);
	if (!ino) {
		dnode_release(&n->dn);
		kfree(n);
		return e ? e : -ENOMEM;
	}
	ino->ino = obj;
	ino->mode = (uint32_t)za.mode;
	ino->nlink = za.links ? (uint32_t)za.links : 1;
	ino->size = za.size;
	ino->uid = (uint32_t)za.uid;
	ino->gid = (uint32_t)za.gid;
	ino->rdev = (uint32_t)za.rdev;
	ino->atime = ztime(za.atime);
	ino->mtime = ztime(za.mtime);
	ino->ctime = ztime(za.ctime);
	ino->iops = &zfs_iops;
	ino->fops = &zfs_fops;
	ino->priv = n;
	n->inode = ino;
	n->next = sb->nodes[b];
	sb->nodes[b] = n;
	if (S_ISDIR(ino->mode) && parent) {
		char *nm = kmalloc(len + 1);
		if (nm) {
			memcpy(nm, name, len);
			nm[len] = 0;
			ino->name = nm;
		}
		ino->parent = parent;
	}
	inode_get(ino); /* the table's */
	*out = ino;
	return 0;
}

static int zfs_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
	struct zfs_sb *sb = sb_of(dir);
	uint64_t v;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	mutex_lock(&sb->pool.lock);
	int e = zap_lookup(&node_of(dir)->dn, name, len, &v);
	if (!e)
		e = inode_for(sb, ZFS_DIRENT_OBJ(v), dir, name, len, out);
	mutex_unlock(&sb->pool.lock);
	return e;
}

static ssize_t zfs_readlink(struct inode *ino, char *buf, size_t size)
{
	struct zfs_sb *sb = sb_of(ino);
	struct znode *n = node_of(ino);
	struct zattr za;
	if (!S_ISLNK(ino->mode))
		return -EINVAL;
	mutex_lock(&sb->pool.lock);
	int e = znode_attrs(&sb->fs, &n->dn, &za);
	size_t len = 0;
	if (!e) {
		len = za.link ? za.linklen : za.size;
		if (len > VFS_PATH_MAX)
			e = -EIO;
		else if (len > size)
			len = size;
	}
	if (!e) {
		if (za.link)
			memcpy(buf, za.link, len);
		else
			e = dnode_read(&n->dn, 0, buf, len);
	}
	mutex_unlock(&sb->pool.lock);
	return e ? e : (ssize_t)len;
}

struct list_arg {
	struct znode *n;
	size_t cap;
};

static int list_cb(void *arg, const struct zap_ent *e)
{
	struct list_arg *a = arg;
	struct znode *n = a->n;
	if (n->ndents == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct zdent *d = kcalloc(cap, sizeof(*d));
		if (!d)
			return -ENOMEM;
		if (n->ndents)
			memcpy(d, n->dents, n->ndents * sizeof(*d));
		kfree(n->dents);
		n->dents = d;
		a->cap = cap;
	}
	char *nm = kmalloc(e->namelen + 1);
	if (!nm)
		return -ENOMEM;
	memcpy(nm, e->name, e->namelen + 1);
	n->dents[n->ndents++] = (struct zdent){ nm, e->namelen, ZFS_DIRENT_OBJ(e->value), (unsigned)(e->value >> 60) };
	return 0;
}

static int zfs_readdir(struct inode *dir, uint64_t idx, struct vfs_dirent *out)
{
	struct zfs_sb *sb = sb_of(dir);
	struct znode *n = node_of(dir);
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (idx < 2) {
		out->name = idx ? ".." : ".";
		out->len = idx + 1;
		out->ino = idx ? dir->parent->ino : dir->ino;
		out->type = DT_DIR;
		return 0;
	}
	int e = 0;
	mutex_lock(&sb->pool.lock);
	if (!n->listed) {
		struct list_arg a = { n, 0 };
		e = zap_iterate(&n->dn, list_cb, &a);
		if (e) {
			for (size_t i = 0; i < n->ndents; i++)
				kfree(n->dents[i].name);
			kfree(n->dents);
			n->dents = NULL;
			n->ndents = 0;
		} else {
			n->listed = true;
		}
	}
	mutex_unlock(&sb->pool.lock);
	if (e)
		return e;
	if (idx - 2 >= n->ndents)
		return 1;
	struct zdent *d = &n->dents[idx - 2];
	*out = (struct vfs_dirent){ d->name, d->len, d->ino, d->type };
	return 0;
}

static const struct inode_ops zfs_iops = {
	.lookup = zfs_lookup,
	.readlink = zfs_readlink,
	.readdir = zfs_readdir,
};

static int zfs_open(struct inode *ino, struct file *f)
{
	(void)ino;
	if ((f->flags & O_ACCMODE) != O_RDONLY || (f->flags & O_TRUNC))
		return -EROFS;
	return 0;
}

static ssize_t zfs_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	struct inode *ino = f->inode;
	if (S_ISDIR(ino->mode))
		return -EISDIR;
	if (*pos >= ino->size)
		return 0;
	if (len > ino->size - *pos)
		len = ino->size - *pos;
	struct zfs_sb *sb = sb_of(ino);
	mutex_lock(&sb->pool.lock);
	int e = dnode_read(&node_of(ino)->dn, *pos, buf, len);
	mutex_unlock(&sb->pool.lock);
	if (e)
		return e == -ENOTSUP || e == -ENOMEM ? e : -EIO;
	*pos += len;
	return (ssize_t)len;
}

static const struct file_ops zfs_fops = {
	.open = zfs_open,
	.read = zfs_read,
};

/* Open the pool on disk name and give its root directory. */
static struct inode *zfs_mount_disk(const char *name, size_t len)
{
	char dname[16];
	if (len >= sizeof(dname)) {
		pr_err("zfs: no disk \"%.*s\"\n", (int)len, name);
		return NULL;
	}
	memcpy(dname, name, len);
	dname[len] = 0;
	struct blk_dev *bd = blk_find(dname);
	if (!bd) {
		pr_err("zfs: no disk \"%s\"\n", dname);
		return NULL;
	}
	struct zfs_sb *sb = kzalloc(sizeof(*sb));
	if (!sb)
		return NULL;
	int e = spa_open(bd, &sb->pool);
	if (!e)
		e = zfs_fs_open(&sb->pool, &sb->fs);
	if (e) {
		pr_err("zfs: %s: cannot mount (error %d)\n", dname, e);
		return NULL; /* sb stays: the pool lock may have been seen by nobody else */
	}
	sb->super.fstype = "zfs";
	sb->super.dev = next_dev++;
	sb->super.priv = sb;
	struct inode *root;
	mutex_lock(&sb->pool.lock);
	e = inode_for(sb, sb->fs.root_obj, NULL, NULL, 0, &root);
	mutex_unlock(&sb->pool.lock);
	if (e || !S_ISDIR(root->mode)) {
		pr_err("zfs: %s: the root directory (object %lu) is unreadable\n", dname,
		       (unsigned long)sb->fs.root_obj);
		return NULL;
	}
	root->parent = root;
	pr_info("zfs: pool %s on %s (txg %lu, ZPL version %lu%s)\n", sb->pool.name, dname,
		(unsigned long)sb->pool.txg, (unsigned long)sb->fs.version, sb->fs.sa ? ", system attributes" : "");
	return root;
}

static struct inode *zfs_mount_fs(const char *source)
{
	return zfs_mount_disk(source, strlen(source));
}
FS_TYPE(zfs, "zfs", zfs_mount_fs);

/* The root: zfs sorts after initrd, whose INIT_FS call makes a tmpfs root
 * when / is free, so the pool is mounted at the end of INIT_DEVICE, after
 * every disk driver (they all sort before zfs) has registered its disks. */
static int zfs_root_init(void)
{
	const char *disk = cmdline_param("zfs.root", 0);
	if (!disk)
		return 0;
	struct inode *root = zfs_mount_disk(disk, strlen(disk));
	if (!root)
		panic("zfs: zfs.root=%s: cannot mount the pool (see above)", disk);
	if (vfs_mount_root(root))
		panic("zfs: zfs.root=%s: / is already mounted", disk);
	return 0;
}
INITCALL(INIT_DEVICE, zfs_root_init);

static int zfs_mounts(void)
{
	/* A ZFS root is read-only: scratch space on /tmp comes from tmpfs. */
	const struct fs_type *tmpfs = vfs_fs_type("tmpfs");
	if (cmdline_param("zfs.root", 0) && tmpfs) {
		struct inode *tmp = tmpfs->mount("tmp");
		if (!tmp || vfs_mount("/tmp", tmp))
			pr_warn("zfs: no tmpfs on /tmp: it stays read-only\n");
	}
	for (int i = 0; i < cmdline_param_count("zfs.mount"); i++) {
		const char *v = cmdline_param("zfs.mount", i);
		const char *colon = strchr(v, ':');
		if (!colon || colon == v || colon[1] != '/') {
			pr_err("zfs: zfs.mount=%s: expected DISK:/PATH\n", v);
			continue;
		}
		struct inode *root = zfs_mount_disk(v, (size_t)(colon - v));
		if (!root)
			continue;
		const char *path = colon + 1;
		int e = vfs_mkdir(NULL, path, 0755);
		if (e && e != -EEXIST)
			pr_err("zfs: cannot make mount point %s (%d)\n", path, e);
		e = vfs_mount(path, root);
		if (e)
			pr_err("zfs: mounting %s failed (%d)\n", path, e);
	}
	return 0;
}
INITCALL(INIT_LATE, zfs_mounts);
