/* AF_NETLINK, NETLINK_ROUTE: the RTM_GETLINK and RTM_GETADDR dumps that
 * glibc's getifaddrs/getaddrinfo (AI_ADDRCONFIG) and Go's net.Interfaces
 * read, answered from lwIP's interfaces. Every reply message is queued as its
 * own datagram, the dump ending with NLMSG_DONE; other requests get an
 * NLMSG_ERROR with EOPNOTSUPP. */
#include "internal.h"
#include "socket.h"
#include <inet/ksock.h>
#include <mm/kmalloc.h>
#include <lib/list.h>
#include <lib/string.h>
#include <uaccess/uaccess.h>

#define NETLINK_ROUTE 0
#define NLMSG_ERROR 2
#define NLMSG_DONE 3
#define NLM_F_REQUEST 1
#define NLM_F_MULTI 2
#define NLM_F_DUMP 0x300
#define RTM_NEWLINK 16
#define RTM_GETLINK 18
#define RTM_NEWADDR 20
#define RTM_GETADDR 22
#define IFLA_ADDRESS 1
#define IFLA_BROADCAST 2
#define IFLA_IFNAME 3
#define IFLA_MTU 4
#define IFA_ADDRESS 1
#define IFA_LOCAL 2
#define IFA_LABEL 3
#define IFF_UP 0x1
#define IFF_BROADCAST 0x2
#define IFF_LOOPBACK 0x8
#define IFF_RUNNING 0x40
#define IFF_MULTICAST 0x1000
#define ARPHRD_ETHER 1
#define ARPHRD_LOOPBACK 772
#define RT_SCOPE_UNIVERSE 0
#define RT_SCOPE_LINK 253
#define RT_SCOPE_HOST 254
#define MAX_IFS 16
#define QUEUE_MAX (256u << 10)

struct nlmsghdr {
	uint32_t len;
	uint16_t type, flags;
	uint32_t seq, pid;
};

struct nlmsg {
	struct list node;
	uint32_t len;
	uint8_t data[];
};

struct nlsock {
	spinlock_t lock;
	struct list q;
	uint32_t qbytes;
	uint32_t pid;
};

#define ALIGN4(n) (((n) + 3u) & ~3u)

/* A message being built. */
struct nlb {
	uint8_t buf[512];
	uint32_t len;
};

static void nlb_start(struct nlb *b, uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid, const void *body,
		      uint32_t blen)
{
	struct nlmsghdr h = { 0, type, flags, seq, pid };
	memset(b->buf, 0, sizeof(b->buf));
	memcpy(b->buf, &h, sizeof(h));
	memcpy(b->buf + sizeof(h), body, blen);
	b->len = sizeof(h) + ALIGN4(blen);
}

static void nlb_attr(struct nlb *b, uint16_t type, const void *data, uint16_t len)
{
	uint16_t alen = 4 + len;
	if (b->len + ALIGN4(alen) > sizeof(b->buf))
		return;
	memcpy(b->buf + b->len, &alen, 2);
	memcpy(b->buf + b->len + 2, &type, 2);
	memcpy(b->buf + b->len + 4, data, len);
	b->len += ALIGN4(alen);
}

static void nl_queue(struct nlsock *n, struct nlb *b)
{
	memcpy(b->buf, &b->len, 4);
	struct nlmsg *m = kmalloc(sizeof(*m) + b->len);
	if (!m)
		return;
	m->len = b->len;
	memcpy(m->data, b->buf, b->len);
	uint64_t f = spin_lock_irqsave(&n->lock);
	if (n->qbytes + m->len > QUEUE_MAX) {
		spin_unlock_irqrestore(&n->lock, f);
		kfree(m);
		return;
	}
	list_push_back(&n->q, &m->node);
	n->qbytes += m->len;
	spin_unlock_irqrestore(&n->lock, f);
}

