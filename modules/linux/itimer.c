/* alarm and setitimer(ITIMER_REAL): a one-shot kernel timer per process that
 * sends it SIGALRM and re-arms itself for an interval. (ITIMER_VIRTUAL
 * and ITIMER_PROF, CPU-time timers, are not supported.) */
#include "internal.h"
#include <time/clock.h>
#include <time/timer.h>
#include <uaccess/uaccess.h>

#define ITIMER_REAL 0

struct itimerval {
	int64_t interval_sec, interval_usec, value_sec, value_usec;
};

static struct process *timer_process(struct timer *t)
{
	return (struct process *)((char *)t - __builtin_offsetof(struct process, alarm_timer));
}

/* The fields of struct process (ns; deadline 0 = disarmed). */
#define alarm_timer (p->alarm_timer)
#define alarm_ready (p->alarm_ready)
#define alarm_deadline (p->alarm_deadline)
#define alarm_interval (p->alarm_interval)

static void alarm_fired(struct timer *t)
{
	struct process *p = timer_process(t);
	struct uthread *ut = NULL;
	uint64_t f = spin_lock_irqsave(&p->lock);
	if (!list_empty(&p->threads))
		ut = list_first_entry(&p->threads, struct uthread, node);
	if (alarm_interval) {
		alarm_deadline += alarm_interval;
		timer_arm(&alarm_timer, alarm_deadline);
	} else {
		alarm_deadline = 0;
	}
	spin_unlock_irqrestore(&p->lock, f);
	if (ut) {
		struct ksiginfo si = { .signo = SIGALRM, .code = 0x80 /* SI_KERNEL */ };
		signal_send(ut, SIGALRM, &si);
	}
}

static void get_current(struct itimerval *v)
{
	struct process *p = &proc;
	uint64_t now = clock_monotonic_ns();
	uint64_t left = alarm_deadline > now ? alarm_deadline - now : (alarm_deadline ? 1000 : 0);
	v->value_sec = left / NSEC_PER_SEC;
	v->value_usec = (left % NSEC_PER_SEC) / 1000;
	v->interval_sec = alarm_interval / NSEC_PER_SEC;
	v->interval_usec = (alarm_interval % NSEC_PER_SEC) / 1000;
}

static void set_timer(uint64_t value_ns, uint64_t interval_ns)
{
	struct process *p = &proc;
	if (!alarm_ready) {
		timer_init(&alarm_timer, alarm_fired, NULL);
		alarm_ready = true;
	}
	uint64_t f = irq_save();
	timer_cancel(&alarm_timer);
	alarm_interval = interval_ns;
	alarm_deadline = value_ns ? clock_monotonic_ns() + value_ns : 0;
	if (alarm_deadline)
		timer_arm(&alarm_timer, alarm_deadline);
	irq_restore(f);
}

SYSCALL(38, setitimer, 3)
{
	struct itimerval nv, old;
	if (a0 != ITIMER_REAL)
		return -EINVAL;
	get_current(&old);
	if (a1) {
		if (copy_from_user(&nv, (const void *)a1, sizeof(nv)))
			return -EFAULT;
		if (nv.value_sec < 0 || nv.value_usec < 0 || nv.value_usec >= 1000000 || nv.interval_sec < 0 ||
		    nv.interval_usec < 0 || nv.interval_usec >= 1000000)
			return -EINVAL;
		set_timer(nv.value_sec * NSEC_PER_SEC + nv.value_usec * 1000,
			  nv.interval_sec * NSEC_PER_SEC + nv.interval_usec * 1000);
	}
	if (a2 && copy_to_user((void *)a2, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYSCALL(36, getitimer, 2)
{
	struct itimerval v;
	if (a0 != ITIMER_REAL)
		return -EINVAL;
	get_current(&v);
	return copy_to_user((void *)a1, &v, sizeof(v));
}

SYSCALL(37, alarm, 1)
{
	struct itimerval old;
	get_current(&old);
	set_timer(a0 * NSEC_PER_SEC, 0);
	return old.value_sec + (old.value_usec ? 1 : 0);
}
