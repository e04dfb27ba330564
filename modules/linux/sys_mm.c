/* Memory system calls on top of uvm. */
#include "internal.h"
#include <uvm/uvm.h>

#define MADV_NORMAL 0
#define MADV_RANDOM 1
#define MADV_SEQUENTIAL 2
#define MADV_WILLNEED 3
#define MADV_DONTNEED 4
#define MADV_FREE 8

SYSCALL(9, mmap, 6)
{
	uint64_t addr = a0, len = a1, off = a5;
	unsigned prot = a2, flags = a3;
	int fd = (int)a4;
	struct file *f = NULL;

	if (!len)
		return -EINVAL;
	if (off & 4095)
		return -EINVAL;
	unsigned type = flags & MAP_TYPE;
	if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS)) {
#ifndef CONFIG_VFS_MMAP_FILE
		return -ENODEV; /* file-backed mmap is configured out (VFS_MMAP_FILE) */
#endif
		f = fd_get(fd);
		if (!f)
			return -EBADF;
		if (!S_ISREG(f->inode->mode) && !S_ISCHR(f->inode->mode)) {
			file_put(f);
			return -EACCES;
		}
		if ((f->flags & O_ACCMODE) == O_WRONLY) {
			file_put(f);
			return -EACCES;
		}
		if (type != MAP_PRIVATE && (prot & PROT_WRITE) && (f->flags & O_ACCMODE) != O_RDWR) {
			file_put(f);
			return -EACCES;
		}
		if (S_ISCHR(f->inode->mode)) {
			/* /dev/zero: an anonymous mapping. */
			file_put(f);
			f = NULL;
		}
	}
	long r = uvm_map(addr, len, prot, flags, f, off, f ? UINT64_MAX : 0, NULL);
	if (f)
		file_put(f);
	return r;
}

SYSCALL(11, munmap, 2)
{
	return uvm_unmap(a0, a1);
}

SYSCALL(10, mprotect, 3)
{
	return uvm_protect(a0, a1, a2);
}

SYSCALL(25, mremap, 5)
{
	return uvm_remap(a0, a1, a2, a3, a4);
}

SYSCALL(12, brk, 1)
{
	return uvm_brk(a0);
}

SYSCALL(28, madvise, 3)
{
	if (a0 & 4095)
		return -EINVAL;
	switch (a2) {
	case MADV_DONTNEED:
		return uvm_discard(a0, a1);
	default:
		/* Advice: free to ignore (MADV_FREE keeps the pages, which is allowed). */
		return 0;
	}
}

SYSCALL(26, msync, 3)
{
	return (a0 & 4095) ? -EINVAL : 0;
}

SYSCALL(149, mlock, 2)
{
	return 0;
}

SYSCALL(150, munlock, 2)
{
	return 0;
}