static void dump_links(struct nlsock *n, const struct nlmsghdr *req, struct ksock_if *ifs, int nifs)
{
	for (int i = 0; i < nifs; i++) {
		struct ksock_if *k = &ifs[i];
		struct {
			uint8_t family, pad;
			uint16_t type;
			int32_t index;
			uint32_t flags, change;
		} ifi = { 0, 0, k->loopback ? ARPHRD_LOOPBACK : ARPHRD_ETHER, k->index,
			  (k->up ? IFF_UP : 0) | (k->running ? IFF_RUNNING : 0) |
				  (k->loopback ? IFF_LOOPBACK : IFF_BROADCAST | IFF_MULTICAST),
			  0 };
		struct nlb b;
		nlb_start(&b, RTM_NEWLINK, NLM_F_MULTI, req->seq, n->pid, &ifi, sizeof(ifi));
		nlb_attr(&b, IFLA_IFNAME, k->name, strlen(k->name) + 1);
		nlb_attr(&b, IFLA_MTU, &k->mtu, 4);
		static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		nlb_attr(&b, IFLA_ADDRESS, k->mac, 6);
		nlb_attr(&b, IFLA_BROADCAST, k->loopback ? k->mac : bcast, 6);
		nl_queue(n, &b);
	}
}

static void addr_msg(struct nlsock *n, const struct nlmsghdr *req, struct ksock_if *k, int family, const uint8_t *a,
		     int alen, int prefix, int scope)
{
	struct {
		uint8_t family, prefixlen, flags, scope;
		uint32_t index;
	} ifa = { (uint8_t)family, (uint8_t)prefix, 0, (uint8_t)scope, (uint32_t)k->index };
	struct nlb b;
	nlb_start(&b, RTM_NEWADDR, NLM_F_MULTI, req->seq, n->pid, &ifa, sizeof(ifa));
	nlb_attr(&b, IFA_ADDRESS, a, alen);
	if (family == LINUX_AF_INET) {
		nlb_attr(&b, IFA_LOCAL, a, alen);
		nlb_attr(&b, IFA_LABEL, k->name, strlen(k->name) + 1);
	}
	nl_queue(n, &b);
}

static void dump_addrs(struct nlsock *n, const struct nlmsghdr *req, int family, struct ksock_if *ifs, int nifs)
{
	for (int i = 0; i < nifs; i++) {
		struct ksock_if *k = &ifs[i];
		static const uint8_t zero[4];
		if ((family == 0 || family == LINUX_AF_INET) && memcmp(k->ipv4, zero, 4))
			addr_msg(n, req, k, LINUX_AF_INET, k->ipv4, 4, k->ipv4_prefix,
				 k->loopback ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE);
		if (family == 0 || family == LINUX_AF_INET6)
			for (int j = 0; j < k->n6; j++)
				addr_msg(n, req, k, LINUX_AF_INET6, k->ipv6[j], 16, k->loopback ? 128 : 64,
					 k->loopback ? RT_SCOPE_HOST
						     : (k->ipv6[j][0] == 0xfe && (k->ipv6[j][1] & 0xc0) == 0x80 ? RT_SCOPE_LINK
														: RT_SCOPE_UNIVERSE));
	}
}

static struct nlsock *nl(struct sock *s)
{
	return s->priv;
}

static int64_t nl_send(struct sock *s, const void *buf, size_t len, int flags, const void *sa, uint32_t salen)
{
	struct nlsock *n = nl(s);
	(void)flags;
	(void)sa;
	(void)salen;
	size_t off = 0;
	while (off + sizeof(struct nlmsghdr) <= len) {
		struct nlmsghdr req;
		memcpy(&req, (const uint8_t *)buf + off, sizeof(req));
		if (req.len < sizeof(req) || req.len > len - off)
			return -EINVAL;
		uint8_t family = req.len > sizeof(req) ? ((const uint8_t *)buf)[off + sizeof(req)] : 0;
		if ((req.type == RTM_GETLINK || req.type == RTM_GETADDR) && (req.flags & NLM_F_DUMP) == NLM_F_DUMP) {
			struct ksock_if *ifs = kcalloc(MAX_IFS, sizeof(*ifs));
			if (!ifs)
				return -ENOMEM;
			int nifs = ksock_interfaces(ifs, MAX_IFS);
			if (nifs > MAX_IFS)
				nifs = MAX_IFS;
			if (req.type == RTM_GETLINK)
				dump_links(n, &req, ifs, nifs);
			else
				dump_addrs(n, &req, family, ifs, nifs);
			kfree(ifs);
			struct nlb b;
			int32_t zero = 0;
			nlb_start(&b, NLMSG_DONE, NLM_F_MULTI, req.seq, n->pid, &zero, 4);
			nl_queue(n, &b);
		} else {
			struct {
				int32_t error;
				struct nlmsghdr orig;
			} e = { -EOPNOTSUPP, req };
			struct nlb b;
			nlb_start(&b, NLMSG_ERROR, 0, req.seq, n->pid, &e, sizeof(e));
			nl_queue(n, &b);
		}
		off += ALIGN4(req.len);
	}
	poll_notify();
	return len;
}

