/* Socket system calls. A socket is a file (S_IFSOCK) whose priv is a struct
 * sock; its family does nonblocking work on kernel buffers, and this file
 * adds what is the same for every family: blocking with SO_RCVTIMEO /
 * SO_SNDTIMEO and signals, user copies, SIGPIPE, accept4/socketpair flags. */
#include "internal.h"
#include "socket.h"
#include <mm/kmalloc.h>
#include <sched/wait.h>
#include <time/clock.h>
#include <uaccess/uaccess.h>
#include <lib/string.h>

KTABLE_DEFINE(struct sock_family, sock_family);
KTABLE_DEFINE(struct sock_ifioctl, sock_ifioctl);

#define SOCK_BUF (256u << 10)  /* bytes moved per call into a family */
#define DGRAM_MAX 65536        /* largest datagram accepted */
#define OPT_MAX 256
#define FIONREAD 0x541B
#define FIONBIO 0x5421
#define SIOCATMARK 0x8905
#define MSG_CMSG_CLOEXEC 0x40000000

static const struct file_ops sock_fops;

struct sock *sock_of(struct file *f)
{
	return f->ops == &sock_fops ? f->priv : NULL;
}

static bool nonblocking(struct file *f, int flags)
{
	return (f->flags & O_NONBLOCK) || (flags & LINUX_MSG_DONTWAIT);
}

static uint64_t deadline_after(uint64_t ns)
{
	return ns ? clock_monotonic_ns() + ns : 0;
}

/* Sleep until the socket shows one of events (or an error/hangup). */
static int sock_wait(struct sock *s, unsigned events, uint64_t deadline)
{
	int r = WAIT_INTR(s->ops->poll(s) & (events | POLLERR | POLLHUP), deadline);
	return r == -ETIMEDOUT ? -EAGAIN : r;
}

/* Receive into a kernel buffer, blocking unless asked not to. */
static int64_t sock_recv_k(struct file *f, struct sock *s, void *buf, size_t n, int flags, void *sa,
			   uint32_t *salen, int *oflags)
{
	uint64_t deadline = deadline_after(s->rcvtimeo_ns);
	size_t done = 0;
	for (;;) {
		int64_t r = s->ops->recv(s, (char *)buf + done, n - done, flags, sa, salen, oflags);
		if (r > 0) {
			done += r;
			/* MSG_WAITALL: a stream keeps reading until n bytes (or the end). */
			if (!(flags & LINUX_MSG_WAITALL) || s->type != LINUX_SOCK_STREAM || done == n)
				return done;
			continue;
		}
		if (r == 0 || r != -EAGAIN || nonblocking(f, flags))
			return done ? (int64_t)done : r;
		r = sock_wait(s, POLLIN, deadline);
		if (r)
			return done ? (int64_t)done : r;
	}
}

/* Send from a kernel buffer: a blocking stream send queues all of it. */
static int64_t sock_send_k(struct file *f, struct sock *s, const void *buf, size_t n, int flags, const void *sa,
			   uint32_t salen)
{
	uint64_t deadline = deadline_after(s->sndtimeo_ns);
	size_t done = 0;
	for (;;) {
		int64_t r = s->ops->send(s, (const char *)buf + done, n - done, flags, sa, salen);
		if (r >= 0) {
			done += r;
			if (done == n || s->type != LINUX_SOCK_STREAM || nonblocking(f, flags))
				return done;
			continue;
		}
		if (r != -EAGAIN || nonblocking(f, flags))
			return done ? (int64_t)done : r;
		r = sock_wait(s, POLLOUT, deadline);
		if (r)
			return done ? (int64_t)done : r;
	}
}

static void sigpipe(int64_t r, int flags)
{
	if (r == -EPIPE && !(flags & LINUX_MSG_NOSIGNAL)) {
		struct ksiginfo si = { .signo = SIGPIPE, .code = SI_USER };
		signal_send(current_uthread(), SIGPIPE, &si);
	}
}

