/* The sched_setscheduler family. osvb's scheduler has one class; the policy
 * and priority a thread asks for are checked as Linux checks them (the
 * program is root), recorded and reported back. */
#include "calls.h"
#include <uaccess/uaccess.h>

#define SCHED_OTHER 0
#define SCHED_FIFO 1
#define SCHED_RR 2
#define SCHED_BATCH 3
#define SCHED_IDLE 5
#define SCHED_DEADLINE 6
#define SCHED_RESET_ON_FORK 0x40000000

static bool realtime(int policy)
{
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

/* The thread pid names (0: the caller), under proc.lock; NULL if none. */
static struct uthread *target(int pid)
{
	struct uthread *t;
	if (pid == 0)
		return current_uthread();
	list_for_each_entry(t, &proc.threads, node)
		if (t->tid == pid)
			return t;
	return NULL;
}

static long set(int pid, int policy, uint64_t uparam, bool keep_policy)
{
	int32_t prio;
	if (pid < 0 || !uparam)
		return -EINVAL;
	if (copy_from_user(&prio, (const void *)uparam, sizeof(prio)))
		return -EFAULT;
	policy &= ~SCHED_RESET_ON_FORK;
	uint64_t f = spin_lock_irqsave(&proc.lock);
	struct uthread *t = target(pid);
	long r = 0;
	if (!t) {
		r = -ESRCH;
	} else {
		if (keep_policy)
			policy = t->sched_policy;
		if (policy != SCHED_OTHER && policy != SCHED_BATCH && policy != SCHED_IDLE && !realtime(policy))
			r = -EINVAL;
		else if (realtime(policy) ? prio < 1 || prio > 99 : prio != 0)
			r = -EINVAL;
		else {
			t->sched_policy = policy;
			t->sched_prio = prio;
		}
	}
	spin_unlock_irqrestore(&proc.lock, f);
	return r;
}

SYSCALL(144, sched_setscheduler, 3)
{
	return set(a0, a1, a2, false);
}

SYSCALL(142, sched_setparam, 2)
{
	return set(a0, 0, a1, true);
}

SYSCALL(145, sched_getscheduler, 1)
{
	if ((int)a0 < 0)
		return -EINVAL;
	uint64_t f = spin_lock_irqsave(&proc.lock);
	struct uthread *t = target(a0);
	long r = t ? t->sched_policy : -ESRCH;
	spin_unlock_irqrestore(&proc.lock, f);
	return r;
}

SYSCALL(143, sched_getparam, 2)
{
	if ((int)a0 < 0 || !a1)
		return -EINVAL;
	uint64_t f = spin_lock_irqsave(&proc.lock);
	struct uthread *t = target(a0);
	int32_t prio = t ? t->sched_prio : 0;
	spin_unlock_irqrestore(&proc.lock, f);
	if (!t)
		return -ESRCH;
	return copy_to_user((void *)a1, &prio, sizeof(prio));
}

SYSCALL(146, sched_get_priority_max, 1)
{
	if (realtime(a0))
		return 99;
	return a0 == SCHED_OTHER || a0 == SCHED_BATCH || a0 == SCHED_IDLE || a0 == SCHED_DEADLINE ? 0 : -EINVAL;
}

SYSCALL(147, sched_get_priority_min, 1)
{
	if (realtime(a0))
		return 1;
	return a0 == SCHED_OTHER || a0 == SCHED_BATCH || a0 == SCHED_IDLE || a0 == SCHED_DEADLINE ? 0 : -EINVAL;
}

/* SCHED_RR's quantum as Linux reports it by default (100 ms); 0 for the
 * other policies, as the host's kernel answers for SCHED_OTHER here. */
SYSCALL(148, sched_rr_get_interval, 2)
{
	if ((int)a0 < 0)
		return -EINVAL;
	uint64_t f = spin_lock_irqsave(&proc.lock);
	struct uthread *t = target(a0);
	int policy = t ? t->sched_policy : -1;
	spin_unlock_irqrestore(&proc.lock, f);
	if (policy < 0)
		return -ESRCH;
	int64_t ts[2] = { 0, policy == SCHED_RR ? 100000000 : 0 };
	return copy_to_user((void *)a1, ts, sizeof(ts));
}
