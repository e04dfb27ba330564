/* Identity, system information, limits, randomness and time. */
#include "internal.h"
#include "calls.h"
#include <arch/smp.h>
#include <uaccess/uaccess.h>
#include <devfs/devfs.h>
#include <lib/string.h>
#include <mm/page.h>
#include <sched/thread.h>
#include <time/clock.h>

SYSCALL(39, getpid, 0)
{
	return proc.pid;
}

SYSCALL(186, gettid, 0)
{
	return current_uthread()->tid;
}

SYSCALL(110, getppid, 0)
{
	return process_ppid();
}

SYSCALL(102, getuid, 0)
{
	return 0;
}

SYSCALL(107, geteuid, 0)
{
	return 0;
}

SYSCALL(104, getgid, 0)
{
	return 0;
}

SYSCALL(108, getegid, 0)
{
	return 0;
}

SYSCALL(118, getresuid, 3)
{
	uint32_t z = 0;
	if (copy_to_user((void *)a0, &z, 4) || copy_to_user((void *)a1, &z, 4) || copy_to_user((void *)a2, &z, 4))
		return -EFAULT;
	return 0;
}

SYSCALL(120, getresgid, 3)
{
	return sys_getresuid(a0, a1, a2, 0, 0, 0);
}

SYSCALL(115, getgroups, 2)
{
	return 0;
}

/* Changing identity to what it already is succeeds; anything else is refused. */
SYSCALL(105, setuid, 1)
{
	return a0 == 0 ? 0 : -EPERM;
}

SYSCALL(106, setgid, 1)
{
	return a0 == 0 ? 0 : -EPERM;
}

/* Process groups and sessions (job control for shells). */
static long group_of(int pid, bool session)
{
	if (pid < 0)
		return -EINVAL;
	uint64_t f = spin_lock_irqsave(&procs_lock);
	struct process *p = pid ? process_find(pid) : &proc;
	long r = !p ? -ESRCH : session ? p->sid : p->pgid;
	spin_unlock_irqrestore(&procs_lock, f);
	return r;
}

SYSCALL(121, getpgid, 1)
{
	return group_of(a0, false);
}

SYSCALL(111, getpgrp, 0)
{
	return proc.pgid;
}

SYSCALL(124, getsid, 1)
{
	return group_of(a0, true);
}

SYSCALL(112, setsid, 0)
{
	struct process *self = &proc;
	uint64_t f = spin_lock_irqsave(&procs_lock);
	long r = self->pid;
	struct process *p;
	/* A group leader (or the pid of any group) cannot start a session. */
	list_for_each_entry(p, &procs, all)
		if (p->pgid == self->pid)
			r = -EPERM;
	if (r > 0)
		self->sid = self->pgid = self->pid;
	spin_unlock_irqrestore(&procs_lock, f);
	return r;
}

SYSCALL(109, setpgid, 2)
{
	struct process *self = &proc;
	int pid = a0 ? (int)a0 : self->pid, pgid = a1 ? (int)a1 : pid;
	if ((int)a0 < 0 || (int)a1 < 0)
		return -EINVAL;
	uint64_t f = spin_lock_irqsave(&procs_lock);
	struct process *p = process_find(pid), *q;
	long r = 0;
	if (!p || (p != self && p->parent != self))
		r = -ESRCH;
	else if (p->sid != self->sid || p->sid == p->pid)
		r = -EPERM; /* another session, or a session leader */
	else if (pgid != pid) {
		r = -EPERM; /* joining a group: it must exist in this session */
		list_for_each_entry(q, &procs, all)
			if (q->pgid == pgid && q->sid == self->sid && q->state == PROC_ALIVE)
				r = 0;
	}
	if (!r)
		p->pgid = pgid;
	spin_unlock_irqrestore(&procs_lock, f);
	return r;
}

