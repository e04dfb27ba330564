/* Kernel sockets: the Linux ABI over lwIP's socket layer. lwIP's sockets are
 * always nonblocking here; the caller (the linux module) blocks on
 * ksock_poll() readiness, woken by the notify hook that wraps lwIP's netconn
 * event callback. lwIP reports errors in one errno variable, so every call
 * into its socket layer holds ksock_lock (never held while sleeping). */
#include <lwip/sockets.h>
#include <lwip/priv/sockets_priv.h>
#include <lwip/api.h>
#include <lwip/tcp.h>
#include <inet/ksock.h>
#include <lib/string.h>
#include <lib/printf.h>
#include <lwip/netif.h>
#include <mm/kmalloc.h>
#include <sched/mutex.h>
#include <sched/thread.h>
#include <time/clock.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/tcpip.h>

struct ksock {
	int fd;             /* lwIP's socket number */
	int domain, type, protocol;
	bool listening;
	bool connected;     /* had a connection: a later ENOTCONN on send is EPIPE */
	bool connecting;    /* a nonblocking connect is in progress */
	bool eof;           /* recv saw the end of the stream: readable from now on */
	bool shut_wr;
	bool corked;        /* TCP_CORK set: read back by getsockopt */
	int sndbuf, rcvbuf;
};

static struct mutex ksock_lock = MUTEX_INIT(ksock_lock);
static void (*notify_hook)(void);
static netconn_callback lwip_event_cb;
bool lwip_port_up;

void ksock_set_notify(void (*fn)(void))
{
	notify_hook = fn;
}

bool ksock_ready(void)
{
	return lwip_port_up;
}

/* Events per lwIP socket number, for edge-triggered epoll. */
static uint64_t event_gen[MEMP_NUM_NETCONN];

/* lwIP's own event callback first (it updates the readiness counters), then wake the waiters. */
static void event_cb(struct netconn *conn, enum netconn_evt evt, u16_t len)
{
	lwip_event_cb(conn, evt, len);
	if (conn && conn->socket >= 0 && conn->socket < MEMP_NUM_NETCONN &&
	    (evt == NETCONN_EVT_RCVPLUS || evt == NETCONN_EVT_SENDPLUS || evt == NETCONN_EVT_ERROR))
		__atomic_add_fetch(&event_gen[conn->socket], 1, __ATOMIC_RELAXED);
	if (notify_hook)
		notify_hook();
}

static int lwip_err(void)
{
	int e = errno;
	return e ? -e : -EIO;
}

