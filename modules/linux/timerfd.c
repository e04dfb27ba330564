/* timerfd: a timer read as a file. read() returns the number of expirations
 * since the last read (blocking until there is one); poll/epoll report POLLIN
 * while that number is not zero. */
#include "calls.h"
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <sched/wait.h>
#include <time/clock.h>
#include <time/timer.h>
#include <uaccess/uaccess.h>

#define TFD_TIMER_ABSTIME 1
#define TFD_TIMER_CANCEL_ON_SET 2

struct tfd {
	spinlock_t lock;
	int clock;
	struct timer t;
	uint64_t deadline, interval; /* monotonic ns; deadline 0 = disarmed */
	uint64_t ticks;              /* expirations not yet read */
	uint64_t gen;                /* moves on every expiration (edge-triggered epoll) */
};

static void tfd_fired(struct timer *t)
{
	struct tfd *x = t->data;
	uint64_t now = clock_monotonic_ns();
	spin_lock(&x->lock);
	if (x->deadline) {
		x->ticks++;
		x->gen++;
		if (x->interval) {
			x->deadline += x->interval;
			if (x->deadline <= now) {
				uint64_t missed = (now - x->deadline) / x->interval + 1;
				x->ticks += missed;
				x->deadline += missed * x->interval;
			}
			timer_arm(&x->t, x->deadline);
		} else {
			x->deadline = 0;
		}
	}
	spin_unlock(&x->lock);
	poll_notify();
}

static ssize_t tfd_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)pos;
	struct tfd *x = f->priv;
	if (n < 8)
		return -EINVAL;
	for (;;) {
		uint64_t fl = spin_lock_irqsave(&x->lock);
		uint64_t v = x->ticks;
		x->ticks = 0;
		spin_unlock_irqrestore(&x->lock, fl);
		if (v) {
			memcpy(buf, &v, 8);
			return 8;
		}
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		int r = WAIT_INTR(READ_ONCE(x->ticks) != 0, 0);
		if (r)
			return r;
	}
}

static unsigned tfd_poll(struct file *f)
{
	struct tfd *x = f->priv;
	return READ_ONCE(x->ticks) ? POLLIN | POLLRDNORM : 0;
}

static uint64_t tfd_poll_gen(struct file *f)
{
	return READ_ONCE(((struct tfd *)f->priv)->gen);
}

/* Stop x: with deadline and interval cleared a running callback cannot re-arm. */
static void tfd_disarm(struct tfd *x)
{
	uint64_t fl = spin_lock_irqsave(&x->lock);
	x->deadline = x->interval = 0;
	spin_unlock_irqrestore(&x->lock, fl);
	timer_cancel(&x->t);
}

static void tfd_release(struct file *f)
{
	struct tfd *x = f->priv;
	tfd_disarm(x);
	kfree(x);
}

static const struct file_ops tfd_ops = {
	.read = tfd_read, .poll = tfd_poll, .poll_gen = tfd_poll_gen, .release = tfd_release, .stream = true,
};

/* The timerfd behind fd (with a file reference in *fp): -EBADF, or -EINVAL
 * for another kind of file. */
static long tfd_get(int fd, struct file **fp, struct tfd **out)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (f->ops != &tfd_ops) {
		file_put(f);
		return -EINVAL;
	}
	*fp = f;
	*out = f->priv;
	return 0;
}

SYSCALL(283, timerfd_create, 2)
{
	int clock = (int)a0;
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME &&
	    clock != CLOCK_REALTIME_ALARM && clock != CLOCK_BOOTTIME_ALARM)
		return -EINVAL;
	if (a1 & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	struct tfd *x = kzalloc(sizeof(*x));
	if (!x)
		return -ENOMEM;
	spin_init(&x->lock);
	x->clock = clock;
	timer_init(&x->t, tfd_fired, x);
	struct file *f = anon_file(S_IFREG, &tfd_ops, x, O_RDWR | (a1 & O_NONBLOCK));
	if (!f) {
		kfree(x);
		return -ENOMEM;
	}
	int fd = fd_install(f, 0, a1 & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

SYSCALL(286, timerfd_settime, 4)
{
	struct file *f;
	struct tfd *x;
	long r = tfd_get(a0, &f, &x);
	if (r)
		return r;
	struct kitimerspec nv, old;
	r = a1 & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) ? -EINVAL : itimerspec_from_user(a2, &nv);
	if (!r) {
		uint64_t fl = spin_lock_irqsave(&x->lock);
		itimerspec_fill(&old, x->deadline, x->interval);
		spin_unlock_irqrestore(&x->lock, fl);
		tfd_disarm(x);
		fl = spin_lock_irqsave(&x->lock);
		x->ticks = 0;
		x->deadline = timer_deadline(x->clock, a1 & TFD_TIMER_ABSTIME, &nv);
		x->interval = timespec_ns(nv.interval_sec, nv.interval_nsec);
		if (x->deadline)
			timer_arm(&x->t, x->deadline);
		spin_unlock_irqrestore(&x->lock, fl);
		if (a3 && copy_to_user((void *)a3, &old, sizeof(old)))
			r = -EFAULT;
	}
	file_put(f);
	return r;
}

SYSCALL(287, timerfd_gettime, 2)
{
	struct file *f;
	struct tfd *x;
	long r = tfd_get(a0, &f, &x);
	if (r)
		return r;
	struct kitimerspec v;
	uint64_t fl = spin_lock_irqsave(&x->lock);
	itimerspec_fill(&v, x->deadline, x->interval);
	spin_unlock_irqrestore(&x->lock, fl);
	file_put(f);
	return copy_to_user((void *)a1, &v, sizeof(v));
}