/* --- the file --- */

static ssize_t sock_read(struct file *f, void *buf, size_t n, __unused uint64_t *pos)
{
	struct sock *s = f->priv;
	int of = 0;
	return sock_recv_k(f, s, buf, n, 0, NULL, NULL, &of);
}

static ssize_t sock_write(struct file *f, const void *buf, size_t n, __unused uint64_t *pos)
{
	/* do_write raises SIGPIPE for -EPIPE. */
	return sock_send_k(f, f->priv, buf, n, 0, NULL, 0);
}

static unsigned sock_poll(struct file *f)
{
	struct sock *s = f->priv;
	return s->ops->poll(s);
}

static uint64_t sock_poll_gen(struct file *f)
{
	struct sock *s = f->priv;
	return s->ops->poll_gen ? s->ops->poll_gen(s) : 0;
}

static int sock_ioctl(struct file *f, unsigned cmd, unsigned long arg)
{
	struct sock *s = f->priv;
	int v;
	switch (cmd) {
	case FIONREAD:
		v = s->ops->nread ? s->ops->nread(s) : 0;
		if (v < 0)
			return v;
		return copy_to_user((void *)arg, &v, sizeof(v)) ? -EFAULT : 0;
	case FIONBIO:
		if (copy_from_user(&v, (const void *)arg, sizeof(v)))
			return -EFAULT;
		f->flags = v ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK;
		return 0;
	case SIOCATMARK:
		v = 0;
		return copy_to_user((void *)arg, &v, sizeof(v)) ? -EFAULT : 0;
	}
	const struct sock_ifioctl *h;
	ktable_foreach(h, sock_ifioctl) {
		int r = h->ioctl(cmd, arg);
		if (r != -ENOTTY)
			return r;
	}
	return -ENOTTY;
}

static void sock_release(struct file *f)
{
	struct sock *s = f->priv;
	if (s->ops->release)
		s->ops->release(s);
	kfree(s);
	poll_notify();
}

static const struct file_ops sock_fops = {
	.read = sock_read,
	.write = sock_write,
	.poll = sock_poll,
	.poll_gen = sock_poll_gen,
	.ioctl = sock_ioctl,
	.release = sock_release,
	.stream = true,
};

/* A descriptor for s (consumed on failure). */
static int sock_install(struct sock *s, int flags)
{
	struct file *f = anon_file(S_IFSOCK, &sock_fops, s, O_RDWR | (flags & LINUX_SOCK_NONBLOCK ? O_NONBLOCK : 0));
	if (!f) {
		if (s->ops && s->ops->release)
			s->ops->release(s);
		kfree(s);
		return -ENOMEM;
	}
	int fd = fd_install(f, 0, flags & LINUX_SOCK_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

static const struct sock_family *family(int domain)
{
	const struct sock_family *fam;
	ktable_foreach(fam, sock_family)
		if (fam->domain == domain)
			return fam;
	return NULL;
}

SYSCALL(41, socket, 3)
{
	int domain = a0, type = a1 & 0xf, flags = a1 & ~0xf;
	if (flags & ~(LINUX_SOCK_NONBLOCK | LINUX_SOCK_CLOEXEC))
		return -EINVAL;
	const struct sock_family *fam = family(domain);
	if (!fam)
		return -EAFNOSUPPORT;
	struct sock *s = kzalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct sock){ .domain = domain, .type = type, .protocol = a2 };
	int r = fam->create(s, type, a2);
	if (r) {
		kfree(s);
		return r;
	}
	return sock_install(s, flags);
}

SYSCALL(53, socketpair, 4)
{
	int domain = a0, type = a1 & 0xf, flags = a1 & ~0xf;
	if (flags & ~(LINUX_SOCK_NONBLOCK | LINUX_SOCK_CLOEXEC))
		return -EINVAL;
	const struct sock_family *fam = family(domain);
	if (!fam)
		return -EAFNOSUPPORT;
	if (!fam->pair)
		return -EOPNOTSUPP;
	struct sock *a = kzalloc(sizeof(*a)), *b = kzalloc(sizeof(*b));
	if (!a || !b) {
		kfree(a);
		kfree(b);
		return -ENOMEM;
	}
	*a = (struct sock){ .domain = domain, .type = type, .protocol = a2 };
	*b = *a;
	int r = fam->pair(a, b, type, a2);
	if (r) {
		kfree(a);
		kfree(b);
		return r;
	}
	int fa = sock_install(a, flags);
	if (fa < 0) {
		b->ops->release(b);
		kfree(b);
		return fa;
	}
	int fb = sock_install(b, flags);
	if (fb < 0) {
		fd_close(fa);
		return fb;
	}
	int fds[2] = { fa, fb };
	if (copy_to_user((void *)a3, fds, sizeof(fds))) {
		fd_close(fa);
		fd_close(fb);
		return -EFAULT;
	}
	return 0;
}

/* The socket of fd with a reference on its file, or -EBADF / -ENOTSOCK. */
static int sock_get(int fd, struct file **fp, struct sock **sp)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	struct sock *s = sock_of(f);
	if (!s) {
		file_put(f);
		return -ENOTSOCK;
	}
	*fp = f;
	*sp = s;
	return 0;
}

