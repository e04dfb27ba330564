/* AF_UNIX sockets: stream and datagram, socketpair, addresses that are
 * filesystem paths (a socket inode made with mknod, found again by walking
 * the path) or abstract names (a leading NUL). One lock guards every unix
 * socket: they are few and their operations short. Each end holds a
 * reference on its peer; a sock is freed when its file and every peer
 * reference are gone. No ancillary data (SCM_RIGHTS) yet. */
#include "internal.h"
#include "socket.h"
#include <mm/kmalloc.h>
#include <lib/list.h>
#include <lib/string.h>
#include <lib/printf.h>

#define UNIX_PATH_MAX 108
#define UNIX_BUF (256u << 10) /* stream receive buffer; datagram queue limit */
#define UNIX_BACKLOG_MAX 4096
#define POLLRDHUP 0x2000

enum { U_UNCONN, U_LISTEN, U_CONNECTED };

struct umsg {
	struct list node;
	size_t len;
	uint8_t from[2 + UNIX_PATH_MAX];
	uint32_t fromlen;
	uint8_t data[];
};

struct usock {
	int type, state, refs;
	bool closed, shut_rd, shut_wr;
	struct usock *peer;          /* connected stream peer, or dgram default destination */
	uint8_t *buf;                /* stream receive ring */
	size_t head, len;
	struct list msgs;            /* datagram receive queue */
	size_t qbytes;
	struct list backlog;         /* listener: server ends waiting for accept */
	int nbacklog, maxbacklog;
	struct list bnode;           /* in the listener's backlog */
	struct list anode;           /* in the bound list */
	bool bound;
	uint8_t addr[2 + UNIX_PATH_MAX]; /* sockaddr_un as bound */
	uint32_t addrlen;
	struct inode *ino;           /* the socket inode of a path address */
};

static spinlock_t ulock = SPINLOCK_INIT;
static struct list bound = LIST_INIT(bound);
static unsigned autobind_seq;

static struct usock *us(struct sock *s)
{
	return s->priv;
}

static struct usock *unew(int type)
{
	struct usock *u = kzalloc(sizeof(*u));
	if (!u)
		return NULL;
	u->type = type;
	u->refs = 1;
	list_init(&u->msgs);
	list_init(&u->backlog);
	u->addr[0] = LINUX_AF_UNIX;
	u->addrlen = 2;
	if (type != LINUX_SOCK_DGRAM) {
		u->buf = kmalloc(UNIX_BUF);
		if (!u->buf) {
			kfree(u);
			return NULL;
		}
	}
	return u;
}

/* ulock held. */
static void uput(struct usock *u)
{
	if (--u->refs > 0)
		return;
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &u->msgs) {
		list_remove(pos);
		kfree(list_entry(pos, struct umsg, node));
	}
	if (u->peer)
		uput(u->peer);
	kfree(u->buf);
	kfree(u);
}

/* Parse a sockaddr_un: *abstract, name (without the family) and its length. */
static int uaddr(const void *sa, uint32_t len, const uint8_t **name, uint32_t *nlen)
{
	const uint8_t *b = sa;
	if (len < 2 || len > 2 + UNIX_PATH_MAX || b[0] != LINUX_AF_UNIX || b[1] != 0)
		return len >= 2 && (b[0] != LINUX_AF_UNIX || b[1]) ? -EAFNOSUPPORT : -EINVAL;
	*name = b + 2;
	*nlen = len - 2;
	if (*nlen && b[2] != 0) /* a path: up to its NUL */
		*nlen = strnlen((const char *)b + 2, *nlen);
	return 0;
}

/* A NUL-terminated copy of a path name. */
static char *upath(const uint8_t *name, uint32_t nlen)
{
	char *p = kmalloc(nlen + 1);
	if (p) {
		memcpy(p, name, nlen);
		p[nlen] = 0;
	}
	return p;
}

