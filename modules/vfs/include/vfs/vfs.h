/*
 * Virtual filesystem: inodes, open files, mounts and path walk.
 *
 * There is no dentry cache: a path walk asks each directory's lookup() for the
 * next name. Directories remember their parent and their own name (they cannot
 * be hard-linked), which gives "..", getcwd and /proc/self/exe their paths.
 * File operations move bytes between the file and KERNEL buffers; the syscall
 * layer copies to and from user memory. Errors are negative Linux errno values.
 */
#ifndef VFS_VFS_H
#define VFS_VFS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <lib/ktable.h>
#include <vfs/stat.h>

typedef int64_t ssize_t;

#define VFS_NAME_MAX 255
#define VFS_PATH_MAX 4096
#define VFS_SYMLINK_MAX 40 /* symlinks followed in one walk (ELOOP beyond) */

struct inode;
struct file;
struct mount;

struct vfs_time {
	int64_t sec;
	int64_t nsec;
};

/* Directory entry as handed out by readdir(). */
struct vfs_dirent {
	const char *name;
	size_t len;
	uint64_t ino;
	unsigned type; /* DT_* */
};

/* A filesystem's own statfs (optional: the VFS answers for RAM filesystems). */
struct vfs_statfs {
	uint64_t type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen;
	uint64_t flags; /* ST_RDONLY (1)... */
};

/* A record lock (fcntl F_GETLK/F_SETLK/F_SETLKW; flock is the whole file). */
struct vfs_flock {
	int type;        /* VFS_LOCK_READ, _WRITE, _UNLOCK */
	uint64_t start;
	uint64_t len;    /* 0: to the end of the file and beyond */
	uint32_t pid;
};
#define VFS_LOCK_READ 0
#define VFS_LOCK_WRITE 1
#define VFS_LOCK_UNLOCK 2

struct inode_ops {
	/* Find name in dir; on success *out holds a new reference. */
	int (*lookup)(struct inode *dir, const char *name, size_t len, struct inode **out);
	/* Create a regular file, directory, symlink or device node (mode has the S_IF type). */
	int (*create)(struct inode *dir, const char *name, size_t len, uint32_t mode, const char *symlink_target,
		      struct inode **out);
	int (*link)(struct inode *dir, const char *name, size_t len, struct inode *target);
	int (*unlink)(struct inode *dir, const char *name, size_t len, bool dir_only);
	int (*rename)(struct inode *odir, const char *oname, size_t olen, struct inode *ndir, const char *nname,
		      size_t nlen, unsigned flags);
	/* Copy the symlink target (not terminated) into buf; returns its length. */
	ssize_t (*readlink)(struct inode *ino, char *buf, size_t size);
	int (*truncate)(struct inode *ino, uint64_t size);
	/* The idx-th entry of dir (".", ".." first); 0 on success, 1 past the end. */
	int (*readdir)(struct inode *dir, uint64_t idx, struct vfs_dirent *out);
	/* Called when the last reference and the last link are gone. */
	void (*destroy)(struct inode *ino);
	int (*statfs)(struct inode *ino, struct vfs_statfs *st);
};

struct file_ops {
	int (*open)(struct inode *ino, struct file *f);
	void (*release)(struct file *f);
	/* pos: the file position to use and advance (ignored by streams). */
	ssize_t (*read)(struct file *f, void *buf, size_t n, uint64_t *pos);
	ssize_t (*write)(struct file *f, const void *buf, size_t n, uint64_t *pos);
	/* arg is a user address; implementations use uaccess. */
	int (*ioctl)(struct file *f, unsigned cmd, unsigned long arg);
	/* Current POLL* readiness. */
	unsigned (*poll)(struct file *f);
	/* Optional: a counter that moves on every new event (data arrived, space
	 * freed), so edge-triggered epoll sees an edge even when the readiness
	 * bits did not drop in between. */
	uint64_t (*poll_gen)(struct file *f);
	int (*fsync)(struct file *f);
	/* Optional record locks kept by someone else (a 9p server): set (wait:
	 * sleep until granted) or, with get, find a conflicting lock (type
	 * VFS_LOCK_UNLOCK when none). Without it locks always succeed (one process). */
	int (*lock)(struct file *f, struct vfs_flock *fl, bool wait, bool get);
	bool stream; /* no position: lseek gives -ESPIPE */
};

struct super {
	const char *fstype;
	uint32_t dev;
	uint64_t next_ino;
	void *priv;
};

struct inode {
	uint64_t ino;
	uint32_t mode;
	uint32_t nlink;
	uint64_t size;
	uint32_t rdev;
	uint32_t uid, gid;
	struct vfs_time atime, mtime, ctime;
	int refs;
	const struct inode_ops *iops;
	const struct file_ops *fops;
	struct super *sb;
	struct mount *mounted;   /* a filesystem mounted on this directory */
	struct inode *parent;    /* directories: the parent (the root: itself) */
	char *name;              /* directories: the name in the parent (kmalloc'd) */
	void *priv;              /* the filesystem's */
};

