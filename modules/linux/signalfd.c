/* signalfd: pending signals of a mask read as signalfd_siginfo records. A
 * read takes the reading thread's signals first, then those sent to the
 * process (sig_dequeue), as Linux's does; poll reports POLLIN likewise. */
#include "calls.h"
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <sched/wait.h>
#include <uaccess/uaccess.h>

#define SFD_CLOEXEC O_CLOEXEC
#define SFD_NONBLOCK O_NONBLOCK
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))

struct signalfd_siginfo {
	uint32_t signo;
	int32_t errno_, code;
	uint32_t pid, uid;
	int32_t fd;
	uint32_t tid, band, overrun, trapno;
	int32_t status, int_;
	uint64_t ptr, utime, stime, addr;
	uint16_t addr_lsb;
	uint8_t pad[46];
};
STATIC_ASSERT(sizeof(struct signalfd_siginfo) == 128, "signalfd_siginfo layout");

struct sfd {
	uint64_t mask;
};

static void to_record(const struct ksiginfo *si, struct signalfd_siginfo *r)
{
	uint32_t w[2];
	uint64_t q;
	memset(r, 0, sizeof(*r));
	memcpy(w, si->bytes, 8);
	memcpy(&q, si->bytes + 8, 8);
	r->signo = si->signo;
	r->errno_ = si->errno_;
	r->code = si->code;
	if (si->code == SI_TIMER) {
		r->tid = w[0];
		r->overrun = w[1];
		r->ptr = q;
		r->int_ = (int32_t)q;
	} else if (si->signo == SIGSEGV || si->signo == SIGBUS || si->signo == SIGILL || si->signo == SIGFPE) {
		r->addr = si->addr;
	} else {
		r->pid = w[0];
		r->uid = w[1];
		r->status = (int32_t)q; /* SIGCHLD's status and a queued value share the place */
		r->int_ = (int32_t)q;
		r->ptr = q;
	}
}

static ssize_t sfd_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)pos;
	struct sfd *x = f->priv;
	size_t done = 0;
	if (n < sizeof(struct signalfd_siginfo))
		return -EINVAL;
	while (done + sizeof(struct signalfd_siginfo) <= n) {
		struct ksiginfo si;
		if (!sig_dequeue(READ_ONCE(x->mask), &si)) {
			if (done)
				break;
			if (f->flags & O_NONBLOCK)
				return -EAGAIN;
			int r = WAIT_INTR(sig_peek(READ_ONCE(x->mask)), 0);
			if (r)
				return r;
			continue;
		}
		struct signalfd_siginfo rec;
		to_record(&si, &rec);
		memcpy((char *)buf + done, &rec, sizeof(rec));
		done += sizeof(rec);
	}
	return done;
}

static unsigned sfd_poll(struct file *f)
{
	struct sfd *x = f->priv;
	return current_uthread() && sig_peek(READ_ONCE(x->mask)) ? POLLIN | POLLRDNORM : 0;
}

static void sfd_release(struct file *f)
{
	kfree(f->priv);
}

static const struct file_ops sfd_ops = {
	.read = sfd_read, .poll = sfd_poll, .release = sfd_release, .stream = true,
};

SYSCALL(289, signalfd4, 4)
{
	uint64_t mask;
	if (a2 != 8 || (a3 & ~(SFD_CLOEXEC | SFD_NONBLOCK)))
		return -EINVAL;
	if (copy_from_user(&mask, (const void *)a1, 8))
		return -EFAULT;
	mask &= ~UNBLOCKABLE;
	if ((int)a0 != -1) {
		struct file *f = fd_get(a0);
		if (!f)
			return -EBADF;
		long r = (long)(int)a0;
		if (f->ops == &sfd_ops)
			WRITE_ONCE(((struct sfd *)f->priv)->mask, mask);
		else
			r = -EINVAL;
		file_put(f);
		return r;
	}
	struct sfd *x = kzalloc(sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->mask = mask;
	struct file *f = anon_file(S_IFREG, &sfd_ops, x, O_RDWR | (a3 & SFD_NONBLOCK));
	if (!f) {
		kfree(x);
		return -ENOMEM;
	}
	int fd = fd_install(f, 0, a3 & SFD_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

SYSCALL(282, signalfd, 3)
{
	return sys_signalfd4(a0, a1, a2, 0, 0, 0);
}