struct utsname {
	char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

SYSCALL(63, uname, 1)
{
	struct utsname u;
	memset(&u, 0, sizeof(u));
	strlcpy(u.sysname, "Linux", 65);
	strlcpy(u.nodename, "osvb", 65);
	/* A release new enough that glibc and Go accept it. */
	strlcpy(u.release, "6.1.0-osvb", 65);
	strlcpy(u.version, "#1 SMP osvb unikernel", 65);
	strlcpy(u.machine, "x86_64", 65);
	strlcpy(u.domainname, "(none)", 65);
	return copy_to_user((void *)a0, &u, sizeof(u));
}

struct rlimit {
	uint64_t cur, max;
};

#define RLIM_INFINITY (~0ull)
#define RLIMIT_STACK 3
#define RLIMIT_NOFILE 7
#define RLIMIT_NLIMITS 16

#define INF { RLIM_INFINITY, RLIM_INFINITY }
static struct rlimit limits[RLIMIT_NLIMITS] = {
	INF, INF, INF, { 8ull << 20, RLIM_INFINITY }, INF, INF, INF, { NR_FDS, NR_FDS },
	{ 8ull << 20, 8ull << 20 }, INF, INF, INF, INF, { 0, 0 }, { 0, 0 }, INF,
};
#undef INF

SYSCALL(302, prlimit64, 4)
{
	if (a0 && a0 != (uint64_t)proc.pid)
		return -ESRCH;
	if (a1 >= RLIMIT_NLIMITS)
		return -EINVAL;
	struct rlimit old = limits[a1], nl;
	if (a2) {
		if (copy_from_user(&nl, (const void *)a2, sizeof(nl)))
			return -EFAULT;
		if (nl.cur > nl.max)
			return -EINVAL;
		if (a1 == RLIMIT_NOFILE && nl.max > NR_FDS)
			return -EPERM;
	}
	if (a3 && copy_to_user((void *)a3, &old, sizeof(old)))
		return -EFAULT;
	if (a2)
		limits[a1] = nl;
	return 0;
}

SYSCALL(97, getrlimit, 2)
{
	return sys_prlimit64(0, a0, 0, a1, 0, 0);
}

SYSCALL(160, setrlimit, 2)
{
	return sys_prlimit64(0, a0, a1, 0, 0, 0);
}

struct sysinfo {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint32_t pad2;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	char reserved[4];
};

SYSCALL(99, sysinfo, 1)
{
	struct sysinfo s;
	memset(&s, 0, sizeof(s));
	s.uptime = clock_monotonic_ns() / NSEC_PER_SEC;
	s.totalram = page_total_count() * 4096;
	s.freeram = page_free_count() * 4096;
	uint64_t f = spin_lock_irqsave(&procs_lock);
	struct process *p;
	list_for_each_entry(p, &procs, all)
		s.procs += p->nthreads;
	spin_unlock_irqrestore(&procs_lock, f);
	s.mem_unit = 1;
	return copy_to_user((void *)a0, &s, sizeof(s));
}

#define GRND_NONBLOCK 1
#define GRND_RANDOM 2
#define GRND_INSECURE 4

SYSCALL(318, getrandom, 3)
{
	if (a2 & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	uint8_t k[256];
	size_t done = 0, n = a1 > (32u << 20) ? (32u << 20) : a1;
	while (done < n) {
		size_t c = MIN(sizeof(k), n - done);
		random_bytes(k, c);
		if (copy_to_user((void *)(a0 + done), k, c))
			return done ? (long)done : -EFAULT;
		done += c;
	}
	return done;
}

/* The thread a sched_*affinity pid names: 0 or the caller's tid, or another
 * thread of the process. */
static struct thread *affinity_target(int64_t pid)
{
	if (pid == 0 || pid == current_uthread()->tid)
		return thread_current();
	struct thread *t = NULL;
	uint64_t f = spin_lock_irqsave(&proc.lock);
	struct uthread *ut;
	list_for_each_entry(ut, &proc.threads, node)
		if (ut->tid == pid)
			t = ut->kt;
	spin_unlock_irqrestore(&proc.lock, f);
	return t;
}

/* The kernel's CPU set is one 64-bit word (NR_CPUS <= 64), so 8 bytes, like
 * Linux's minimum: a smaller user buffer is EINVAL, a larger one is
 * zero-filled and 8 is returned. */
SYSCALL(204, sched_getaffinity, 3)
{
	if (a1 < 8 || (a1 & 7))
		return -EINVAL;
	struct thread *t = affinity_target((int64_t)a0);
	if (!t)
		return -ESRCH;
	uint64_t online = cpu_count() >= 64 ? ~0ull : (1ull << cpu_count()) - 1;
	uint64_t mask = t->affinity ? t->affinity & online : online;
	if (clear_user((void *)a2, a1 > 128 ? 128 : a1) || copy_to_user((void *)a2, &mask, 8))
		return -EFAULT;
	return 8;
}

SYSCALL(203, sched_setaffinity, 3)
{
	uint64_t mask = 0;
	if (a1 == 0)
		return -EINVAL;
	if (copy_from_user(&mask, (const void *)a2, a1 < 8 ? a1 : 8))
		return -EFAULT;
	if (a1 < 8)
		mask &= (1ull << (a1 * 8)) - 1;
	uint64_t online = cpu_count() >= 64 ? ~0ull : (1ull << cpu_count()) - 1;
	if (!(mask & online))
		return -EINVAL;
	struct thread *t = affinity_target((int64_t)a0);
	if (!t)
		return -ESRCH;
	thread_set_affinity(t, mask);
	return 0;
}

SYSCALL(24, sched_yield, 0)
{
	thread_yield();
	return 0;
}

/* The CPU the caller runs on (it may move right after, as on Linux); one
 * NUMA node. */
SYSCALL(309, getcpu, 3)
{
	uint32_t cpu = this_cpu_id(), node = 0;
	if (a0 && copy_to_user((void *)a0, &cpu, 4))
		return -EFAULT;
	if (a1 && copy_to_user((void *)a1, &node, 4))
		return -EFAULT;
	return 0;
}

SYSCALL(140, getpriority, 2)
{
	return 20; /* nice 0, in the syscall's 40..1 encoding */
}

SYSCALL(141, setpriority, 3)
{
	return 0;
}

SYSCALL(98, getrusage, 2)
{
	uint64_t ru[18];
	memset(ru, 0, sizeof(ru));
	uint64_t ns = thread_current()->run_ns;
	ru[0] = ns / NSEC_PER_SEC;
	ru[1] = (ns % NSEC_PER_SEC) / 1000;
	return copy_to_user((void *)a1, ru, sizeof(ru));
}

/* --- time --- */

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7

struct timespec {
	int64_t sec, nsec;
};

uint64_t linux_realtime_ns(void)
{
	return clock_realtime_ns();
}

uint64_t linux_monotonic_ns(void)
{
	return clock_monotonic_ns();
}

static int clock_ns(uint64_t id, uint64_t *ns)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		*ns = clock_realtime_ns();
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		*ns = clock_monotonic_ns();
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		*ns = thread_current()->run_ns + (clock_monotonic_ns() - thread_current()->switched_in_at);
		return 0;
	default:
		/* CPU-time clock ids (pthread_getcpuclockid, clock_getcpuclockid) */
		return (int64_t)id < 0 ? timer_clock_now((int)id, ns) : -EINVAL;
	}
}