struct file {
	struct inode *inode;
	const struct file_ops *ops;
	uint64_t pos;
	unsigned flags; /* O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECTORY... as opened */
	int refs;
	char *path;     /* absolute path it was opened by (kmalloc'd; may be NULL) */
	void *priv;
	struct file *deferred_next; /* on the release list (see file_put) */
};

struct mount {
	struct inode *root;      /* root of the mounted filesystem */
	struct inode *covered;   /* the directory it sits on (NULL for /) */
	const char *path;
};

/* --- inode references --- */
struct inode *inode_get(struct inode *ino);
void inode_put(struct inode *ino);
/* A fresh inode of sb with one reference. */
struct inode *inode_new(struct super *sb, uint32_t mode);
void vfs_now(struct vfs_time *t);

/* --- mounts --- */
int vfs_mount_root(struct inode *root);
/* Mount root (a new filesystem) on the directory at path. */
int vfs_mount(const char *path, struct inode *root);
struct inode *vfs_root(void);

/* --- path walk (kernel strings) --- */
#define WALK_NOFOLLOW 1u   /* do not follow a final symlink */
#define WALK_PARENT 2u     /* stop at the parent of the last component */
/* Resolve path relative to base (NULL: cwd). *out gets a reference. With
 * WALK_PARENT, *out is the parent directory and last/lastlen name the final
 * component (pointing into path; "" for "/"). */
int vfs_walk(struct inode *base, const char *path, unsigned flags, struct inode **out, const char **last,
	     size_t *lastlen);
/* The absolute path of directory dir into buf; returns its length or -ERANGE. */
ssize_t vfs_dir_path(struct inode *dir, char *buf, size_t size);

/* The process's working directory (one process). */
struct inode *vfs_cwd(void);
void vfs_set_cwd(struct inode *dir);
/* Where the caller's working directory is kept (the linux module's: one per
 * process); NULL or a NULL result: the kernel's own. */
extern struct inode **(*vfs_cwd_slot)(void);

/* --- files --- */
/* Open (flags are O_*; mode for O_CREAT). base NULL = cwd. */
int vfs_open(struct inode *base, const char *path, unsigned flags, uint32_t mode, struct file **out);
struct file *file_open_inode(struct inode *ino, unsigned flags, int *err);
struct file *file_get(struct file *f);
/* Drop a reference; the last one releases the file, later and from a kernel
 * thread when the caller cannot sleep (interrupts off). */
void file_put(struct file *f);
ssize_t vfs_read(struct file *f, void *buf, size_t n, uint64_t *pos);
ssize_t vfs_write(struct file *f, const void *buf, size_t n, uint64_t *pos);
/* Read exactly up to n bytes at off of an inode's file (loader, page faults). */
ssize_t vfs_pread_full(struct file *f, void *buf, size_t n, uint64_t off);
void vfs_stat(struct inode *ino, struct kstat *st);

int vfs_mkdir(struct inode *base, const char *path, uint32_t mode);
int vfs_unlink(struct inode *base, const char *path, bool dir);
int vfs_symlink(struct inode *base, const char *target, const char *path);
int vfs_link(struct inode *obase, const char *opath, struct inode *nbase, const char *npath, unsigned flags);
int vfs_rename(struct inode *obase, const char *opath, struct inode *nbase, const char *npath, unsigned flags);
int vfs_mknod(struct inode *base, const char *path, uint32_t mode, const struct file_ops *fops, void *priv);
ssize_t vfs_readlink(struct inode *base, const char *path, char *buf, size_t size);
int vfs_truncate(struct inode *ino, uint64_t size);

/* --- change notification (inotify) ---
 * When set, called after each change with inotify's event bits: a name in
 * dir created, deleted or moved (IN_CREATE, IN_DELETE, IN_MOVED_FROM/TO with
 * a shared cookie; IN_ISDIR for directories; the VFS lock held), ino deleted
 * (IN_DELETE_SELF, dir NULL, lock held), or ino written or truncated
 * (IN_MODIFY, dir NULL, name the path it was opened by or NULL; no lock). */
#define VFS_EV_MODIFY 0x2
#define VFS_EV_MOVED_FROM 0x40
#define VFS_EV_MOVED_TO 0x80
#define VFS_EV_CREATE 0x100
#define VFS_EV_DELETE 0x200
#define VFS_EV_DELETE_SELF 0x400
#define VFS_EV_ISDIR 0x40000000
extern void (*vfs_event_hook)(struct inode *dir, const char *name, size_t len, struct inode *ino, uint32_t mask,
			      uint32_t cookie);

/* --- the big filesystem lock (no fine-grained locking yet) --- */
void vfs_lock(void);
void vfs_unlock(void);

/* Filesystem types register here. */
struct fs_type {
	const char *name;
	struct inode *(*mount)(const char *source);
};
KTABLE_DECLARE(struct fs_type, fs_type);
#define FS_TYPE(ident, name, fn) KTABLE_ENTRY(struct fs_type, fs_type, 5, __fs_type_##ident) = { name, fn }
const struct fs_type *vfs_fs_type(const char *name);

#endif