/* Linux struct sockaddr_in / sockaddr_in6 (family first, 16 bits) to lwIP's (length byte first). */
static int sa_from_linux(const void *sa, uint32_t len, struct sockaddr_storage *out, socklen_t *outlen)
{
	const uint8_t *b = sa;
	uint16_t fam;
	if (len < 2)
		return -EINVAL;
	memcpy(&fam, b, 2);
	memset(out, 0, sizeof(*out));
	if (fam == LINUX_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		if (len < 16)
			return -EINVAL;
		in->sin_len = sizeof(*in);
		in->sin_family = AF_INET;
		memcpy(&in->sin_port, b + 2, 2);
		memcpy(&in->sin_addr, b + 4, 4);
		*outlen = sizeof(*in);
	} else if (fam == LINUX_AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		if (len < 24)
			return -EINVAL;
		in6->sin6_len = sizeof(*in6);
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_port, b + 2, 2);
		memcpy(&in6->sin6_flowinfo, b + 4, 4);
		memcpy(&in6->sin6_addr, b + 8, 16);
		if (len >= 28)
			memcpy(&in6->sin6_scope_id, b + 24, 4);
		*outlen = sizeof(*in6);
	} else if (fam == LINUX_AF_UNSPEC) {
		out->s2_len = sizeof(struct sockaddr);
		out->ss_family = AF_UNSPEC;
		*outlen = sizeof(struct sockaddr);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

/* lwIP's address to Linux's, truncated to *len bytes; *len becomes the full
 * size. An AF_INET6 socket sees IPv4 peers as ::ffff:a.b.c.d, as on Linux. */
static void sa_to_linux(const struct sockaddr_storage *ss, int domain, void *sa, uint32_t *len)
{
	uint8_t tmp[28];
	uint32_t n;
	memset(tmp, 0, sizeof(tmp));
	if (ss->ss_family == AF_INET && domain == LINUX_AF_INET6) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		uint16_t fam = LINUX_AF_INET6;
		memcpy(tmp, &fam, 2);
		memcpy(tmp + 2, &in->sin_port, 2);
		tmp[18] = tmp[19] = 0xff;
		memcpy(tmp + 20, &in->sin_addr, 4);
		n = 28;
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		uint16_t fam = LINUX_AF_INET6;
		memcpy(tmp, &fam, 2);
		memcpy(tmp + 2, &in6->sin6_port, 2);
		memcpy(tmp + 4, &in6->sin6_flowinfo, 4);
		memcpy(tmp + 8, &in6->sin6_addr, 16);
		memcpy(tmp + 24, &in6->sin6_scope_id, 4);
		n = 28;
	} else {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		uint16_t fam = LINUX_AF_INET;
		memcpy(tmp, &fam, 2);
		memcpy(tmp + 2, &in->sin_port, 2);
		memcpy(tmp + 4, &in->sin_addr, 4);
		n = 16;
	}
	memcpy(sa, tmp, *len < n ? *len : n);
	*len = n;
}

static struct ksock *ksock_wrap(int fd, int domain, int type, int protocol)
{
	struct ksock *s = kzalloc(sizeof(*s));
	if (!s)
		return NULL;
	s->fd = fd;
	s->domain = domain;
	s->type = type;
	s->protocol = protocol;
	s->sndbuf = s->rcvbuf = CONFIG_LWIP_TCP_WND_KB * 1024;
	lwip_fcntl(fd, F_SETFL, O_NONBLOCK);
	struct lwip_sock *ls = lwip_socket_dbg_get_socket(fd);
	if (ls && ls->conn) {
		if (!lwip_event_cb)
			lwip_event_cb = ls->conn->callback;
		/* Accepted connections inherit the listener's (already wrapped) callback. */
		if (ls->conn->callback == lwip_event_cb)
			ls->conn->callback = event_cb;
	}
	return s;
}