/* A user sockaddr into k (LINUX_SOCKADDR_MAX bytes). */
static int addr_in(uint64_t uaddr, uint64_t len, uint8_t *k)
{
	if (len > LINUX_SOCKADDR_MAX)
		return -EINVAL;
	if (len && copy_from_user(k, (const void *)uaddr, len))
		return -EFAULT;
	return 0;
}

/* A kernel sockaddr of full length n out to (uaddr, ulen): truncated, *ulen = n. */
static int addr_out(const uint8_t *k, uint32_t n, uint64_t uaddr, uint64_t ulen)
{
	if (!uaddr || !ulen)
		return 0;
	int32_t have;
	if (copy_from_user(&have, (const void *)ulen, sizeof(have)))
		return -EFAULT;
	if (have < 0)
		return -EINVAL;
	uint32_t c = (uint32_t)have < n ? (uint32_t)have : n;
	if (c && copy_to_user((void *)uaddr, k, c))
		return -EFAULT;
	return copy_to_user((void *)ulen, &n, sizeof(n)) ? -EFAULT : 0;
}

SYSCALL(49, bind, 3)
{
	struct file *f;
	struct sock *s;
	uint8_t sa[LINUX_SOCKADDR_MAX];
	int r = sock_get(a0, &f, &s);
	if (r)
		return r;
	if (!(r = addr_in(a1, a2, sa)))
		r = s->ops->bind ? s->ops->bind(s, sa, a2) : -EOPNOTSUPP;
	file_put(f);
	return r;
}

SYSCALL(50, listen, 2)
{
	struct file *f;
	struct sock *s;
	int r = sock_get(a0, &f, &s);
	if (r)
		return r;
	r = s->ops->listen ? s->ops->listen(s, (int)a1) : -EOPNOTSUPP;
	file_put(f);
	poll_notify();
	return r;
}