/* The bound socket of an address, with a reference; NULL when none. */
static struct usock *ulookup(const uint8_t *name, uint32_t nlen, int type, int *err)
{
	struct inode *ino = NULL;
	if (nlen == 0) {
		*err = -EINVAL;
		return NULL;
	}
	if (name[0] != 0) {
		char *p = upath(name, nlen);
		if (!p) {
			*err = -ENOMEM;
			return NULL;
		}
		int r = vfs_walk(NULL, p, 0, &ino, NULL, NULL);
		kfree(p);
		if (r) {
			*err = r;
			return NULL;
		}
	}
	struct usock *found = NULL;
	uint64_t f = spin_lock_irqsave(&ulock);
	struct usock *u;
	list_for_each_entry(u, &bound, anode) {
		if (u->closed || u->type != type)
			continue;
		if (ino ? u->ino == ino : (u->addrlen == nlen + 2 && !memcmp(u->addr + 2, name, nlen))) {
			found = u;
			u->refs++;
			break;
		}
	}
	spin_unlock_irqrestore(&ulock, f);
	if (ino)
		inode_put(ino);
	*err = found ? 0 : -ECONNREFUSED;
	return found;
}

static int u_bind(struct sock *s, const void *sa, uint32_t len)
{
	struct usock *u = us(s);
	const uint8_t *name;
	uint32_t nlen;
	int r = uaddr(sa, len, &name, &nlen);
	if (r)
		return r;
	if (u->bound)
		return -EINVAL;
	uint8_t auto_name[8];
	if (nlen == 0) {
		/* Autobind: an abstract name of five hex digits, as Linux. */
		auto_name[0] = 0;
		snprintf((char *)auto_name + 1, 7, "%05x", ++autobind_seq & 0xfffff);
		name = auto_name;
		nlen = 6;
	}
	struct inode *ino = NULL;
	if (name[0] != 0) {
		char *p = upath(name, nlen);
		if (!p)
			return -ENOMEM;
		r = vfs_mknod(NULL, p, S_IFSOCK | (0777 & ~proc.umask), NULL, NULL);
		if (!r)
			r = vfs_walk(NULL, p, WALK_NOFOLLOW, &ino, NULL, NULL);
		kfree(p);
		if (r)
			return r == -EEXIST ? -EADDRINUSE : r;
	}
	uint64_t f = spin_lock_irqsave(&ulock);
	struct usock *o;
	if (!ino) {
		list_for_each_entry(o, &bound, anode) {
			if (!o->closed && o->addrlen == nlen + 2 && !memcmp(o->addr + 2, name, nlen)) {
				spin_unlock_irqrestore(&ulock, f);
				return -EADDRINUSE;
			}
		}
	}
	memcpy(u->addr + 2, name, nlen);
	/* Linux counts a path's terminating NUL in the address length. */
	u->addrlen = nlen + 2 + (name[0] != 0 && nlen < UNIX_PATH_MAX ? 1 : 0);
	u->ino = ino;
	u->bound = true;
	list_push_back(&bound, &u->anode);
	spin_unlock_irqrestore(&ulock, f);
	return 0;
}

static int u_listen(struct sock *s, int backlog)
{
	struct usock *u = us(s);
	if (u->type == LINUX_SOCK_DGRAM)
		return -EOPNOTSUPP;
	if (u->state == U_CONNECTED)
		return -EINVAL;
	if (!u->bound) {
		uint8_t any[2] = { LINUX_AF_UNIX, 0 };
		int r = u_bind(s, any, 2);
		if (r)
			return r;
	}
	uint64_t f = spin_lock_irqsave(&ulock);
	u->state = U_LISTEN;
	u->maxbacklog = backlog < 1 ? 1 : (backlog > UNIX_BACKLOG_MAX ? UNIX_BACKLOG_MAX : backlog);
	spin_unlock_irqrestore(&ulock, f);
	return 0;
}

static const struct sock_ops unix_ops;

static int u_accept(struct sock *s, struct sock *out, void *sa, uint32_t *len)
{
	struct usock *u = us(s);
	if (u->state != U_LISTEN)
		return -EINVAL;
	uint64_t f = spin_lock_irqsave(&ulock);
	struct list *n = list_pop_front(&u->backlog);
	if (n)
		u->nbacklog--;
	spin_unlock_irqrestore(&ulock, f);
	if (!n)
		return -EAGAIN;
	struct usock *ns = list_entry(n, struct usock, bnode); /* the backlog's reference becomes the file's */
	out->ops = &unix_ops;
	out->priv = ns;
	if (sa && len) {
		/* The peer (client) address. */
		uint32_t c = ns->peer ? ns->peer->addrlen : 2;
		memcpy(sa, ns->peer ? ns->peer->addr : u->addr, c < *len ? c : *len);
		*len = c;
	}
	return 0;
}

