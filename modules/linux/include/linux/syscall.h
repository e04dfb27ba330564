/*
 * The Linux x86-64 system call ABI. Any module adds a system call with
 *
 *     SYSCALL(39, getpid, 0)
 *     {
 *             return current_process_pid();
 *     }
 *
 * which places {number, name, handler} in a link-time table; the handler's
 * arguments are a0..a5 (rdi, rsi, rdx, r10, r8, r9) and it returns the value
 * or a negative errno. Numbers without a handler print
 * "osvb: unimplemented syscall N (name) by PROG" once and return -ENOSYS.
 */
#ifndef LINUX_SYSCALL_H
#define LINUX_SYSCALL_H

#include <stdint.h>
#include <lib/ktable.h>
#include <arch/trap.h>

typedef long (*syscall_fn)(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);

struct syscall_entry {
	uint64_t nr;
	const char *name;
	syscall_fn fn;
	uint64_t nargs;  /* for strace output */
};
KTABLE_DECLARE(struct syscall_entry, syscall);

#define SYSCALL(nr_, name_, nargs_)                                                                          \
	static long sys_##name_(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5); \
	KTABLE_ENTRY(struct syscall_entry, syscall, 5, __syscall_##name_) = { nr_, #name_, sys_##name_, nargs_ }; \
	static long sys_##name_(__unused uint64_t a0, __unused uint64_t a1, __unused uint64_t a2,              \
				__unused uint64_t a3, __unused uint64_t a4, __unused uint64_t a5)

/* The register frame of the system call being handled (for clone,
 * rt_sigreturn and signal delivery). */
struct trap_frame *syscall_frame(void);

#endif
