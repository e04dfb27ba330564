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

int signal_send_process(int sig, const struct ksiginfo *info)
{
	uint64_t f = spin_lock_irqsave(&proc.lock);
	struct uthread *t, *target = NULL;
	list_for_each_entry(t, &proc.threads, node) {
		if (!target)
			target = t;
		if (!(t->sigmask & SIGBIT(sig)) || (t->waitset & SIGBIT(sig))) {
			target = t;
			break;
		}
	}
	spin_unlock_irqrestore(&proc.lock, f);
	return target ? signal_send(target, sig, info) : -ESRCH;
}

static struct uthread *by_tid(int tid)
{
	struct uthread *t;
	list_for_each_entry(t, &proc.threads, node)
		if (t->tid == tid)
			return t;
	return NULL;
}

bool thread_exists(int tid)
{
	uint64_t f = spin_lock_irqsave(&proc.lock);
	bool r = by_tid(tid) != NULL;
	spin_unlock_irqrestore(&proc.lock, f);
	return r;
}

int signal_send_tid(int tid, int sig, const struct ksiginfo *info)
{
	uint64_t f = spin_lock_irqsave(&proc.lock);
	struct uthread *t = by_tid(tid);
	spin_unlock_irqrestore(&proc.lock, f);
	return t ? signal_send(t, sig, info) : -ESRCH;
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
	if (tgid != proc.pid)
		return -ESRCH;
	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (copy_from_user(&si, (const void *)uinfo, sizeof(si)))
		return -EFAULT;
	/* Only the kernel may claim to be the kernel or a timer (as Linux checks). */
	if (si.code >= 0 || si.code == SI_TKILL)
		return -EPERM;
	si.signo = sig;
	if (sig == 0)
		return tid && !thread_exists(tid) ? -ESRCH : 0;
	return tid ? signal_send_tid(tid, sig, &si) : signal_send_process(sig, &si);
}

SYSCALL(129, rt_sigqueueinfo, 3)
{
	return queue_info(a0, 0, a1, a2);
}

SYSCALL(297, rt_tgsigqueueinfo, 4)
{
	return queue_info(a0, a1, a2, a3);
}
