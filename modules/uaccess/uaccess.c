/* Checked copies between kernel and application memory. */
#include <uaccess/uaccess.h>
#include <arch/cpu.h>
#include <lib/errno.h>
#include <lib/compiler.h>
#include <lib/string.h>

size_t __copy_user(void *dst, const void *src, size_t n);
size_t __clear_user(void *dst, size_t n);
int __get_user_4(uint32_t *out, const uint32_t *uaddr);
int __put_user_4(uint32_t *uaddr, uint32_t v);
int __get_user_8(uint64_t *out, const uint64_t *uaddr);
int __put_user_8(uint64_t *uaddr, uint64_t v);
int __cmpxchg_user_4(uint32_t *uaddr, uint32_t *old, uint32_t newv);

struct fixup {
	uint64_t insn, handler;
};
extern const struct fixup __uaccess_fixups[], __uaccess_fixups_end[];

bool uaccess_fixup(struct trap_frame *tf)
{
	for (const struct fixup *f = __uaccess_fixups; f < __uaccess_fixups_end; f++) {
		if (tf->rip == f->insn) {
			tf->rip = f->handler;
			return true;
		}
	}
	return false;
}

int copy_from_user(void *dst, const void *usrc, size_t n)
{
	if (!access_ok((uintptr_t)usrc, n))
		return -EFAULT;
	uaccess_begin();
	size_t left = __copy_user(dst, usrc, n);
	uaccess_end();
	return left ? -EFAULT : 0;
}

int copy_to_user(void *udst, const void *src, size_t n)
{
	if (!access_ok((uintptr_t)udst, n))
		return -EFAULT;
	uaccess_begin();
	size_t left = __copy_user(udst, src, n);
	uaccess_end();
	return left ? -EFAULT : 0;
}

int clear_user(void *udst, size_t n)
{
	if (!access_ok((uintptr_t)udst, n))
		return -EFAULT;
	uaccess_begin();
	size_t left = __clear_user(udst, n);
	uaccess_end();
	return left ? -EFAULT : 0;
}

long strncpy_from_user(char *dst, const char *usrc, size_t max)
{
	size_t done = 0;
	uintptr_t u = (uintptr_t)usrc;

	/* Copy page by page (a string may end just before an unmapped page). */
	while (done < max) {
		size_t chunk = 4096 - ((u + done) & 4095);
		if (chunk > max - done)
			chunk = max - done;
		if (copy_from_user(dst + done, (const char *)u + done, chunk))
			return -EFAULT;
		const char *nul = memchr(dst + done, 0, chunk);
		if (nul)
			return nul - dst;
		done += chunk;
	}
	return -ENAMETOOLONG;
}

#define CHECKED(call, uaddr, size)                                   \
	do {                                                          \
		if (((uintptr_t)(uaddr) & ((size) - 1)) ||              \
		    !access_ok((uintptr_t)(uaddr), size))               \
			return -EFAULT;                                 \
		uaccess_begin();                                      \
		int r_ = call;                                        \
		uaccess_end();                                        \
		return r_;                                            \
	} while (0)

int get_user_u32(uint32_t *out, const uint32_t *uaddr)
{
	CHECKED(__get_user_4(out, uaddr), uaddr, 4);
}

int put_user_u32(uint32_t *uaddr, uint32_t v)
{
	CHECKED(__put_user_4(uaddr, v), uaddr, 4);
}

int get_user_u64(uint64_t *out, const uint64_t *uaddr)
{
	CHECKED(__get_user_8(out, uaddr), uaddr, 8);
}

int put_user_u64(uint64_t *uaddr, uint64_t v)
{
	CHECKED(__put_user_8(uaddr, v), uaddr, 8);
}

int cmpxchg_user_u32(uint32_t *uaddr, uint32_t *old, uint32_t newv)
{
	CHECKED(__cmpxchg_user_4(uaddr, old, newv), uaddr, 4);
}