static long do_accept(int fd, uint64_t uaddr, uint64_t ulen, int flags)
{
	struct file *f;
	struct sock *s;
	uint8_t sa[LINUX_SOCKADDR_MAX];
	uint32_t salen = sizeof(sa);
	if (flags & ~(LINUX_SOCK_NONBLOCK | LINUX_SOCK_CLOEXEC))
		return -EINVAL;
	int r = sock_get(fd, &f, &s);
	if (r)
		return r;
	if (!s->ops->accept) {
		file_put(f);
		return -EOPNOTSUPP;
	}
	struct sock *n = kzalloc(sizeof(*n));
	if (!n) {
		file_put(f);
		return -ENOMEM;
	}
	for (;;) {
		*n = (struct sock){ .domain = s->domain, .type = s->type, .protocol = s->protocol };
		salen = sizeof(sa);
		r = s->ops->accept(s, n, sa, &salen);
		if (r != -EAGAIN || nonblocking(f, 0))
			break;
		if ((r = sock_wait(s, POLLIN, deadline_after(s->rcvtimeo_ns))))
			break;
	}
	file_put(f);
	if (r) {
		kfree(n);
		return r;
	}
	int nfd = sock_install(n, flags);
	if (nfd < 0)
		return nfd;
	if ((r = addr_out(sa, salen, uaddr, ulen))) {
		fd_close(nfd);
		return r;
	}
	return nfd;
}

SYSCALL(43, accept, 3)
{
	return do_accept(a0, a1, a2, 0);
}

SYSCALL(288, accept4, 4)
{
	return do_accept(a0, a1, a2, a3);
}

SYSCALL(42, connect, 3)
{
	struct file *f;
	struct sock *s;
	uint8_t sa[LINUX_SOCKADDR_MAX];
	int r = sock_get(a0, &f, &s);
	if (r)
		return r;
	if ((r = addr_in(a1, a2, sa)))
		goto out;
	r = s->ops->connect ? s->ops->connect(s, sa, a2) : -EOPNOTSUPP;
	if (r == -EINPROGRESS && !nonblocking(f, 0)) {
		r = sock_wait(s, POLLOUT, deadline_after(s->sndtimeo_ns));
		if (r == -EAGAIN)
			r = -EINPROGRESS;
		else if (!r)
			r = s->ops->connect_result(s);
	}
out:
	file_put(f);
	return r;
}

static long do_getname(int fd, uint64_t uaddr, uint64_t ulen, bool peer)
{
	struct file *f;
	struct sock *s;
	uint8_t sa[LINUX_SOCKADDR_MAX];
	uint32_t n = sizeof(sa);
	int r = sock_get(fd, &f, &s);
	if (r)
		return r;
	memset(sa, 0, sizeof(sa));
	r = s->ops->getname(s, sa, &n, peer);
	file_put(f);
	if (r)
		return r;
	if (!uaddr || !ulen)
		return -EFAULT;
	return addr_out(sa, n, uaddr, ulen);
}

SYSCALL(51, getsockname, 3)
{
	return do_getname(a0, a1, a2, false);
}

SYSCALL(52, getpeername, 3)
{
	return do_getname(a0, a1, a2, true);
}

SYSCALL(48, shutdown, 2)
{
	struct file *f;
	struct sock *s;
	int r = sock_get(a0, &f, &s);
	if (r)
		return r;
	r = s->ops->shutdown ? s->ops->shutdown(s, (int)a1) : -EOPNOTSUPP;
	file_put(f);
	poll_notify();
	return r;
}

struct ktimeval {
	int64_t sec, usec;
};

SYSCALL(54, setsockopt, 5)
{
	struct file *f;
	struct sock *s;
	uint8_t v[OPT_MAX];
	int r = sock_get(a0, &f, &s);
	if (r)
		return r;
	uint32_t len = a4;
	if (len > OPT_MAX) {
		r = -EINVAL;
		goto out;
	}
	if (len && copy_from_user(v, (const void *)a3, len)) {
		r = -EFAULT;
		goto out;
	}
	if (a1 == LINUX_SOL_SOCKET && (a2 == LINUX_SO_RCVTIMEO || a2 == LINUX_SO_SNDTIMEO)) {
		struct ktimeval tv;
		if (len < sizeof(tv)) {
			r = -EINVAL;
			goto out;
		}
		memcpy(&tv, v, sizeof(tv));
		if (tv.usec < 0 || tv.usec >= 1000000 || tv.sec < 0) {
			r = tv.sec < 0 ? 0 : -EDOM;
			tv.sec = tv.usec = 0;
		}
		uint64_t ns = (uint64_t)tv.sec * 1000000000ull + (uint64_t)tv.usec * 1000;
		if (a2 == LINUX_SO_RCVTIMEO)
			s->rcvtimeo_ns = ns;
		else
			s->sndtimeo_ns = ns;
		goto out;
	}
	r = s->ops->setsockopt ? s->ops->setsockopt(s, a1, a2, v, len) : -ENOPROTOOPT;
out:
	file_put(f);
	return r;
}