static int64_t nl_recv(struct sock *s, void *buf, size_t len, int flags, void *sa, uint32_t *salen, int *oflags)
{
	struct nlsock *n = nl(s);
	uint64_t f = spin_lock_irqsave(&n->lock);
	struct nlmsg *m = list_empty(&n->q) ? NULL : list_entry(n->q.next, struct nlmsg, node);
	if (!m) {
		spin_unlock_irqrestore(&n->lock, f);
		return -EAGAIN;
	}
	size_t c = len < m->len ? len : m->len;
	memcpy(buf, m->data, c);
	int64_t r = (flags & LINUX_MSG_TRUNC) ? (int64_t)m->len : (int64_t)c;
	if (m->len > len)
		*oflags |= LINUX_MSG_TRUNC;
	if (!(flags & LINUX_MSG_PEEK)) {
		list_remove(&m->node);
		n->qbytes -= m->len;
	} else {
		m = NULL;
	}
	spin_unlock_irqrestore(&n->lock, f);
	kfree(m);
	if (sa && salen) {
		/* From the kernel: struct sockaddr_nl { family, pad, pid 0, groups 0 }. */
		uint8_t k[12] = { LINUX_AF_NETLINK, 0 };
		memcpy(sa, k, *salen < sizeof(k) ? *salen : sizeof(k));
		*salen = sizeof(k);
	}
	return r;
}

static int nl_bind(struct sock *s, const void *sa, uint32_t len)
{
	if (len < 12)
		return -EINVAL;
	memcpy(&nl(s)->pid, (const uint8_t *)sa + 4, 4);
	if (!nl(s)->pid)
		nl(s)->pid = proc.pid;
	return 0;
}

static int nl_getname(struct sock *s, void *sa, uint32_t *len, bool peer)
{
	uint8_t k[12] = { LINUX_AF_NETLINK, 0 };
	uint32_t pid = peer ? 0 : nl(s)->pid;
	memcpy(k + 4, &pid, 4);
	memcpy(sa, k, *len < sizeof(k) ? *len : sizeof(k));
	*len = sizeof(k);
	return 0;
}

static int nl_setsockopt(struct sock *s, int level, int name, const void *val, uint32_t len)
{
	(void)s;
	(void)level;
	(void)name;
	(void)val;
	(void)len;
	return 0; /* buffer sizes, NETLINK_EXT_ACK...: nothing to change */
}

static int nl_getsockopt(struct sock *s, int level, int name, void *val, uint32_t *len)
{
	int v = name == LINUX_SO_TYPE && level == LINUX_SOL_SOCKET ? s->type : 0;
	uint32_t c = *len < 4 ? *len : 4;
	memcpy(val, &v, c);
	*len = c;
	return 0;
}

static unsigned nl_poll(struct sock *s)
{
	return (list_empty(&nl(s)->q) ? 0 : POLLIN | POLLRDNORM) | POLLOUT | POLLWRNORM;
}

static void nl_release(struct sock *s)
{
	struct nlsock *n = nl(s);
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &n->q) {
		list_remove(pos);
		kfree(list_entry(pos, struct nlmsg, node));
	}
	kfree(n);
}