int ksock_create(int domain, int type, int protocol, struct ksock **out)
{
	int fam, ltype;
	if (!lwip_port_up)
		return -EAFNOSUPPORT;
	if (domain == LINUX_AF_INET)
		fam = AF_INET;
	else if (domain == LINUX_AF_INET6)
		fam = AF_INET6;
	else
		return -EAFNOSUPPORT;
	switch (type) {
	case LINUX_SOCK_STREAM:
		if (protocol != 0 && protocol != LINUX_IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		ltype = SOCK_STREAM;
		break;
	case LINUX_SOCK_DGRAM:
		if (protocol != 0 && protocol != LINUX_IPPROTO_UDP)
			return -EPROTONOSUPPORT;
		ltype = SOCK_DGRAM;
		break;
	case LINUX_SOCK_RAW:
		ltype = SOCK_RAW;
		break;
	default:
		return -ESOCKTNOSUPPORT;
	}
	mutex_lock(&ksock_lock);
	errno = 0;
	int fd = lwip_socket(fam, ltype, protocol);
	int r = fd < 0 ? lwip_err() : 0;
	struct ksock *s = NULL;
	if (!r) {
		s = ksock_wrap(fd, domain, type, protocol);
		if (!s) {
			lwip_close(fd);
			r = -ENOMEM;
		}
	}
	mutex_unlock(&ksock_lock);
	if (r == -ENFILE || r == -ENOBUFS)
		r = -EMFILE;
	*out = s;
	return r;
}

void ksock_close(struct ksock *s)
{
	mutex_lock(&ksock_lock);
	lwip_close(s->fd);
	mutex_unlock(&ksock_lock);
	kfree(s);
}

int ksock_domain(const struct ksock *s)
{
	return s->domain;
}

int ksock_type(const struct ksock *s)
{
	return s->type;
}

int ksock_bind(struct ksock *s, const void *sa, uint32_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int r = sa_from_linux(sa, len, &ss, &sl);
	if (r)
		return r;
	if ((s->domain == LINUX_AF_INET && ss.ss_family != AF_INET) ||
	    (s->domain == LINUX_AF_INET6 && ss.ss_family != AF_INET6))
		return s->domain == LINUX_AF_INET ? -EAFNOSUPPORT : -EINVAL;
	mutex_lock(&ksock_lock);
	errno = 0;
	r = lwip_bind(s->fd, (struct sockaddr *)&ss, sl) < 0 ? lwip_err() : 0;
	mutex_unlock(&ksock_lock);
	return r;
}

int ksock_listen(struct ksock *s, int backlog)
{
	if (s->type != LINUX_SOCK_STREAM)
		return -EOPNOTSUPP;
	if (backlog < 0 || backlog > 0xff)
		backlog = 0xff;
	mutex_lock(&ksock_lock);
	errno = 0;
	int r = lwip_listen(s->fd, backlog) < 0 ? lwip_err() : 0;
	mutex_unlock(&ksock_lock);
	if (!r)
		s->listening = true;
	return r;
}

int ksock_accept(struct ksock *s, struct ksock **out, void *sa, uint32_t *len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (!s->listening)
		return -EINVAL;
	mutex_lock(&ksock_lock);
	errno = 0;
	int fd = lwip_accept(s->fd, (struct sockaddr *)&ss, &sl);
	int r = fd < 0 ? lwip_err() : 0;
	struct ksock *n = NULL;
	if (!r) {
		n = ksock_wrap(fd, s->domain, s->type, s->protocol);
		if (!n) {
			lwip_close(fd);
			r = -ENOMEM;
		}
	}
	mutex_unlock(&ksock_lock);
	if (r)
		return r == -EWOULDBLOCK ? -EAGAIN : r;
	n->connected = true;
	if (sa && len)
		sa_to_linux(&ss, s->domain, sa, len);
	*out = n;
	return 0;
}

int ksock_connect(struct ksock *s, const void *sa, uint32_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int r = sa_from_linux(sa, len, &ss, &sl);
	if (r)
		return r;
	mutex_lock(&ksock_lock);
	errno = 0;
	r = lwip_connect(s->fd, (struct sockaddr *)&ss, sl) < 0 ? lwip_err() : 0;
	mutex_unlock(&ksock_lock);
	if (!r || r == -EISCONN)
		s->connected = true;
	if (r == -EINPROGRESS)
		s->connecting = true;
	if (r == -ECONNRESET && s->type == LINUX_SOCK_STREAM)
		r = -ECONNREFUSED; /* a RST answering the SYN */
	return r;
}

static int lwip_msg_flags(int flags)
{
	int f = MSG_DONTWAIT;
	if (flags & LINUX_MSG_PEEK)
		f |= MSG_PEEK;
	if (flags & LINUX_MSG_MORE)
		f |= MSG_MORE;
	return f;
}

int64_t ksock_send(struct ksock *s, const void *buf, size_t n, int flags, const void *sa, uint32_t salen)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	if (sa && s->type != LINUX_SOCK_STREAM) {
		int r = sa_from_linux(sa, salen, &ss, &sl);
		if (r)
			return r;
	}
	if (s->shut_wr)
		return -EPIPE;
	if (n > 0x7fffffff)
		n = 0x7fffffff;
	mutex_lock(&ksock_lock);
	errno = 0;
	ssize_t r = sl ? lwip_sendto(s->fd, buf, n, lwip_msg_flags(flags), (struct sockaddr *)&ss, sl)
		       : lwip_send(s->fd, buf, n, lwip_msg_flags(flags));
	int64_t ret = r < 0 ? lwip_err() : r;
	mutex_unlock(&ksock_lock);
	if (ret == -EWOULDBLOCK || ret == -ENOMEM)
		return -EAGAIN;
	if (s->type == LINUX_SOCK_STREAM && s->connected &&
	    (ret == -ENOTCONN || ret == -ECONNABORTED || ret == -ECONNRESET))
		return ret == -ECONNRESET ? ret : -EPIPE;
	if (s->type == LINUX_SOCK_STREAM && !s->connected && ret == -ENOTCONN)
		return -ENOTCONN;
	return ret;
}