SYSCALL(55, getsockopt, 5)
{
	struct file *f;
	struct sock *s;
	uint8_t v[OPT_MAX];
	int32_t ulen;
	int r = sock_get(a0, &f, &s);
	if (r)
		return r;
	if (copy_from_user(&ulen, (const void *)a4, sizeof(ulen))) {
		r = -EFAULT;
		goto out;
	}
	if (ulen < 0) {
		r = -EINVAL;
		goto out;
	}
	uint32_t len = (uint32_t)ulen < OPT_MAX ? (uint32_t)ulen : OPT_MAX;
	memset(v, 0, sizeof(v));
	if (a1 == LINUX_SOL_SOCKET && (a2 == LINUX_SO_RCVTIMEO || a2 == LINUX_SO_SNDTIMEO)) {
		uint64_t ns = a2 == LINUX_SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns;
		struct ktimeval tv = { (int64_t)(ns / 1000000000ull), (int64_t)(ns % 1000000000ull / 1000) };
		len = len < sizeof(tv) ? len : sizeof(tv);
		memcpy(v, &tv, len);
	} else {
		r = s->ops->getsockopt ? s->ops->getsockopt(s, a1, a2, v, &len) : -ENOPROTOOPT;
	}
	if (!r && (copy_to_user((void *)a3, v, len) || copy_to_user((void *)a4, &len, sizeof(len))))
		r = -EFAULT;
out:
	file_put(f);
	return r;
}

/* --- data --- */

struct iovec {
	uint64_t base, len;
};

struct user_msghdr {
	uint64_t name;
	uint32_t namelen, pad0;
	uint64_t iov;
	uint64_t iovlen;
	uint64_t control;
	uint64_t controllen;
	int32_t flags, pad1;
};

/* Reads and checks an iovec array; returns the total length or -errno. */
static int64_t iov_load(uint64_t uiov, uint64_t cnt, struct iovec **out)
{
	if (cnt > 1024)
		return -EMSGSIZE;
	struct iovec *v = kmalloc(sizeof(*v) * (cnt ? cnt : 1));
	if (!v)
		return -ENOMEM;
	if (cnt && copy_from_user(v, (const void *)uiov, sizeof(*v) * cnt)) {
		kfree(v);
		return -EFAULT;
	}
	uint64_t total = 0;
	for (uint64_t i = 0; i < cnt; i++) {
		if (v[i].len > 0x7ffff000 || total + v[i].len > 0x7ffff000 || (v[i].len && !access_ok(v[i].base, v[i].len))) {
			kfree(v);
			return v[i].len > 0x7ffff000 ? -EINVAL : -EFAULT;
		}
		total += v[i].len;
	}
	*out = v;
	return total;
}

/* Copy n bytes between the iovecs (from byte offset off) and k. */
static int iov_copy(struct iovec *v, uint64_t cnt, uint64_t off, void *k, size_t n, bool to_user)
{
	for (uint64_t i = 0; i < cnt && n; i++) {
		if (off >= v[i].len) {
			off -= v[i].len;
			continue;
		}
		size_t c = v[i].len - off < n ? v[i].len - off : n;
		void *u = (void *)(v[i].base + off);
		if (to_user ? copy_to_user(u, k, c) : copy_from_user(k, u, c))
			return -EFAULT;
		k = (char *)k + c;
		n -= c;
		off = 0;
	}
	return 0;
}

