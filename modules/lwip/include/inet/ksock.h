/*
 * Kernel sockets on lwIP (TCP, UDP, raw; AF_INET and AF_INET6), in the Linux
 * ABI: addresses are Linux struct sockaddr_in / sockaddr_in6 (kernel buffers),
 * levels, options and MSG_* flags are Linux's, errors are -errno (Linux).
 * Every call is nonblocking (-EAGAIN, -EINPROGRESS); callers that block wait
 * for ksock_poll() readiness, and the hook set by ksock_set_notify() runs on
 * every state change of any socket (the stack's thread calls it).
 */
#ifndef INET_KSOCK_H
#define INET_KSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <lib/socket.h>

/* Readiness bits, Linux's POLL* values. */
#define KSOCK_POLLIN 0x001
#define KSOCK_POLLOUT 0x004
#define KSOCK_POLLERR 0x008
#define KSOCK_POLLHUP 0x010
#define KSOCK_POLLRDNORM 0x040
#define KSOCK_POLLWRNORM 0x100
#define KSOCK_POLLRDHUP 0x2000

struct ksock;

/* The domain is LINUX_AF_INET or LINUX_AF_INET6; type without SOCK_* flags. */
int ksock_create(int domain, int type, int protocol, struct ksock **out);
void ksock_close(struct ksock *s);
int ksock_domain(const struct ksock *s);
int ksock_type(const struct ksock *s);
int ksock_bind(struct ksock *s, const void *sa, uint32_t len);
int ksock_listen(struct ksock *s, int backlog);
/* sa (LINUX_SOCKADDR_MAX bytes) and *len receive the peer address when non-NULL. */
int ksock_accept(struct ksock *s, struct ksock **out, void *sa, uint32_t *len);
int ksock_connect(struct ksock *s, const void *sa, uint32_t len);
/* Bytes sent, or -errno (-EPIPE once the connection can no longer send). */
int64_t ksock_send(struct ksock *s, const void *buf, size_t n, int flags, const void *sa, uint32_t salen);
/* Bytes received (0: end of stream), or -errno. */
int64_t ksock_recv(struct ksock *s, void *buf, size_t n, int flags, void *sa, uint32_t *salen);
int ksock_shutdown(struct ksock *s, int how);
int ksock_getname(struct ksock *s, void *sa, uint32_t *len, bool peer);
int ksock_setsockopt(struct ksock *s, int level, int name, const void *val, uint32_t len);
int ksock_getsockopt(struct ksock *s, int level, int name, void *val, uint32_t *len);
/* Current KSOCK_POLL* readiness; never sleeps (callable under a spinlock). */
unsigned ksock_poll(struct ksock *s);
/* A counter that moves on every event of the socket (edge-triggered epoll). */
uint64_t ksock_poll_gen(struct ksock *s);
/* Bytes ready to read (FIONREAD). */
int ksock_nread(struct ksock *s);
void ksock_set_notify(void (*fn)(void));
/* Wait (at most timeout_ns) until every TCP connection has sent and had
 * acknowledged what it queued: the program exited, the VM is about to stop. */
void ksock_drain(uint64_t timeout_ns);
/* What the netlink route dump reports about each interface. */
struct ksock_if {
	char name[16];       /* lo, eth0, eth1... */
	int index;           /* 1 = lo */
	uint8_t mac[6];
	unsigned mtu;
	bool up, running, loopback;
	uint8_t ipv4[4];     /* 0.0.0.0: none */
	int ipv4_prefix;
	int n6;
	uint8_t ipv6[4][16]; /* valid addresses */
};
/* Fill up to max entries; returns how many interfaces there are. */
int ksock_interfaces(struct ksock_if *out, int max);

/* True once the stack is up (the tcpip thread runs and loopback exists). */
bool ksock_ready(void);

#endif