int64_t ksock_recv(struct ksock *s, void *buf, size_t n, int flags, void *sa, uint32_t *salen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (n > 0x7fffffff)
		n = 0x7fffffff;
	if (s->eof && s->type == LINUX_SOCK_STREAM)
		return 0;
	mutex_lock(&ksock_lock);
	errno = 0;
	memset(&ss, 0, sizeof(ss));
	ssize_t r = lwip_recvfrom(s->fd, buf, n, lwip_msg_flags(flags), (struct sockaddr *)&ss, &sl);
	int64_t ret = r < 0 ? lwip_err() : r;
	mutex_unlock(&ksock_lock);
	if (ret == -EWOULDBLOCK)
		return -EAGAIN;
	if (s->type == LINUX_SOCK_STREAM) {
		/* lwIP reports a closed connection as an error after the first 0. */
		if (ret == -ENOTCONN && s->connected)
			ret = 0;
		if (ret == 0 && n > 0 && !(flags & LINUX_MSG_PEEK))
			s->eof = true;
	}
	if (ret >= 0 && sa && salen && s->type != LINUX_SOCK_STREAM)
		sa_to_linux(&ss, s->domain, sa, salen);
	return ret;
}

int ksock_shutdown(struct ksock *s, int how)
{
	if (how < LINUX_SHUT_RD || how > LINUX_SHUT_RDWR)
		return -EINVAL;
	mutex_lock(&ksock_lock);
	errno = 0;
	int r = lwip_shutdown(s->fd, how) < 0 ? lwip_err() : 0;
	mutex_unlock(&ksock_lock);
	if (!r && how != LINUX_SHUT_RD)
		s->shut_wr = true;
	if (!r && how != LINUX_SHUT_WR)
		s->eof = true;
	if (notify_hook)
		notify_hook();
	return r;
}

int ksock_getname(struct ksock *s, void *sa, uint32_t *len, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	mutex_lock(&ksock_lock);
	errno = 0;
	int r = (peer ? lwip_getpeername(s->fd, (struct sockaddr *)&ss, &sl)
		      : lwip_getsockname(s->fd, (struct sockaddr *)&ss, &sl)) < 0
			? lwip_err()
			: 0;
	mutex_unlock(&ksock_lock);
	if (r)
		return r;
	if (ss.ss_family == AF_UNSPEC || ss.ss_family == 0)
		ss.ss_family = s->domain == LINUX_AF_INET6 ? AF_INET6 : AF_INET;
	sa_to_linux(&ss, s->domain, sa, len);
	return 0;
}