SYSCALL(228, clock_gettime, 2)
{
	uint64_t ns;
	int r = clock_ns(a0, &ns);
	if (r)
		return r;
	struct timespec ts = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC };
	return copy_to_user((void *)a1, &ts, sizeof(ts));
}

SYSCALL(229, clock_getres, 2)
{
	uint64_t ns;
	int r = clock_ns(a0, &ns);
	if (r)
		return r;
	struct timespec ts = { 0, 1 };
	return a1 ? copy_to_user((void *)a1, &ts, sizeof(ts)) : 0;
}

SYSCALL(96, gettimeofday, 2)
{
	uint64_t ns = clock_realtime_ns();
	int64_t tv[2] = { ns / NSEC_PER_SEC, (ns % NSEC_PER_SEC) / 1000 };
	if (a0 && copy_to_user((void *)a0, tv, sizeof(tv)))
		return -EFAULT;
	if (a1 && clear_user((void *)a1, 8))
		return -EFAULT;
	return 0;
}

SYSCALL(201, time, 1)
{
	int64_t t = clock_realtime_ns() / NSEC_PER_SEC;
	if (a0 && copy_to_user((void *)a0, &t, sizeof(t)))
		return -EFAULT;
	return t;
}

static long do_nanosleep(uint64_t clockid, bool abs, uint64_t ureq, uint64_t urem)
{
	struct timespec ts;
	if (copy_from_user(&ts, (const void *)ureq, sizeof(ts)))
		return -EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC_PER_SEC)
		return -EINVAL;
	uint64_t req = (uint64_t)ts.sec * NSEC_PER_SEC + ts.nsec;
	uint64_t now = clock_monotonic_ns(), deadline;
	if (abs) {
		uint64_t base;
		int r = clock_ns(clockid, &base);
		if (r)
			return r;
		deadline = req > base ? now + (req - base) : now;
	} else {
		deadline = now + req;
	}
	int r = sleep_until_ns(deadline);
	if (r == -EINTR && urem && !abs) {
		uint64_t left = deadline > clock_monotonic_ns() ? deadline - clock_monotonic_ns() : 0;
		struct timespec rem = { left / NSEC_PER_SEC, left % NSEC_PER_SEC };
		if (copy_to_user((void *)urem, &rem, sizeof(rem)))
			return -EFAULT;
	}
	return r;
}

SYSCALL(35, nanosleep, 2)
{
	return do_nanosleep(CLOCK_MONOTONIC, false, a0, a1);
}

SYSCALL(230, clock_nanosleep, 4)
{
	if (a0 == CLOCK_THREAD_CPUTIME_ID || a0 > CLOCK_BOOTTIME)
		return -EINVAL;
	return do_nanosleep(a0, a1 & 1, a2, a3);
}

/* --- processes that do not exist, and small odds and ends --- */

SYSCALL(100, times, 1)
{
	uint64_t ticks = thread_current()->run_ns / (NSEC_PER_SEC / 100);
	uint64_t t[4] = { ticks, 0, 0, 0 };
	if (a0 && copy_to_user((void *)a0, t, sizeof(t)))
		return -EFAULT;
	return clock_monotonic_ns() / (NSEC_PER_SEC / 100);
}

SYSCALL(135, personality, 1)
{
	return 0; /* PER_LINUX; requests to change it are accepted and ignored */
}

SYSCALL(162, sync, 0)
{
	return 0;
}

SYSCALL(306, syncfs, 1)
{
	return 0;
}

SYSCALL(324, membarrier, 3)
{
	/* One CPU: every barrier is already implied. MEMBARRIER_CMD_QUERY lists none. */
	return a0 == 0 ? 0 : -EINVAL;
}
