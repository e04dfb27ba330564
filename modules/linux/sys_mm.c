/* Memory system calls on top of uvm. */
#include "internal.h"
#include <uaccess/uaccess.h>
#include <uvm/uvm.h>

#define MADV_NORMAL 0
#define MADV_RANDOM 1
#define MADV_SEQUENTIAL 2
#define MADV_WILLNEED 3
#define MADV_DONTNEED 4
#define MADV_FREE 8
#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4

/*
 * The one check every call that names an address range makes, before uvm
 * sees the range: [addr, addr+len) must lie in the user half, so no kernel
 * address, nothing in the non-canonical hole and no wrap-around ever reaches
 * the page tables (uvm trusts its callers: madvise once freed kernel pages).
 * err is what Linux answers for such a range in this call; a range that wraps
 * is "wrap" where Linux tells the two apart. Length 0 is checked by callers.
 */
static long user_range(uint64_t addr, uint64_t len, long err, long wrap)
{
	if (addr + len < addr)
		return wrap;
	return access_ok(addr, len) ? 0 : err;
}

#define PAGE_ROUND(len) (((len) + 4095) & ~4095ull)

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
	/* Linux: a length that rounds to 0 (or past the user half) is ENOMEM. */
	if (!PAGE_ROUND(len) || len > USER_TOP)
		return -ENOMEM;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & 4095)
			return -EINVAL;
		long r = user_range(addr, PAGE_ROUND(len), -ENOMEM, -ENOMEM);
		if (r)
			return r;
	}
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
	if ((a0 & 4095) || !PAGE_ROUND(a1))
		return -EINVAL; /* munmap(0, SIZE_MAX) included: the length rounds to 0 */
	long r = user_range(a0, PAGE_ROUND(a1), -EINVAL, -EINVAL);
	return r ? r : uvm_unmap(a0, a1);
}

SYSCALL(10, mprotect, 3)
{
	if (a0 & 4095)
		return -EINVAL;
	if (!a1)
		return 0;
	long r = user_range(a0, PAGE_ROUND(a1), -ENOMEM, -ENOMEM);
	if (!r && !PAGE_ROUND(a1))
		r = -ENOMEM;
	return r ? r : uvm_protect(a0, a1, a2);
}

SYSCALL(25, mremap, 5)
{
	if ((a0 & 4095) || !PAGE_ROUND(a2))
		return -EINVAL;
	long r = (a3 & MREMAP_FIXED) ? user_range(a4, PAGE_ROUND(a2), -EINVAL, -EINVAL) : 0;
	if (!r)
		r = user_range(a0, PAGE_ROUND(a1), -EFAULT, -EFAULT);
	return r ? r : uvm_remap(a0, a1, a2, a3, a4);
}

SYSCALL(12, brk, 1)
{
	/* A break outside the user half is refused: the answer is the current break. */
	return uvm_brk(user_range(a0, 0, -ENOMEM, -ENOMEM) ? 0 : a0);
}

/* mlock, msync, madvise, mincore: the range, page-rounded, must be mapped. */
static long mapped_range(uint64_t addr, uint64_t len, long wrap)
{
	long r = user_range(addr, len, -ENOMEM, wrap);
	if (!r && len && !uvm_range_mapped(addr, len))
		r = -ENOMEM;
	return r;
}

SYSCALL(28, madvise, 3)
{
	if (a0 & 4095)
		return -EINVAL;
	if (a1 && !PAGE_ROUND(a1))
		return -EINVAL;
	uint64_t len = PAGE_ROUND(a1);
	long r = user_range(a0, len, -ENOMEM, -EINVAL);
	if (r || !len)
		return r;
	if (a2 == MADV_DONTNEED)
		uvm_discard(a0, len);
	/* Other advice is free to ignore (MADV_FREE keeps the pages, which is allowed).
	 * Like Linux, an unmapped part of the range is ENOMEM. */
	return uvm_range_mapped(a0, len) ? 0 : -ENOMEM;
}

SYSCALL(26, msync, 3)
{
	if ((a0 & 4095) || (a2 & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) ||
	    ((a2 & MS_ASYNC) && (a2 & MS_SYNC)))
		return -EINVAL;
	return mapped_range(a0, PAGE_ROUND(a1), -ENOMEM);
}

static long lock_range(uint64_t addr, uint64_t len)
{
	/* mlock rounds the start down and the end up. */
	uint64_t start = addr & ~4095ull;
	return mapped_range(start, PAGE_ROUND(len + (addr & 4095)), -EINVAL);
}

SYSCALL(149, mlock, 2)
{
	return lock_range(a0, a1);
}

SYSCALL(150, munlock, 2)
{
	return lock_range(a0, a1);
}

/* Memory is never paged out, so locking only checks its arguments. */
#define MLOCK_ONFAULT 1
#define MCL_CURRENT 1
#define MCL_FUTURE 2
#define MCL_ONFAULT 4

SYSCALL(325, mlock2, 3)
{
	if (a2 & ~(uint64_t)MLOCK_ONFAULT)
		return -EINVAL;
	return lock_range(a0, a1);
}

SYSCALL(151, mlockall, 1)
{
	if (!a0 || (a0 & ~(uint64_t)(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || a0 == MCL_ONFAULT)
		return -EINVAL;
	return 0;
}

SYSCALL(152, munlockall, 0)
{
	return 0;
}

/* Protection keys: like Linux on a CPU without PKU, no key can be had; key
 * -1 (the default) is plain mprotect. */
SYSCALL(330, pkey_alloc, 2)
{
	if (a0 || (a1 & ~3ull))
		return -EINVAL;
	return -ENOSPC;
}

SYSCALL(331, pkey_free, 1)
{
	return -EINVAL;
}

SYSCALL(329, pkey_mprotect, 4)
{
	if ((int)a3 != -1)
		return -EINVAL;
	return sys_mprotect(a0, a1, a2, 0, 0, 0);
}

/* Every page of a mapped range is reported resident: the memory is never paged out. */
SYSCALL(27, mincore, 3)
{
	if (a0 & 4095)
		return -EINVAL;
	if (!access_ok(a0, a1))
		return -ENOMEM;
	if (!access_ok(a2, PAGE_ROUND(a1) / 4096))
		return -EFAULT;
	long r = mapped_range(a0, PAGE_ROUND(a1), -ENOMEM);
	if (r)
		return r;
	static const uint8_t ones[256] = { [0 ... 255] = 1 };
	for (uint64_t left = PAGE_ROUND(a1) / 4096, at = a2; left;) {
		size_t n = left < sizeof(ones) ? left : sizeof(ones);
		if (copy_to_user((void *)at, ones, n))
			return -EFAULT;
		left -= n;
		at += n;
	}
	return 0;
}