/* Linux (level, name) to lwIP's; 0 when lwIP has no such option. */
static int map_opt(int level, int name, int *llevel, int *lname)
{
	switch (level) {
	case LINUX_SOL_SOCKET:
		*llevel = SOL_SOCKET;
		switch (name) {
		case LINUX_SO_REUSEADDR:
		case LINUX_SO_REUSEPORT:
			*lname = SO_REUSEADDR;
			return 1;
		case LINUX_SO_KEEPALIVE:
			*lname = SO_KEEPALIVE;
			return 1;
		case LINUX_SO_BROADCAST:
			*lname = SO_BROADCAST;
			return 1;
		case LINUX_SO_ERROR:
			*lname = SO_ERROR;
			return 1;
		}
		return 0;
	case LINUX_IPPROTO_TCP:
		*llevel = IPPROTO_TCP;
		switch (name) {
		case LINUX_TCP_NODELAY:
			*lname = TCP_NODELAY;
			return 1;
		case LINUX_TCP_KEEPIDLE:
			*lname = TCP_KEEPIDLE;
			return 1;
		case LINUX_TCP_KEEPINTVL:
			*lname = TCP_KEEPINTVL;
			return 1;
		case LINUX_TCP_KEEPCNT:
			*lname = TCP_KEEPCNT;
			return 1;
		}
		return 0;
	case LINUX_IPPROTO_IPV6:
		*llevel = IPPROTO_IPV6;
		if (name == LINUX_IPV6_V6ONLY) {
			*lname = IPV6_V6ONLY;
			return 1;
		}
		return 0;
	case LINUX_IPPROTO_IP:
		*llevel = IPPROTO_IP;
		if (name == LINUX_IP_TOS || name == LINUX_IP_TTL) {
			*lname = name == LINUX_IP_TOS ? IP_TOS : IP_TTL;
			return 1;
		}
		return 0;
	}
	return 0;
}

/* Options servers set that change nothing here (buffer sizes are kept to be read back). */
static bool accepted_noop(int level, int name)
{
	if (level == LINUX_SOL_SOCKET)
		return name == LINUX_SO_LINGER || name == LINUX_SO_RCVLOWAT || name == LINUX_SO_SNDLOWAT ||
		       name == LINUX_SO_PASSCRED;
	if (level == LINUX_IPPROTO_TCP)
		return name == LINUX_TCP_DEFER_ACCEPT || name == LINUX_TCP_QUICKACK ||
		       name == LINUX_TCP_FASTOPEN || name == LINUX_TCP_MAXSEG;
	if (level == LINUX_IPPROTO_IPV6 || level == LINUX_IPPROTO_IP)
		return true;
	return false;
}

/* Sends what TCP holds back now (Nagle's partial segment), as Linux does when
 * TCP_CORK is cleared: nginx corks a response and turns TCP_NODELAY off while
 * it writes, so without this the tail waits for the peer's delayed ACK. */
static void tcp_push_now(struct ksock *s)
{
	LOCK_TCPIP_CORE();
	struct lwip_sock *ls = lwip_socket_dbg_get_socket(s->fd);
	struct netconn *c = ls ? ls->conn : NULL;
	struct tcp_pcb *p = c && NETCONNTYPE_GROUP(netconn_type(c)) == NETCONN_TCP ? c->pcb.tcp : NULL;
	if (p && p->state != LISTEN && p->state != CLOSED) {
		bool nagle = !tcp_nagle_disabled(p);
		tcp_nagle_disable(p);
		tcp_output(p);
		if (nagle)
			tcp_nagle_enable(p);
	}
	UNLOCK_TCPIP_CORE();
}

