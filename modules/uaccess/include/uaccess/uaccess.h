/*
 * Access to application memory from the kernel. Every user pointer goes
 * through these: the range is checked against the user half first, and a
 * fault on an unmapped or protected page is turned into -EFAULT (via the
 * fixup table consulted by the page-fault handler), never a kernel crash.
 * SMAP is lifted only inside the copy routines.
 */
#ifndef UACCESS_UACCESS_H
#define UACCESS_UACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arch/memlayout.h>
#include <arch/trap.h>

static inline bool access_ok(uintptr_t uaddr, size_t n)
{
	return uaddr <= USER_TOP && n <= USER_TOP - uaddr;
}

/* 0 or -EFAULT. */
int copy_from_user(void *dst, const void *usrc, size_t n);
int copy_to_user(void *udst, const void *src, size_t n);
int clear_user(void *udst, size_t n);
/* Copy a NUL-terminated string of at most max-1 bytes: returns its length,
 * -EFAULT, or -ENAMETOOLONG when no NUL is found within max bytes. */
long strncpy_from_user(char *dst, const char *usrc, size_t max);

/* Aligned single accesses (atomic, as futexes need). 0 or -EFAULT. */
int get_user_u32(uint32_t *out, const uint32_t *uaddr);
int put_user_u32(uint32_t *uaddr, uint32_t v);
int get_user_u64(uint64_t *out, const uint64_t *uaddr);
int put_user_u64(uint64_t *uaddr, uint64_t v);
/* Atomic compare-exchange on a user word: *old gets the value found. */
int cmpxchg_user_u32(uint32_t *uaddr, uint32_t *old, uint32_t newv);

/* For the page-fault handler: if tf faulted inside a uaccess routine, point
 * it at the routine's error exit and return true. */
bool uaccess_fixup(struct trap_frame *tf);

#endif