static int64_t do_send(int fd, struct iovec *v, uint64_t cnt, uint64_t total, int flags, uint64_t uaddr,
		       uint64_t alen)
{
	struct file *f;
	struct sock *s;
	uint8_t sa[LINUX_SOCKADDR_MAX];
	int64_t r = sock_get(fd, &f, &s);
	if (r)
		return r;
	if (uaddr && (r = addr_in(uaddr, alen, sa)))
		goto out;
	bool stream = s->type == LINUX_SOCK_STREAM;
	if (!stream && total > DGRAM_MAX) {
		r = -EMSGSIZE;
		goto out;
	}
	size_t chunk = stream ? (total < SOCK_BUF ? total : SOCK_BUF) : total;
	char *k = kmalloc(chunk ? chunk : 1);
	if (!k) {
		r = -ENOMEM;
		goto out;
	}
	uint64_t done = 0;
	do {
		size_t n = total - done < chunk ? total - done : chunk;
		if ((r = iov_copy(v, cnt, done, k, n, false)))
			break;
		r = sock_send_k(f, s, k, n, flags, uaddr ? sa : NULL, alen);
		if (r <= 0)
			break;
		done += r;
		if ((size_t)r < n)
			break;
	} while (done < total);
	kfree(k);
	if (done)
		r = done;
	sigpipe(r, flags);
out:
	file_put(f);
	return r;
}

static int64_t do_recv(int fd, struct iovec *v, uint64_t cnt, uint64_t total, int flags, uint64_t uaddr,
		       uint64_t ualen, int *oflags)
{
	struct file *f;
	struct sock *s;
	uint8_t sa[LINUX_SOCKADDR_MAX];
	uint32_t salen = sizeof(sa);
	int64_t r = sock_get(fd, &f, &s);
	if (r)
		return r;
	size_t n = total < SOCK_BUF ? total : SOCK_BUF;
	if (s->type != LINUX_SOCK_STREAM && n < DGRAM_MAX && (flags & LINUX_MSG_TRUNC))
		n = DGRAM_MAX; /* to learn a datagram's real length */
	char *k = kmalloc(n ? n : 1);
	if (!k) {
		file_put(f);
		return -ENOMEM;
	}
	memset(sa, 0, sizeof(sa));
	r = sock_recv_k(f, s, k, n, flags, sa, &salen, oflags);
	if (r > 0 && iov_copy(v, cnt, 0, k, (size_t)r < total ? (size_t)r : total, true))
		r = -EFAULT;
	if (r >= 0 && uaddr && salen) {
		int e = addr_out(sa, salen, uaddr, ualen);
		if (e)
			r = e;
	} else if (r >= 0 && uaddr && ualen) {
		uint32_t zero = 0;
		if (copy_to_user((void *)ualen, &zero, sizeof(zero)))
			r = -EFAULT;
	}
	kfree(k);
	file_put(f);
	return r;
}

SYSCALL(44, sendto, 6)
{
	struct iovec v = { a1, a2 };
	if (a2 > 0x7ffff000)
		return -EINVAL;
	if (a2 && !access_ok(a1, a2))
		return -EFAULT;
	return do_send(a0, &v, 1, a2, a3, a4, a5);
}

SYSCALL(45, recvfrom, 6)
{
	struct iovec v = { a1, a2 };
	int of = 0;
	if (a2 > 0x7ffff000)
		return -EINVAL;
	if (a2 && !access_ok(a1, a2))
		return -EFAULT;
	return do_recv(a0, &v, 1, a2, a3, a4, a5, &of);
}

static int64_t do_sendmsg(int fd, uint64_t umsg, int flags)
{
	struct user_msghdr m;
	struct iovec *v;
	if (copy_from_user(&m, (const void *)umsg, sizeof(m)))
		return -EFAULT;
	int64_t total = iov_load(m.iov, m.iovlen, &v);
	if (total < 0)
		return total;
	int64_t r = do_send(fd, v, m.iovlen, total, flags, m.name, m.namelen);
	kfree(v);
	return r;
}