int ksock_setsockopt(struct ksock *s, int level, int name, const void *val, uint32_t len)
{
	int llevel, lname;
	if (level == LINUX_IPPROTO_TCP && name == LINUX_TCP_CORK) {
		int v;
		if (len < sizeof(int))
			return -EINVAL;
		memcpy(&v, val, sizeof(v));
		/* Corked, lwIP sends full segments as they fill (no batching beyond that); uncorked, the rest goes. */
		bool was = s->corked;
		s->corked = v != 0;
		if (was && !s->corked && s->type == LINUX_SOCK_STREAM)
			tcp_push_now(s);
		return 0;
	}
	if (level == LINUX_SOL_SOCKET && (name == LINUX_SO_SNDBUF || name == LINUX_SO_RCVBUF)) {
		int v;
		if (len < sizeof(int))
			return -EINVAL;
		memcpy(&v, val, sizeof(v));
		v = v < 2048 ? 4096 : (v > (1 << 24) ? (1 << 25) : v * 2); /* Linux doubles it */
		if (name == LINUX_SO_SNDBUF)
			s->sndbuf = v;
		else
			s->rcvbuf = v;
		return 0;
	}
	if (!map_opt(level, name, &llevel, &lname))
		return accepted_noop(level, name) ? 0 : -ENOPROTOOPT;
	if (len < sizeof(int))
		return -EINVAL;
	int v;
	memcpy(&v, val, sizeof(v));
	mutex_lock(&ksock_lock);
	errno = 0;
	int r = lwip_setsockopt(s->fd, llevel, lname, &v, sizeof(v)) < 0 ? lwip_err() : 0;
	mutex_unlock(&ksock_lock);
	/* lwIP refuses some options on some socket types where Linux accepts them. */
	if (r == -ENOPROTOOPT || r == -EINVAL)
		r = level == LINUX_SOL_SOCKET && name == LINUX_SO_ERROR ? -ENOPROTOOPT : 0;
	return r;
}

