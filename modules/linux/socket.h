/* linux-private: sockets in the file table. socket.c owns the system calls,
 * blocking, timeouts, SIGPIPE and user copies; each address family (a
 * SOCK_FAMILY table entry: inet over lwIP, unix, netlink) implements
 * nonblocking operations on kernel buffers, -EAGAIN when it would block. */
#ifndef LINUX_SOCKET_H
#define LINUX_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lib/socket.h>
#include <lib/ktable.h>

struct sock;

struct sock_ops {
	int (*bind)(struct sock *s, const void *sa, uint32_t len);
	int (*listen)(struct sock *s, int backlog);
	/* *out is a new sock of the same family, or -EAGAIN. */
	int (*accept)(struct sock *s, struct sock *out, void *sa, uint32_t *len);
	/* 0, -EINPROGRESS (wait for POLLOUT, then connect_result), or -errno. */
	int (*connect)(struct sock *s, const void *sa, uint32_t len);
	int (*connect_result)(struct sock *s);
	int64_t (*send)(struct sock *s, const void *buf, size_t n, int flags, const void *sa, uint32_t salen);
	/* *salen: capacity in, the sender's address length out (0: none).
	 * *oflags may get LINUX_MSG_TRUNC (a datagram cut short). */
	int64_t (*recv)(struct sock *s, void *buf, size_t n, int flags, void *sa, uint32_t *salen, int *oflags);
	int (*shutdown)(struct sock *s, int how);
	int (*getname)(struct sock *s, void *sa, uint32_t *len, bool peer);
	int (*setsockopt)(struct sock *s, int level, int name, const void *val, uint32_t len);
	int (*getsockopt)(struct sock *s, int level, int name, void *val, uint32_t *len);
	unsigned (*poll)(struct sock *s);
	/* Optional event counter (see file_ops.poll_gen). */
	uint64_t (*poll_gen)(struct sock *s);
	int (*nread)(struct sock *s);
	void (*release)(struct sock *s);
};

struct sock {
	const struct sock_ops *ops;
	int domain, type, protocol;
	uint64_t rcvtimeo_ns, sndtimeo_ns; /* 0 = none */
	void *priv;                        /* the family's */
};

struct sock_family {
	int domain;
	/* Fill s (ops, priv); type has no SOCK_* flags. */
	int (*create)(struct sock *s, int type, int protocol);
	/* socketpair; NULL: -EOPNOTSUPP. */
	int (*pair)(struct sock *a, struct sock *b, int type, int protocol);
	/* At exit, after every socket is closed: let queued data leave (optional). */
	void (*drain)(void);
};
KTABLE_DECLARE(struct sock_family, sock_family);
#define SOCK_FAMILY(ident) KTABLE_ENTRY(struct sock_family, sock_family, 5, __sock_family_##ident)

/* Interface ioctls (SIOCGIFINDEX, SIOCGIFFLAGS...) on any socket: answered
 * by the stack that knows the interfaces; -ENOTTY when it does not know cmd. */
struct sock_ifioctl {
	int (*ioctl)(unsigned cmd, unsigned long arg);
};
KTABLE_DECLARE(struct sock_ifioctl, sock_ifioctl);
#define SOCK_IFIOCTL(ident) KTABLE_ENTRY(struct sock_ifioctl, sock_ifioctl, 5, __sock_ifioctl_##ident)

/* The sock of a socket file, or NULL. */
struct file;
struct sock *sock_of(struct file *f);

#endif
