/* POSIX per-process timers: timer_create/settime/gettime/getoverrun/delete
 * with SIGEV_SIGNAL, SIGEV_THREAD_ID (what glibc and musl build SIGEV_THREAD
 * on) and SIGEV_NONE. Each is a one-shot kernel timer that re-arms itself for
 * its interval. CPU-time clocks are accepted and measured as elapsed time
 * (a busy program's CPU time; an idle one's timer fires early). */
#include "calls.h"
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <sched/thread.h>
#include <time/clock.h>
#include <time/timer.h>
#include <uaccess/uaccess.h>

#define SIGEV_SIGNAL 0
#define SIGEV_NONE 1
#define SIGEV_THREAD 2
#define SIGEV_THREAD_ID 4
#define TIMER_ABSTIME 1
#define NR_TIMERS 256

struct ksigevent {
	uint64_t value;
	int32_t signo, notify;
	int32_t tid;
	int32_t pad[11];
};

struct ptimer {
	int id;
	struct process *owner; /* valid while the timer exists: released at its exit and exec */
	int clock, notify, signo, tid;
	uint64_t value;
	struct timer t;
	uint64_t deadline, interval; /* monotonic ns; deadline 0 = disarmed */
	int overrun_last;            /* what timer_getoverrun reports */
};

static spinlock_t lock = SPINLOCK_INIT;
static struct ptimer *timers[NR_TIMERS];

int timer_clock_now(int clock, uint64_t *ns)
{
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_ALARM:
		*ns = linux_realtime_ns();
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_BOOTTIME_ALARM:
		*ns = linux_monotonic_ns();
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
	cpu:
		*ns = thread_current()->run_ns + (clock_monotonic_ns() - thread_current()->switched_in_at);
		return 0;
	default:
		/* CPU-time clock ids (glibc's for CLOCK_PROCESS_CPUTIME_ID,
		 * clock_getcpuclockid): ~pid << 3 | per-thread << 2 | kind. */
		if (clock < 0 && (clock & 3) != 3) {
			int pid = ~(clock >> 3);
			if (pid == 0 || pid == proc.pid || thread_exists(pid))
				goto cpu;
		}
		return -EINVAL;
	}
}

int itimerspec_from_user(uint64_t uaddr, struct kitimerspec *its)
{
	if (copy_from_user(its, (const void *)uaddr, sizeof(*its)))
		return -EFAULT;
	if (its->value_sec < 0 || its->value_nsec < 0 || its->value_nsec >= (int64_t)NSEC_PER_SEC ||
	    its->interval_sec < 0 || its->interval_nsec < 0 || its->interval_nsec >= (int64_t)NSEC_PER_SEC)
		return -EINVAL;
	return 0;
}

uint64_t timespec_ns(int64_t sec, int64_t nsec)
{
	/* Saturate far-future times instead of wrapping. */
	if ((uint64_t)sec >= (~0ull >> 2) / NSEC_PER_SEC)
		return ~0ull >> 2;
	return (uint64_t)sec * NSEC_PER_SEC + nsec;
}

uint64_t timer_deadline(int clock, bool abs, const struct kitimerspec *its)
{
	uint64_t v = timespec_ns(its->value_sec, its->value_nsec);
	if (!v)
		return 0;
	uint64_t mono = clock_monotonic_ns();
	if (!abs)
		return mono + v;
	uint64_t now = 0;
	timer_clock_now(clock, &now);
	return v > now ? mono + (v - now) : mono;
}

void itimerspec_fill(struct kitimerspec *its, uint64_t deadline, uint64_t interval)
{
	uint64_t now = clock_monotonic_ns();
	/* An expired one-shot reads as disarmed; a due one as 1 ns away. */
	uint64_t left = !deadline ? 0 : deadline > now ? deadline - now : 1;
	its->value_sec = left / NSEC_PER_SEC;
	its->value_nsec = left % NSEC_PER_SEC;
	its->interval_sec = interval / NSEC_PER_SEC;
	its->interval_nsec = interval % NSEC_PER_SEC;
}

/* Is this timer's last signal still waiting to be taken? Then count the
 * expiration as an overrun in it, where the taker will read it. */
static bool signal_queued(struct ptimer *pt, int expirations)
{
	struct uthread *t;
	bool r = false;
	struct process *p = pt->owner;
	uint64_t f = spin_lock_irqsave(&p->lock);
	list_for_each_entry(t, &p->threads, node) {
		struct ksiginfo *si = &t->siginfo[pt->signo - 1];
		int32_t v[2];
		memcpy(v, si->bytes, 8);
		if ((t->sigpending & SIGBIT(pt->signo)) && si->code == SI_TIMER && v[0] == pt->id) {
			v[1] = v[1] > 0x3fffffff ? 0x7fffffff : v[1] + expirations;
			memcpy(si->bytes, v, 8);
			pt->overrun_last = v[1];
			r = true;
		}
	}
	spin_unlock_irqrestore(&p->lock, f);
	return r;
}

