/* AF_INET and AF_INET6 sockets: the lwip module's kernel sockets (<inet/ksock.h>). */
#include "internal.h"
#include "socket.h"
#include <inet/ksock.h>
#include <init/initcall.h>
#include <time/clock.h>

static struct ksock *ks(struct sock *s)
{
	return s->priv;
}

static int inet_bind(struct sock *s, const void *sa, uint32_t len)
{
	return ksock_bind(ks(s), sa, len);
}

static int inet_listen(struct sock *s, int backlog)
{
	return ksock_listen(ks(s), backlog);
}

static const struct sock_ops inet_ops;

static int inet_accept(struct sock *s, struct sock *out, void *sa, uint32_t *len)
{
	struct ksock *n;
	int r = ksock_accept(ks(s), &n, sa, len);
	if (r)
		return r;
	out->ops = &inet_ops;
	out->priv = n;
	return 0;
}

static int inet_connect(struct sock *s, const void *sa, uint32_t len)
{
	return ksock_connect(ks(s), sa, len);
}

static int inet_connect_result(struct sock *s)
{
	int err = 0;
	uint32_t len = sizeof(err);
	int r = ksock_getsockopt(ks(s), LINUX_SOL_SOCKET, LINUX_SO_ERROR, &err, &len);
	if (r)
		return r;
	return -err;
}

static int64_t inet_send(struct sock *s, const void *buf, size_t n, int flags, const void *sa, uint32_t salen)
{
	return ksock_send(ks(s), buf, n, flags, sa, salen);
}

static int64_t inet_recv(struct sock *s, void *buf, size_t n, int flags, void *sa, uint32_t *salen, __unused int *oflags)
{
	if (s->type == LINUX_SOCK_STREAM && salen)
		*salen = 0;
	return ksock_recv(ks(s), buf, n, flags, s->type == LINUX_SOCK_STREAM ? NULL : sa, salen);
}

static int inet_shutdown(struct sock *s, int how)
{
	return ksock_shutdown(ks(s), how);
}

static int inet_getname(struct sock *s, void *sa, uint32_t *len, bool peer)
{
	return ksock_getname(ks(s), sa, len, peer);
}

static int inet_setsockopt(struct sock *s, int level, int name, const void *val, uint32_t len)
{
	return ksock_setsockopt(ks(s), level, name, val, len);
}

static int inet_getsockopt(struct sock *s, int level, int name, void *val, uint32_t *len)
{
	return ksock_getsockopt(ks(s), level, name, val, len);
}

static unsigned inet_poll(struct sock *s)
{
	return ksock_poll(ks(s));
}

static uint64_t inet_poll_gen(struct sock *s)
{
	return ksock_poll_gen(ks(s));
}

static int inet_nread(struct sock *s)
{
	return ksock_nread(ks(s));
}

static void inet_release(struct sock *s)
{
	ksock_close(ks(s));
}

static const struct sock_ops inet_ops = {
	.bind = inet_bind,
	.listen = inet_listen,
	.accept = inet_accept,
	.connect = inet_connect,
	.connect_result = inet_connect_result,
	.send = inet_send,
	.recv = inet_recv,
	.shutdown = inet_shutdown,
	.getname = inet_getname,
	.setsockopt = inet_setsockopt,
	.getsockopt = inet_getsockopt,
	.poll = inet_poll,
	.poll_gen = inet_poll_gen,
	.nread = inet_nread,
	.release = inet_release,
};

static int inet_create(struct sock *s, int type, int protocol)
{
	struct ksock *k;
	int r = ksock_create(s->domain, type, protocol, &k);
	if (r)
		return r;
	s->ops = &inet_ops;
	s->priv = k;
	return 0;
}

/* At most two seconds for the last data of an exiting program. */
static void inet_drain(void)
{
	ksock_drain(2000 * NSEC_PER_MSEC);
}

SOCK_FAMILY(inet) = { LINUX_AF_INET, inet_create, NULL, inet_drain };
SOCK_FAMILY(inet6) = { LINUX_AF_INET6, inet_create, NULL, NULL };

/* Socket state changes wake poll/select/epoll and blocked socket calls. */
static int inet_notify_init(void)
{
	ksock_set_notify(poll_notify);
	return 0;
}
INITCALL(INIT_LATE, inet_notify_init);
