/* System call dispatch: the table collected at link time, MSR setup,
 * "unimplemented" reports and osvb.strace tracing. */
#include "internal.h"
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <cmdline/cmdline.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <lib/printf.h>
#include <lib/string.h>



CMDLINE_OPTION(strace, "strace", "print every system call of the application with its arguments and result");

void linux_syscall_entry(void);
void linux_syscall_dispatch(struct trap_frame *tf);

static const struct syscall_entry *table[SYSCALL_NAMES];
static uint64_t reported[SYSCALL_NAMES / 64 + 1];
static bool strace;

struct trap_frame *syscall_frame(void)
{
	struct uthread *ut = current_uthread();
	return ut ? ut->frame : NULL;
}

static const char *name_of(uint64_t nr)
{
	return nr < SYSCALL_NAMES && syscall_names[nr] ? syscall_names[nr] : "?";
}

static long unimplemented(uint64_t nr)
{
	uint64_t idx = nr < SYSCALL_NAMES ? nr : SYSCALL_NAMES;
	uint64_t bit = 1ull << (idx % 64);
	if (!(reported[idx / 64] & bit)) {
		reported[idx / 64] |= bit;
		printk(LOG_WARN, "osvb: unimplemented syscall %lu (%s) by %s\n", (unsigned long)nr, name_of(nr),
		       proc.comm ? proc.comm : "?");
	}
	return -ENOSYS;
}

/* Calls Linux restarts after a handler with SA_RESTART (ERESTARTSYS): reads,
 * writes, waits for children, accept, locks, opens of FIFOs. Not sleeps,
 * poll/select/epoll, sigsuspend or sigtimedwait, which always give EINTR. */
static bool restartable(uint64_t nr)
{
	switch (nr) {
	case 0: case 1: case 2: case 16: case 17: case 18: case 19: case 20: case 40: case 43: case 44: case 45:
	case 46: case 47: case 61: case 72: case 73: case 247: case 257: case 288: case 295: case 296: case 299:
	case 307:
		return true;
	default:
		return false;
	}
}

void linux_syscall_dispatch(struct trap_frame *tf)
{
	struct uthread *ut = current_uthread();
	uint64_t nr = tf->rax;
	const struct syscall_entry *e = nr < SYSCALL_NAMES ? table[nr] : NULL;
	long ret;

	ut->frame = tf;
	char line[192];
	int len = 0;
	if (strace) {
		unsigned n = e ? e->nargs : 6;
		uint64_t a[6] = { tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9 };
		len = snprintf(line, sizeof(line), "[%d] %s(", ut->tid, name_of(nr));
		for (unsigned i = 0; i < n && len < (int)sizeof(line); i++)
			len += snprintf(line + len, sizeof(line) - len, "%s%#lx", i ? ", " : "", (unsigned long)a[i]);
		if (len > (int)sizeof(line) - 1)
			len = sizeof(line) - 1;
		/* Calls that do not return (or block for long) are shown before they run. */
		if (nr == 60 || nr == 231 || nr == 59)
			printk(LOG_EMERG, "%s) ...\n", line);
	}
	if (e)
		ret = e->fn(tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9);
	else
		ret = unimplemented(nr);
	/* rt_sigreturn restores rax itself; everything else returns a value. */
	if (!(e && nr == 15))
		tf->rax = ret;
	if (strace)
		printk(LOG_EMERG, "%s) = %ld%s\n", line, (long)tf->rax,
		       (long)tf->rax < 0 && (long)tf->rax > -4096 ? " (error)" : "");
	ut->restart_nr = ret == -EINTR && restartable(nr) ? nr + 1 : 0;
	signal_deliver(tf);
	ut->restart_nr = 0;
	ut->frame = NULL;
}

/* The syscall MSRs, on each CPU: the boot CPU here, the others as they start. */
static void syscall_cpu_init(void)
{
	wrmsr(MSR_STAR, ((uint64_t)USER_CS32 << 48) | ((uint64_t)KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (uint64_t)linux_syscall_entry);
	/* Cleared on entry: TF, DF, IF, IOPL, NT, AC. */
	wrmsr(MSR_FMASK, 0x47700);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}
CPU_INIT(5, syscall_cpu_init);

static int syscall_init(void)
{
	const struct syscall_entry *e;

	ktable_foreach(e, syscall) {
		if (e->nr >= SYSCALL_NAMES)
			continue;
		if (table[e->nr])
			printk(LOG_WARN, "osvb: syscall %lu defined twice (%s, %s)\n", (unsigned long)e->nr,
			       table[e->nr]->name, e->name);
		table[e->nr] = e;
	}
	strace = cmdline_get_bool("strace", false);
	syscall_cpu_init();
	return 0;
}

INITCALL(INIT_SUBSYS, syscall_init);

/* Used by /proc and tests: is nr implemented? */
bool syscall_implemented(uint64_t nr);
bool syscall_implemented(uint64_t nr)
{
	return nr < SYSCALL_NAMES && table[nr];
}