static void fired(struct timer *t)
{
	struct ptimer *pt = t->data;
	uint64_t now = clock_monotonic_ns();
	int missed = 0;
	spin_lock(&lock);
	if (pt->interval) {
		pt->deadline += pt->interval;
		/* Expirations missed while the timer was late count as overruns. */
		if (pt->deadline <= now) {
			uint64_t n = (now - pt->deadline) / pt->interval + 1;
			missed = n > 0x3fffffff ? 0x3fffffff : (int)n;
			pt->deadline += n * pt->interval;
		}
		timer_arm(&pt->t, pt->deadline);
	} else {
		pt->deadline = 0;
	}
	int notify = pt->notify;
	spin_unlock(&lock);
	if (notify == SIGEV_NONE || signal_queued(pt, 1 + missed))
		return;
	struct ksiginfo si = { .signo = pt->signo, .code = SI_TIMER };
	int32_t v[2] = { pt->id, missed };
	pt->overrun_last = missed;
	memcpy(si.bytes, v, 8);
	memcpy(si.bytes + 8, &pt->value, 8);
	if (notify == SIGEV_THREAD_ID)
		signal_to_thread(pt->owner, pt->tid, pt->signo, &si);
	else
		signal_to_process(pt->owner, pt->signo, &si);
}

/* Stop pt: with its interval cleared a callback running now cannot re-arm it. */
static void disarm(struct ptimer *pt)
{
	uint64_t f = spin_lock_irqsave(&lock);
	pt->deadline = pt->interval = 0;
	spin_unlock_irqrestore(&lock, f);
	timer_cancel(&pt->t);
}

/* The caller's timer id (timer ids are one table; each process sees its own). */
static struct ptimer *lookup(uint64_t id)
{
	struct ptimer *pt = id < NR_TIMERS ? timers[id] : NULL;
	return pt && pt->owner == current_process() ? pt : NULL;
}

SYSCALL(222, timer_create, 3)
{
	int clock = (int)a0;
	uint64_t dummy;
	if (timer_clock_now(clock, &dummy) || clock == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	struct ksigevent ev = { .signo = SIGALRM, .notify = SIGEV_SIGNAL };
	if (a1 && copy_from_user(&ev, (const void *)a1, sizeof(ev)))
		return -EFAULT;
	if (ev.notify != SIGEV_SIGNAL && ev.notify != SIGEV_NONE && ev.notify != SIGEV_THREAD_ID)
		return -EINVAL;
	if (ev.notify != SIGEV_NONE && (ev.signo < 1 || ev.signo > NSIG))
		return -EINVAL;
	if (ev.notify == SIGEV_THREAD_ID && !thread_exists(ev.tid))
		return -EINVAL;
	struct ptimer *pt = kzalloc(sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->owner = current_process();
	pt->clock = clock;
	pt->notify = ev.notify;
	pt->signo = ev.signo;
	pt->tid = ev.tid;
	timer_init(&pt->t, fired, pt);
	uint64_t f = spin_lock_irqsave(&lock);
	int id = -1;
	for (int i = 0; i < NR_TIMERS; i++)
		if (!timers[i]) {
			id = i;
			timers[i] = pt;
			break;
		}
	spin_unlock_irqrestore(&lock, f);
	if (id < 0) {
		kfree(pt);
		return -EAGAIN;
	}
	pt->id = id;
	pt->value = a1 ? ev.value : (uint64_t)id;
	int32_t uid = id;
	if (copy_to_user((void *)a2, &uid, sizeof(uid))) {
		f = spin_lock_irqsave(&lock);
		timers[id] = NULL;
		spin_unlock_irqrestore(&lock, f);
		kfree(pt);
		return -EFAULT;
	}
	return 0;
}

SYSCALL(223, timer_settime, 4)
{
	struct ptimer *pt = lookup(a0);
	struct kitimerspec nv, old;
	if (!pt)
		return -EINVAL;
	if (a1 & ~TIMER_ABSTIME)
		return -EINVAL;
	int r = itimerspec_from_user(a2, &nv);
	if (r)
		return r;
	uint64_t f = spin_lock_irqsave(&lock);
	itimerspec_fill(&old, pt->deadline, pt->interval);
	spin_unlock_irqrestore(&lock, f);
	disarm(pt);
	f = spin_lock_irqsave(&lock);
	pt->deadline = timer_deadline(pt->clock, a1 & TIMER_ABSTIME, &nv);
	pt->interval = timespec_ns(nv.interval_sec, nv.interval_nsec);
	pt->overrun_last = 0;
	if (pt->deadline)
		timer_arm(&pt->t, pt->deadline);
	spin_unlock_irqrestore(&lock, f);
	if (a3 && copy_to_user((void *)a3, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYSCALL(224, timer_gettime, 2)
{
	struct ptimer *pt = lookup(a0);
	struct kitimerspec v;
	if (!pt)
		return -EINVAL;
	uint64_t f = spin_lock_irqsave(&lock);
	itimerspec_fill(&v, pt->deadline, pt->interval);
	spin_unlock_irqrestore(&lock, f);
	return copy_to_user((void *)a1, &v, sizeof(v));
}

SYSCALL(225, timer_getoverrun, 1)
{
	struct ptimer *pt = lookup(a0);
	return pt ? pt->overrun_last : -EINVAL;
}

void posix_timers_release(struct process *p)
{
	for (int i = 0; i < NR_TIMERS; i++) {
		uint64_t f = spin_lock_irqsave(&lock);
		struct ptimer *pt = timers[i] && timers[i]->owner == p ? timers[i] : NULL;
		if (pt)
			timers[i] = NULL;
		spin_unlock_irqrestore(&lock, f);
		if (pt) {
			disarm(pt);
			kfree(pt);
		}
	}
}

SYSCALL(226, timer_delete, 1)
{
	uint64_t f = spin_lock_irqsave(&lock);
	struct ptimer *pt = lookup(a0);
	if (pt)
		timers[a0] = NULL;
	spin_unlock_irqrestore(&lock, f);
	if (!pt)
		return -EINVAL;
	disarm(pt); /* timer_cancel waits for a callback running elsewhere */
	kfree(pt);
	return 0;
}