static int u_connect(struct sock *s, const void *sa, uint32_t len)
{
	struct usock *u = us(s);
	const uint8_t *name;
	uint32_t nlen;
	int r = uaddr(sa, len, &name, &nlen);
	if (r)
		return r;
	if (u->type == LINUX_SOCK_DGRAM) {
		struct usock *t = ulookup(name, nlen, u->type, &r);
		if (!t)
			return r;
		uint64_t f = spin_lock_irqsave(&ulock);
		struct usock *old = u->peer;
		u->peer = t;
		if (old)
			uput(old);
		spin_unlock_irqrestore(&ulock, f);
		return 0;
	}
	if (u->state == U_CONNECTED)
		return -EISCONN;
	if (u->state == U_LISTEN)
		return -EINVAL;
	struct usock *l = ulookup(name, nlen, u->type, &r);
	if (!l)
		return r;
	struct usock *ns = unew(u->type);
	if (!ns) {
		uint64_t f = spin_lock_irqsave(&ulock);
		uput(l);
		spin_unlock_irqrestore(&ulock, f);
		return -ENOMEM;
	}
	uint64_t f = spin_lock_irqsave(&ulock);
	if (l->state != U_LISTEN || l->closed) {
		r = -ECONNREFUSED;
	} else if (l->nbacklog >= l->maxbacklog) {
		r = -EAGAIN;
	} else {
		/* The server end takes the listener's address; each end references the other. */
		memcpy(ns->addr, l->addr, l->addrlen);
		ns->addrlen = l->addrlen;
		ns->state = U_CONNECTED;
		ns->peer = u;
		u->refs++;
		u->peer = ns;
		ns->refs++;
		u->state = U_CONNECTED;
		list_push_back(&l->backlog, &ns->bnode);
		l->nbacklog++;
		ns = NULL;
	}
	if (ns)
		uput(ns);
	uput(l);
	spin_unlock_irqrestore(&ulock, f);
	poll_notify();
	return r;
}

static int u_connect_result(struct sock *s)
{
	return us(s)->state == U_CONNECTED ? 0 : -ECONNREFUSED;
}

static int64_t u_send(struct sock *s, const void *buf, size_t n, int flags, const void *sa, uint32_t salen)
{
	struct usock *u = us(s);
	int64_t r;
	if (u->shut_wr)
		return -EPIPE;
	if (u->type != LINUX_SOCK_DGRAM) {
		if (u->state != U_CONNECTED)
			return -ENOTCONN;
		uint64_t f = spin_lock_irqsave(&ulock);
		struct usock *p = u->peer;
		if (!p || p->closed || p->shut_rd) {
			r = -EPIPE;
		} else {
			size_t room = UNIX_BUF - p->len, c = n < room ? n : room;
			for (size_t i = 0; i < c; i++)
				p->buf[(p->head + p->len + i) % UNIX_BUF] = ((const uint8_t *)buf)[i];
			p->len += c;
			r = c ? (int64_t)c : (n ? -EAGAIN : 0);
		}
		spin_unlock_irqrestore(&ulock, f);
		poll_notify();
		return r;
	}
	struct usock *t;
	if (sa) {
		const uint8_t *name;
		uint32_t nlen;
		int e = uaddr(sa, salen, &name, &nlen);
		if (e)
			return e;
		t = ulookup(name, nlen, u->type, &e);
		if (!t)
			return e;
	} else {
		uint64_t f = spin_lock_irqsave(&ulock);
		t = u->peer;
		if (t)
			t->refs++;
		spin_unlock_irqrestore(&ulock, f);
		if (!t)
			return -ENOTCONN;
	}
	struct umsg *m = kmalloc(sizeof(*m) + (n ? n : 1));
	uint64_t f = spin_lock_irqsave(&ulock);
	if (!m) {
		r = -ENOMEM;
	} else if (t->closed) {
		r = -ECONNREFUSED;
	} else if (t->qbytes + n > UNIX_BUF) {
		r = -EAGAIN;
	} else {
		m->len = n;
		memcpy(m->data, buf, n);
		memcpy(m->from, u->addr, u->addrlen);
		m->fromlen = u->addrlen;
		list_push_back(&t->msgs, &m->node);
		t->qbytes += n;
		m = NULL;
		r = n;
	}
	uput(t);
	spin_unlock_irqrestore(&ulock, f);
	kfree(m);
	poll_notify();
	(void)flags;
	return r;
}