int ksock_getsockopt(struct ksock *s, int level, int name, void *val, uint32_t *len)
{
	int v = 0, llevel, lname;
	if (*len > 0x7fffffff)
		return -EINVAL;
	if (level == LINUX_SOL_SOCKET && name == LINUX_SO_TYPE)
		v = s->type;
	else if (level == LINUX_SOL_SOCKET && name == LINUX_SO_DOMAIN)
		v = s->domain;
	else if (level == LINUX_SOL_SOCKET && name == LINUX_SO_PROTOCOL)
		v = s->protocol ? s->protocol : (s->type == LINUX_SOCK_STREAM ? LINUX_IPPROTO_TCP : LINUX_IPPROTO_UDP);
	else if (level == LINUX_SOL_SOCKET && name == LINUX_SO_ACCEPTCONN)
		v = s->listening;
	else if (level == LINUX_SOL_SOCKET && name == LINUX_SO_SNDBUF)
		v = s->sndbuf;
	else if (level == LINUX_SOL_SOCKET && name == LINUX_SO_RCVBUF)
		v = s->rcvbuf;
	else if (level == LINUX_IPPROTO_TCP && name == LINUX_TCP_MAXSEG)
		v = TCP_MSS;
	else if (level == LINUX_IPPROTO_TCP && name == LINUX_TCP_CORK)
		v = s->corked;
	else if (map_opt(level, name, &llevel, &lname)) {
		socklen_t l = sizeof(v);
		mutex_lock(&ksock_lock);
		errno = 0;
		int r = lwip_getsockopt(s->fd, llevel, lname, &v, &l) < 0 ? lwip_err() : 0;
		mutex_unlock(&ksock_lock);
		if (r)
			return r;
		if (lname == SO_KEEPALIVE || lname == SO_REUSEADDR || lname == TCP_NODELAY || lname == SO_BROADCAST)
			v = v != 0;
		if (lname == SO_ERROR && s->connecting) {
			/* The connect finished: a RST answering the SYN is "refused" on Linux. */
			if (v == ECONNRESET)
				v = ECONNREFUSED;
			if (v == 0 && (ksock_poll(s) & KSOCK_POLLOUT)) {
				s->connecting = false;
				s->connected = true;
			} else if (v) {
				s->connecting = false;
			}
		}
	} else if (accepted_noop(level, name)) {
		v = 0;
	} else {
		return -ENOPROTOOPT;
	}
	uint32_t n = *len < sizeof(v) ? *len : sizeof(v);
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

unsigned ksock_poll(struct ksock *s)
{
	struct lwip_sock *ls = lwip_socket_dbg_get_socket(s->fd);
	if (!ls)
		return KSOCK_POLLERR | KSOCK_POLLHUP;
	unsigned m = 0;
	SYS_ARCH_DECL_PROTECT(lev);
	SYS_ARCH_PROTECT(lev);
	bool rd = ls->lastdata.pbuf != NULL || ls->rcvevent > 0;
	bool wr = ls->sendevent != 0;
	bool err = ls->errevent != 0;
	struct netconn *c = ls->conn;
	bool gone = c && s->type == LINUX_SOCK_STREAM && s->connected && c->pcb.tcp == NULL;
	SYS_ARCH_UNPROTECT(lev);
	if (rd || s->eof)
		m |= KSOCK_POLLIN | KSOCK_POLLRDNORM;
	if (wr && !s->shut_wr)
		m |= KSOCK_POLLOUT | KSOCK_POLLWRNORM;
	if (s->eof)
		m |= KSOCK_POLLRDHUP;
	if (err)
		m |= KSOCK_POLLERR;
	if (gone || (s->eof && s->shut_wr))
		m |= KSOCK_POLLHUP | KSOCK_POLLIN | KSOCK_POLLRDNORM;
	if (s->type != LINUX_SOCK_STREAM && !s->listening)
		m |= KSOCK_POLLOUT | KSOCK_POLLWRNORM; /* datagrams: always writable */
	return m;
}

uint64_t ksock_poll_gen(struct ksock *s)
{
	return __atomic_load_n(&event_gen[s->fd], __ATOMIC_RELAXED);
}

int ksock_nread(struct ksock *s)
{
	int v = 0;
	mutex_lock(&ksock_lock);
	errno = 0;
	int r = lwip_ioctl(s->fd, FIONREAD, &v) < 0 ? lwip_err() : v;
	mutex_unlock(&ksock_lock);
	return r == -ENOTCONN ? 0 : r;
}

static bool tcp_idle(void)
{
	bool idle = true;
	LOCK_TCPIP_CORE();
	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
		if (p->unsent || p->unacked)
			idle = false;
	UNLOCK_TCPIP_CORE();
	return idle;
}

void ksock_drain(uint64_t timeout_ns)
{
	if (!lwip_port_up)
		return;
	uint64_t deadline = clock_monotonic_ns() + timeout_ns;
	while (!tcp_idle() && clock_monotonic_ns() < deadline)
		thread_sleep_ns(5 * NSEC_PER_MSEC);
}

int ksock_interfaces(struct ksock_if *out, int max)
{
	if (!lwip_port_up)
		return 0;
	int n = 0, eth = 0;
	struct netif *nif;
	LOCK_TCPIP_CORE();
	NETIF_FOREACH(nif) {
		bool lo = nif->name[0] == 'l' && nif->name[1] == 'o';
		if (n < max) {
			struct ksock_if *k = &out[n];
			memset(k, 0, sizeof(*k));
			if (lo)
				memcpy(k->name, "lo", 3);
			else
				snprintf(k->name, sizeof(k->name), "eth%d", eth);
			k->index = netif_get_index(nif);
			memcpy(k->mac, nif->hwaddr, nif->hwaddr_len < 6 ? nif->hwaddr_len : 6);
			k->mtu = lo ? 65536 : nif->mtu;
			k->up = netif_is_up(nif);
			k->running = k->up && netif_is_link_up(nif);
			k->loopback = lo;
			memcpy(k->ipv4, &ip_2_ip4(&nif->ip_addr)->addr, 4);
			uint32_t mask = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&nif->netmask)));
			while (mask & 0x80000000u) {
				k->ipv4_prefix++;
				mask <<= 1;
			}
			for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES && k->n6 < 4; i++) {
				if (!ip6_addr_isvalid(netif_ip6_addr_state(nif, i)))
					continue;
				memcpy(k->ipv6[k->n6++], ip_2_ip6(&nif->ip6_addr[i])->addr, 16);
			}
		}
		n++;
		if (!lo)
			eth++;
	}
	UNLOCK_TCPIP_CORE();
	return n;
}