static const struct sock_ops netlink_ops = {
	.bind = nl_bind,
	.send = nl_send,
	.recv = nl_recv,
	.getname = nl_getname,
	.setsockopt = nl_setsockopt,
	.getsockopt = nl_getsockopt,
	.poll = nl_poll,
	.release = nl_release,
};

static int nl_create(struct sock *s, int type, int protocol)
{
	if (type != LINUX_SOCK_RAW && type != LINUX_SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != NETLINK_ROUTE)
		return -EPROTONOSUPPORT;
	struct nlsock *n = kzalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	spin_init(&n->lock);
	list_init(&n->q);
	s->ops = &netlink_ops;
	s->priv = n;
	return 0;
}

SOCK_FAMILY(netlink) = { LINUX_AF_NETLINK, nl_create, NULL, NULL };

/* --- interface ioctls on any socket (if_nametoindex, ifconfig-style queries) --- */

#define SIOCGIFNAME 0x8910
#define SIOCGIFFLAGS 0x8913
#define SIOCGIFADDR 0x8915
#define SIOCGIFNETMASK 0x891b
#define SIOCGIFMTU 0x8921
#define SIOCGIFHWADDR 0x8927
#define SIOCGIFINDEX 0x8933

struct kifreq {
	char name[16];
	union {
		uint8_t sa[16];
		int32_t ival;
	};
	uint8_t pad[8];
};

static int if_ioctl(unsigned cmd, unsigned long arg)
{
	if (cmd != SIOCGIFNAME && cmd != SIOCGIFFLAGS && cmd != SIOCGIFADDR && cmd != SIOCGIFNETMASK &&
	    cmd != SIOCGIFMTU && cmd != SIOCGIFHWADDR && cmd != SIOCGIFINDEX)
		return -ENOTTY;
	struct kifreq r;
	if (copy_from_user(&r, (const void *)arg, sizeof(r)))
		return -EFAULT;
	r.name[15] = 0;
	struct ksock_if *ifs = kcalloc(MAX_IFS, sizeof(*ifs));
	if (!ifs)
		return -ENOMEM;
	int n = ksock_interfaces(ifs, MAX_IFS);
	struct ksock_if *k = NULL;
	for (int i = 0; i < n && i < MAX_IFS; i++)
		if (cmd == SIOCGIFNAME ? ifs[i].index == r.ival : !strcmp(ifs[i].name, r.name))
			k = &ifs[i];
	int ret = 0;
	if (!k) {
		ret = -ENODEV;
	} else {
		switch (cmd) {
		case SIOCGIFNAME:
			memcpy(r.name, k->name, sizeof(r.name));
			break;
		case SIOCGIFINDEX:
			r.ival = k->index;
			break;
		case SIOCGIFMTU:
			r.ival = (int32_t)k->mtu;
			break;
		case SIOCGIFFLAGS:
			r.ival = (k->up ? IFF_UP : 0) | (k->running ? IFF_RUNNING : 0) |
				 (k->loopback ? IFF_LOOPBACK : IFF_BROADCAST | IFF_MULTICAST);
			break;
		case SIOCGIFHWADDR:
			memset(r.sa, 0, sizeof(r.sa));
			r.sa[0] = k->loopback ? (ARPHRD_LOOPBACK & 0xff) : ARPHRD_ETHER;
			r.sa[1] = k->loopback ? (ARPHRD_LOOPBACK >> 8) : 0;
			memcpy(r.sa + 2, k->mac, 6);
			break;
		case SIOCGIFADDR:
		case SIOCGIFNETMASK: {
			memset(r.sa, 0, sizeof(r.sa));
			r.sa[0] = LINUX_AF_INET;
			uint32_t m = k->ipv4_prefix ? 0xffffffffu << (32 - k->ipv4_prefix) : 0;
			uint8_t mask[4] = { m >> 24, m >> 16, m >> 8, m };
			memcpy(r.sa + 4, cmd == SIOCGIFADDR ? k->ipv4 : mask, 4);
			break;
		}
		}
	}
	kfree(ifs);
	if (!ret && copy_to_user((void *)arg, &r, sizeof(r)))
		ret = -EFAULT;
	return ret;
}

SOCK_IFIOCTL(netlink) = { if_ioctl };