static int64_t u_recv(struct sock *s, void *buf, size_t n, int flags, void *sa, uint32_t *salen, int *oflags)
{
	struct usock *u = us(s);
	int64_t r;
	bool peek = flags & LINUX_MSG_PEEK;
	uint64_t f = spin_lock_irqsave(&ulock);
	if (u->type != LINUX_SOCK_DGRAM) {
		if (salen)
			*salen = 0;
		if (u->len) {
			size_t c = n < u->len ? n : u->len;
			for (size_t i = 0; i < c; i++)
				((uint8_t *)buf)[i] = u->buf[(u->head + i) % UNIX_BUF];
			if (!peek) {
				u->head = (u->head + c) % UNIX_BUF;
				u->len -= c;
			}
			r = c;
		} else if (u->state != U_CONNECTED) {
			r = u->state == U_LISTEN ? -EINVAL : -ENOTCONN;
		} else if (u->shut_rd || !u->peer || u->peer->closed || u->peer->shut_wr) {
			r = 0;
		} else {
			r = -EAGAIN;
		}
	} else {
		struct list *first = list_empty(&u->msgs) ? NULL : u->msgs.next;
		if (!first) {
			r = u->shut_rd ? 0 : -EAGAIN;
		} else {
			struct umsg *m = list_entry(first, struct umsg, node);
			size_t c = n < m->len ? n : m->len;
			memcpy(buf, m->data, c);
			if (m->len > n)
				*oflags |= LINUX_MSG_TRUNC;
			r = (flags & LINUX_MSG_TRUNC) ? (int64_t)m->len : (int64_t)c;
			if (sa && salen) {
				uint32_t l = m->fromlen < *salen ? m->fromlen : *salen;
				memcpy(sa, m->from, l);
				*salen = m->fromlen;
			}
			if (!peek) {
				list_remove(first);
				u->qbytes -= m->len;
			} else {
				m = NULL;
			}
			spin_unlock_irqrestore(&ulock, f);
			kfree(m);
			poll_notify();
			return r;
		}
	}
	spin_unlock_irqrestore(&ulock, f);
	if (r > 0 && !peek)
		poll_notify(); /* room for the writer */
	return r;
}

static int u_shutdown(struct sock *s, int how)
{
	struct usock *u = us(s);
	if (how < LINUX_SHUT_RD || how > LINUX_SHUT_RDWR)
		return -EINVAL;
	if (u->type != LINUX_SOCK_DGRAM && u->state != U_CONNECTED)
		return -ENOTCONN;
	uint64_t f = spin_lock_irqsave(&ulock);
	if (how != LINUX_SHUT_WR)
		u->shut_rd = true;
	if (how != LINUX_SHUT_RD)
		u->shut_wr = true;
	spin_unlock_irqrestore(&ulock, f);
	return 0;
}

static int u_getname(struct sock *s, void *sa, uint32_t *len, bool peer)
{
	struct usock *u = us(s);
	uint64_t f = spin_lock_irqsave(&ulock);
	struct usock *w = peer ? u->peer : u;
	int r = 0;
	if (!w) {
		r = -ENOTCONN;
	} else {
		uint32_t c = w->addrlen < *len ? w->addrlen : *len;
		memcpy(sa, w->addr, c);
		*len = w->addrlen;
	}
	spin_unlock_irqrestore(&ulock, f);
	return r;
}

static int u_setsockopt(struct sock *s, int level, int name, const void *val, uint32_t len)
{
	(void)s;
	(void)name;
	(void)val;
	(void)len;
	return level == LINUX_SOL_SOCKET ? 0 : -ENOPROTOOPT;
}

static int u_getsockopt(struct sock *s, int level, int name, void *val, uint32_t *len)
{
	struct usock *u = us(s);
	int v;
	if (level != LINUX_SOL_SOCKET)
		return -ENOPROTOOPT;
	switch (name) {
	case LINUX_SO_PEERCRED: {
		/* One process: the peer is ourselves. */
		struct {
			int32_t pid;
			uint32_t uid, gid;
		} cred = { proc.pid, 0, 0 };
		uint32_t c = *len < sizeof(cred) ? *len : sizeof(cred);
		memcpy(val, &cred, c);
		*len = c;
		return 0;
	}
	case LINUX_SO_TYPE:
		v = u->type;
		break;
	case LINUX_SO_DOMAIN:
		v = LINUX_AF_UNIX;
		break;
	case LINUX_SO_ACCEPTCONN:
		v = u->state == U_LISTEN;
		break;
	case LINUX_SO_SNDBUF:
	case LINUX_SO_RCVBUF:
		v = UNIX_BUF;
		break;
	default:
		v = 0;
	}
	uint32_t c = *len < sizeof(v) ? *len : sizeof(v);
	memcpy(val, &v, c);
	*len = c;
	return 0;
}