static int64_t do_recvmsg(int fd, uint64_t umsg, int flags)
{
	struct user_msghdr m;
	struct iovec *v;
	if (copy_from_user(&m, (const void *)umsg, sizeof(m)))
		return -EFAULT;
	int64_t total = iov_load(m.iov, m.iovlen, &v);
	if (total < 0)
		return total;
	int of = 0;
	uint64_t namelen_addr = umsg + __builtin_offsetof(struct user_msghdr, namelen);
	int64_t r = do_recv(fd, v, m.iovlen, total, flags & ~MSG_CMSG_CLOEXEC, m.name, m.name ? namelen_addr : 0, &of);
	kfree(v);
	if (r < 0)
		return r;
	/* No ancillary data is ever passed. */
	uint64_t zero = 0;
	int32_t fl = of;
	if (r > total)
		fl |= LINUX_MSG_TRUNC;
	if (copy_to_user((void *)(umsg + __builtin_offsetof(struct user_msghdr, controllen)), &zero, sizeof(zero)) ||
	    copy_to_user((void *)(umsg + __builtin_offsetof(struct user_msghdr, flags)), &fl, sizeof(fl)))
		return -EFAULT;
	return (flags & LINUX_MSG_TRUNC) ? r : (r > total ? total : r);
}

SYSCALL(46, sendmsg, 3)
{
	return do_sendmsg(a0, a1, a2);
}

SYSCALL(47, recvmsg, 3)
{
	return do_recvmsg(a0, a1, a2);
}

/* struct mmsghdr: a msghdr and the byte count of that message. */
#define MMSG_SIZE 64
#define MMSG_LEN_OFF 56
#define MSG_WAITFORONE 0x10000
#define MMSG_MAX 1024

/* sendmmsg/recvmmsg: one message after another; the count done, or the first error. */
static long do_mmsg(int fd, uint64_t uvec, uint64_t vlen, int flags, bool send)
{
	if (vlen > MMSG_MAX)
		vlen = MMSG_MAX;
	uint64_t i;
	int64_t r = 0;
	for (i = 0; i < vlen; i++) {
		uint64_t um = uvec + i * MMSG_SIZE;
		int f = flags & ~MSG_WAITFORONE;
		/* MSG_WAITFORONE: only the first receive may block. */
		if (!send && (flags & MSG_WAITFORONE) && i > 0)
			f |= LINUX_MSG_DONTWAIT;
		r = send ? do_sendmsg(fd, um, f) : do_recvmsg(fd, um, f);
		if (r < 0)
			break;
		uint32_t n = (uint32_t)r;
		if (copy_to_user((void *)(um + MMSG_LEN_OFF), &n, sizeof(n))) {
			r = -EFAULT;
			break;
		}
	}
	return i ? (long)i : r;
}

SYSCALL(307, sendmmsg, 4)
{
	return do_mmsg(a0, a1, a2, a3, true);
}

/* The timeout (a4) is not honoured beyond the sockets' own SO_RCVTIMEO. */
SYSCALL(299, recvmmsg, 5)
{
	return do_mmsg(a0, a1, a2, a3, false);
}

/* The program exited: close its sockets as Linux would (a FIN, not a silent
 * power-off) and give what they queued a moment to reach the peer. */
void sockets_exit(void)
{
	for (int fd = 0; fd < NR_FDS; fd++) {
		struct file *f = fd_get(fd);
		if (!f)
			continue;
		bool sock = sock_of(f) != NULL;
		file_put(f);
		if (sock)
			fd_close(fd);
	}
	const struct sock_family *fam;
	ktable_foreach(fam, sock_family)
		if (fam->drain)
			fam->drain();
}
