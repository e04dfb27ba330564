/* Taking signals synchronously: rt_sigtimedwait (sigwait, sigwaitinfo,
 * sigtimedwait) and queueing them with a value (rt_sigqueueinfo,
 * rt_tgsigqueueinfo). Signals sent to the process stay with the thread kill
 * picked; a waiter in another thread takes them from there, as Linux's shared
 * pending set would give them up. */
#include "calls.h"
#include <lib/string.h>
#include <sched/wait.h>
#include <time/clock.h>
#include <uaccess/uaccess.h>

#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))

/* The thread holding one of set, under proc.lock: the caller first. */
static struct uthread *holder(uint64_t set, int *sig)
{
	struct uthread *self = current_uthread(), *t;
	if (self->sigpending & set) {
		*sig = __builtin_ctzll(self->sigpending & set) + 1;
		return self;
	}
	list_for_each_entry(t, &proc.threads, node) {
		uint64_t p = t->sigpending & set;
		while (p) {
			int s = __builtin_ctzll(p) + 1;
			if (t->siginfo[s - 1].code != SI_TKILL) {
				*sig = s;
				return t;
			}
			p &= p - 1;
		}
	}
	return NULL;
}

int sig_dequeue(uint64_t set, struct ksiginfo *out)
{
	int sig = 0;
	uint64_t f = spin_lock_irqsave(&proc.lock);
	struct uthread *t = holder(set, &sig);
	if (t) {
		t->sigpending &= ~SIGBIT(sig);
		*out = t->siginfo[sig - 1];
		out->signo = sig;
	}
	spin_unlock_irqrestore(&proc.lock, f);
	return t ? sig : 0;
}

bool sig_peek(uint64_t set)
{
	int sig;
	uint64_t f = spin_lock_irqsave(&proc.lock);
	bool r = holder(set, &sig) != NULL;
	spin_unlock_irqrestore(&proc.lock, f);
	return r;
}

int signal_to_process(struct process *p, int sig, const struct ksiginfo *info)
{
	uint64_t f = spin_lock_irqsave(&procs_lock);
	int r = p->state == PROC_ALIVE ? signal_send_process(p, sig, info) : 0;
	spin_unlock_irqrestore(&procs_lock, f);
	return r;
}

int signal_to_pid(int pid, int sig, const struct ksiginfo *info)
{
	uint64_t f = spin_lock_irqsave(&procs_lock);
	struct process *p = pid > 0 ? process_find(pid) : NULL;
	int r = !p || p->state != PROC_ALIVE ? -ESRCH : signal_send_process(p, sig, info);
	spin_unlock_irqrestore(&procs_lock, f);
	return r;
}

/* Under p->lock. */
static struct uthread *by_tid(struct process *p, int tid)
{
	struct uthread *t;
	list_for_each_entry(t, &p->threads, node)
		if (t->tid == tid)
			return t;
	return NULL;
}

bool thread_exists(int tid)
{
	uint64_t f = spin_lock_irqsave(&proc.lock);
	bool r = by_tid(&proc, tid) != NULL;
	spin_unlock_irqrestore(&proc.lock, f);
	return r;
}

/* Under procs_lock. */
static int to_thread_locked(struct process *p, int tid, int sig, const struct ksiginfo *info)
{
	uint64_t f = spin_lock_irqsave(&p->lock);
	struct uthread *t = p->state == PROC_ALIVE ? by_tid(p, tid) : NULL;
	spin_unlock_irqrestore(&p->lock, f);
	if (!t)
		return -ESRCH;
	return sig ? signal_send(t, sig, info) : 0;
}

int signal_to_thread(struct process *p, int tid, int sig, const struct ksiginfo *info)
{
	/* procs_lock keeps p's threads from going away meanwhile. */
	uint64_t f = spin_lock_irqsave(&procs_lock);
	int r = to_thread_locked(p, tid, sig, info);
	spin_unlock_irqrestore(&procs_lock, f);
	return r;
}

struct timespec64 {
	int64_t sec, nsec;
};

SYSCALL(128, rt_sigtimedwait, 4)
{
	struct uthread *ut = current_uthread();
	uint64_t set, deadline = 0;
	if (a3 != 8)
		return -EINVAL;
	if (copy_from_user(&set, (const void *)a0, 8))
		return -EFAULT;
	set &= ~UNBLOCKABLE;
	if (a2) {
		struct timespec64 ts;
		if (copy_from_user(&ts, (const void *)a2, sizeof(ts)))
			return -EFAULT;
		if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC_PER_SEC)
			return -EINVAL;
		/* A zero timeout polls; deadline 0 means "none" to WAIT_INTR. */
		deadline = clock_monotonic_ns() + (uint64_t)ts.sec * NSEC_PER_SEC + ts.nsec;
		if (deadline == 0)
			deadline = 1;
	}
	struct ksiginfo si;
	int sig = sig_dequeue(set, &si);
	if (!sig && !(a2 && deadline <= clock_monotonic_ns() + 1)) {
		/* Unblock the set while waiting, as Linux does, so kill picks this
		 * thread and wakes it; waitset keeps ignored-by-default signals. */
		uint64_t f = spin_lock_irqsave(&proc.lock);
		uint64_t saved = ut->sigmask;
		ut->waitset = set;
		ut->sigmask &= ~set;
		spin_unlock_irqrestore(&proc.lock, f);
		int r = WAIT_INTR(sig_peek(set), deadline);
		f = spin_lock_irqsave(&proc.lock);
		ut->sigmask = saved;
		ut->waitset = 0;
		spin_unlock_irqrestore(&proc.lock, f);
		sig = sig_dequeue(set, &si);
		if (!sig)
			return r == -ETIMEDOUT ? -EAGAIN : r ? r : -EINTR;
	}
	if (!sig)
		return -EAGAIN;
	if (a1 && copy_to_user((void *)a1, &si, sizeof(si)))
		return -EFAULT;
	return sig;
}

static long queue_info(int tgid, int tid, int sig, uint64_t uinfo)
{
	struct ksiginfo si;
	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (copy_from_user(&si, (const void *)uinfo, sizeof(si)))
		return -EFAULT;
	/* Only the kernel may claim to be the kernel or a timer (as Linux checks),
	 * except a process signalling itself. */
	if ((si.code >= 0 || si.code == SI_TKILL) && tgid != proc.pid)
		return -EPERM;
	si.signo = sig;
	if (!tid)
		return sig ? signal_to_pid(tgid, sig, &si) : 0;
	uint64_t f = spin_lock_irqsave(&procs_lock);
	struct process *p = process_find(tgid);
	long r = p ? to_thread_locked(p, tid, sig, &si) : -ESRCH;
	spin_unlock_irqrestore(&procs_lock, f);
	return r;
}

SYSCALL(129, rt_sigqueueinfo, 3)
{
	return queue_info(a0, 0, a1, a2);
}

SYSCALL(297, rt_tgsigqueueinfo, 4)
{
	return queue_info(a0, a1, a2, a3);
}