static unsigned u_poll(struct sock *s)
{
	struct usock *u = us(s);
	unsigned m = 0;
	uint64_t f = spin_lock_irqsave(&ulock);
	if (u->type == LINUX_SOCK_DGRAM) {
		if (!list_empty(&u->msgs))
			m |= POLLIN | POLLRDNORM;
		m |= POLLOUT | POLLWRNORM;
	} else if (u->state == U_LISTEN) {
		if (!list_empty(&u->backlog))
			m |= POLLIN | POLLRDNORM;
	} else if (u->state == U_CONNECTED) {
		struct usock *p = u->peer;
		bool gone = !p || p->closed;
		if (u->len || gone || u->shut_rd || (p && p->shut_wr))
			m |= POLLIN | POLLRDNORM;
		if (gone || (p && p->shut_wr))
			m |= POLLRDHUP;
		if (gone)
			m |= POLLHUP;
		if (!gone && !u->shut_wr && p->len < UNIX_BUF)
			m |= POLLOUT | POLLWRNORM;
	} else {
		m |= POLLOUT | POLLHUP;
	}
	spin_unlock_irqrestore(&ulock, f);
	return m;
}

static int u_nread(struct sock *s)
{
	struct usock *u = us(s);
	uint64_t f = spin_lock_irqsave(&ulock);
	int v = 0;
	if (u->type == LINUX_SOCK_DGRAM) {
		if (!list_empty(&u->msgs))
			v = (int)list_entry(u->msgs.next, struct umsg, node)->len;
	} else {
		v = (int)u->len;
	}
	spin_unlock_irqrestore(&ulock, f);
	return v;
}

static void u_release(struct sock *s)
{
	struct usock *u = us(s);
	struct list dead;
	list_init(&dead);
	uint64_t f = spin_lock_irqsave(&ulock);
	u->closed = true;
	if (u->bound)
		list_remove(&u->anode);
	/* Connections nobody accepted: their clients see the end of the stream. */
	struct list *n;
	while ((n = list_pop_front(&u->backlog))) {
		struct usock *ns = list_entry(n, struct usock, bnode);
		ns->closed = true;
		uput(ns);
	}
	struct inode *ino = u->ino;
	u->ino = NULL;
	/* Drop our hold on the peer (it keeps its hold on us and sees closed):
	 * two connected ends never keep each other alive. */
	struct usock *p = u->peer;
	u->peer = NULL;
	if (p)
		uput(p);
	uput(u);
	spin_unlock_irqrestore(&ulock, f);
	if (ino)
		inode_put(ino);
}

static const struct sock_ops unix_ops = {
	.bind = u_bind,
	.listen = u_listen,
	.accept = u_accept,
	.connect = u_connect,
	.connect_result = u_connect_result,
	.send = u_send,
	.recv = u_recv,
	.shutdown = u_shutdown,
	.getname = u_getname,
	.setsockopt = u_setsockopt,
	.getsockopt = u_getsockopt,
	.poll = u_poll,
	.nread = u_nread,
	.release = u_release,
};

static int u_create(struct sock *s, int type, int protocol)
{
	if (type != LINUX_SOCK_STREAM && type != LINUX_SOCK_DGRAM && type != LINUX_SOCK_SEQPACKET)
		return -ESOCKTNOSUPPORT;
	if (protocol != 0)
		return -EPROTONOSUPPORT;
	struct usock *u = unew(type);
	if (!u)
		return -ENOMEM;
	s->ops = &unix_ops;
	s->priv = u;
	return 0;
}

static int u_pair(struct sock *a, struct sock *b, int type, int protocol)
{
	int r = u_create(a, type, protocol);
	if (r)
		return r;
	if ((r = u_create(b, type, protocol))) {
		kfree(us(a)->buf);
		kfree(us(a));
		return r;
	}
	struct usock *ua = us(a), *ub = us(b);
	ua->peer = ub;
	ub->peer = ua;
	ua->refs++;
	ub->refs++;
	ua->state = ub->state = U_CONNECTED;
	return 0;
}

SOCK_FAMILY(unix) = { LINUX_AF_UNIX, u_create, u_pair, NULL };
