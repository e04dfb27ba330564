/* Loopback sockets, no NIC: the program serves and connects to itself over
 * 127.0.0.1 and ::1 and checks what each call returns. One "ok NAME" line per
 * check; the first failure prints "FAIL NAME: why" and exits 1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <time.h>
#include <unistd.h>

static int checks;
#define CHECK(name, cond)                                                                        \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			printf("FAIL %s: %s (errno %d %s)\n", name, #cond, errno, strerror(errno)); \
			exit(1);                                                                 \
		}                                                                                \
		printf("ok %s\n", name);                                                         \
		checks++;                                                                        \
	} while (0)

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static volatile int sigpipes;
static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/* A listening TCP socket on addr (family AF_INET or AF_INET6), port chosen by the stack. */
static int listener(int family, const char *addr, struct sockaddr_storage *where, socklen_t *wlen)
{
	int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &in->sin_addr);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		len = sizeof(*in6);
	}
	if (bind(s, (struct sockaddr *)&ss, len) || listen(s, 16))
		return -1;
	*wlen = sizeof(*where);
	getsockname(s, (struct sockaddr *)where, wlen);
	return s;
}

static void tcp4(void)
{
	struct sockaddr_storage where;
	socklen_t wlen;
	int ls = listener(AF_INET, "127.0.0.1", &where, &wlen);
	CHECK("tcp4.listen", ls >= 0);
	struct sockaddr_in *w = (struct sockaddr_in *)&where;
	CHECK("tcp4.getsockname", wlen == sizeof(struct sockaddr_in) && w->sin_family == AF_INET &&
					  ntohs(w->sin_port) != 0 && w->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	int type = -1, acc = -1;
	socklen_t ol = sizeof(type);
	CHECK("tcp4.so_type", getsockopt(ls, SOL_SOCKET, SO_TYPE, &type, &ol) == 0 && type == SOCK_STREAM);
	ol = sizeof(acc);
	CHECK("tcp4.so_acceptconn", getsockopt(ls, SOL_SOCKET, SO_ACCEPTCONN, &acc, &ol) == 0 && acc == 1);

	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(c, (struct sockaddr *)&where, wlen);
	CHECK("tcp4.connect_nonblocking", r == 0 || (r == -1 && errno == EINPROGRESS));
	struct pollfd p = { ls, POLLIN, 0 };
	CHECK("tcp4.poll_listener", poll(&p, 1, 5000) == 1 && (p.revents & POLLIN));
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	int a = accept4(ls, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	CHECK("tcp4.accept4", a >= 0 && plen == sizeof(peer) && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	CHECK("tcp4.accept_cloexec", fcntl(a, F_GETFD) == FD_CLOEXEC);
	p = (struct pollfd){ c, POLLOUT, 0 };
	CHECK("tcp4.poll_connected", poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT));
	int err = -1;
	ol = sizeof(err);
	CHECK("tcp4.so_error", getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &ol) == 0 && err == 0);
	r = connect(c, (struct sockaddr *)&where, wlen);
	CHECK("tcp4.connect_again_eisconn", r == -1 && errno == EISCONN);
	struct sockaddr_in cn, pn;
	socklen_t cl = sizeof(cn), pl = sizeof(pn);
	getsockname(c, (struct sockaddr *)&cn, &cl);
	getpeername(a, (struct sockaddr *)&pn, &pl);
	CHECK("tcp4.getpeername", cn.sin_port == pn.sin_port && cn.sin_port == peer.sin_port);
	int one = 1;
	CHECK("tcp4.tcp_nodelay", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0);
	int nd = 0;
	ol = sizeof(nd);
	CHECK("tcp4.tcp_nodelay_get", getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &nd, &ol) == 0 && nd == 1);
	CHECK("tcp4.so_keepalive", setsockopt(a, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == 0);
	int rcvbuf = 65536;
	CHECK("tcp4.so_rcvbuf", setsockopt(a, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) == 0);

	/* 4 MiB client -> server, nonblocking sender, blocking reader driven by poll. */
	size_t total = 4u << 20, sent = 0, got = 0;
	unsigned char *buf = malloc(65536), *in = malloc(65536);
	uint32_t hs = 2166136261u, hr = 2166136261u;
	while (got < total) {
		if (sent < total) {
			size_t n = total - sent < 65536 ? total - sent : 65536;
			for (size_t i = 0; i < n; i++)
				buf[i] = (unsigned char)(((sent + i) * 2654435761u) >> 13);
			ssize_t w = send(c, buf, n, 0);
			if (w > 0) {
				hs = fnv(hs, buf, (size_t)w);
				sent += (size_t)w;
			} else if (!(w < 0 && errno == EAGAIN)) {
				CHECK("tcp4.send", 0);
			}
		}
		struct pollfd pp = { a, POLLIN, 0 };
		if (poll(&pp, 1, 5000) != 1) {
			int av = -1;
			ioctl(a, FIONREAD, &av);
			ssize_t x = recv(a, in, 100, MSG_DONTWAIT);
			printf("sent %zu got %zu avail %d recv %zd errno %d revents %x\n", sent, got, av, x, errno, pp.revents);
			CHECK("tcp4.stream_progress", 0);
		}
		ssize_t n = read(a, in, 65536);
		if (n <= 0)
			CHECK("tcp4.read", 0);
		hr = fnv(hr, in, (size_t)n);
		got += (size_t)n;
	}
	CHECK("tcp4.stream_4MiB_checksum", hs == hr && got == total);

	/* MSG_PEEK, FIONREAD, MSG_DONTWAIT, readv/writev. */
	CHECK("tcp4.send_small", send(a, "hello world", 11, 0) == 11);
	p = (struct pollfd){ c, POLLIN, 0 };
	poll(&p, 1, 2000);
	msleep(20);
	int avail = 0;
	CHECK("tcp4.fionread", ioctl(c, FIONREAD, &avail) == 0 && avail == 11);
	char tmp[32] = { 0 };
	CHECK("tcp4.msg_peek", recv(c, tmp, 5, MSG_PEEK) == 5 && memcmp(tmp, "hello", 5) == 0);
	memset(tmp, 0, sizeof(tmp));
	struct iovec iov[2] = { { tmp, 6 }, { tmp + 16, 5 } };
	CHECK("tcp4.readv", readv(c, iov, 2) == 11 && memcmp(tmp, "hello ", 6) == 0 && memcmp(tmp + 16, "world", 5) == 0);
	CHECK("tcp4.msg_dontwait_eagain", recv(c, tmp, sizeof(tmp), MSG_DONTWAIT) == -1 && errno == EAGAIN);
	int fl = fcntl(a, F_GETFL);
	fcntl(a, F_SETFL, fl | O_NONBLOCK);
	CHECK("tcp4.o_nonblock_eagain", read(a, tmp, sizeof(tmp)) == -1 && errno == EAGAIN);
	one = 0;
	ioctl(a, FIONBIO, &one);
	struct msghdr mh = { 0 };
	struct iovec mv[2] = { { "abc", 3 }, { "defg", 4 } };
	mh.msg_iov = mv;
	mh.msg_iovlen = 2;
	CHECK("tcp4.sendmsg", sendmsg(c, &mh, MSG_NOSIGNAL) == 7);
	memset(tmp, 0, sizeof(tmp));
	struct iovec rv = { tmp, sizeof(tmp) };
	struct msghdr rh = { 0 };
	rh.msg_iov = &rv;
	rh.msg_iovlen = 1;
	rv.iov_len = 7;
	CHECK("tcp4.recvmsg_waitall", recvmsg(a, &rh, MSG_WAITALL) == 7 && memcmp(tmp, "abcdefg", 7) == 0);

	/* SO_RCVTIMEO: a blocking read gives up with EAGAIN. */
	struct timeval tv = { 0, 200000 };
	CHECK("tcp4.so_rcvtimeo", setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
	CHECK("tcp4.rcvtimeo_eagain", read(c, tmp, sizeof(tmp)) == -1 && errno == EAGAIN);

	/* shutdown(SHUT_WR): the peer reads the end of the stream. */
	CHECK("tcp4.shutdown_wr", shutdown(c, SHUT_WR) == 0);
	p = (struct pollfd){ a, POLLIN | POLLRDHUP, 0 };
	CHECK("tcp4.poll_rdhup", poll(&p, 1, 2000) == 1 && (p.revents & POLLIN));
	CHECK("tcp4.read_eof", read(a, tmp, sizeof(tmp)) == 0);
	CHECK("tcp4.send_after_shutdown_epipe", send(c, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE);
	signal(SIGPIPE, on_sigpipe);
	CHECK("tcp4.write_after_shutdown_sigpipe", write(c, "x", 1) == -1 && errno == EPIPE && sigpipes == 1);

	/* The peer closes: sending eventually fails with EPIPE or ECONNRESET. */
	close(a);
	int r2 = 0;
	for (int i = 0; i < 100; i++) {
		r2 = send(c, "y", 1, MSG_NOSIGNAL);
		if (r2 < 0)
			break;
		msleep(10);
	}
	CHECK("tcp4.closed_peer", r2 == -1 && (errno == EPIPE || errno == ECONNRESET));
	close(c);
	close(ls);
	free(buf);
	free(in);
}

static void tcp6_blocking_and_dualstack(void)
{
	struct sockaddr_storage where;
	socklen_t wlen;
	int ls = listener(AF_INET6, "::1", &where, &wlen);
	CHECK("tcp6.listen", ls >= 0 && wlen == sizeof(struct sockaddr_in6));
	int c = socket(AF_INET6, SOCK_STREAM, 0);
	CHECK("tcp6.connect_blocking", connect(c, (struct sockaddr *)&where, wlen) == 0);
	int a = accept(ls, NULL, NULL);
	CHECK("tcp6.accept", a >= 0);
	CHECK("tcp6.write", write(c, "ping6", 5) == 5);
	char tmp[8] = { 0 };
	CHECK("tcp6.read", read(a, tmp, sizeof(tmp)) == 5 && memcmp(tmp, "ping6", 5) == 0);
	struct sockaddr_in6 pn;
	socklen_t pl = sizeof(pn);
	CHECK("tcp6.getpeername", getpeername(a, (struct sockaddr *)&pn, &pl) == 0 && pn.sin6_family == AF_INET6 &&
					  IN6_IS_ADDR_LOOPBACK(&pn.sin6_addr));
	close(a);
	close(c);
	close(ls);

	/* An AF_INET6 listener on :: takes IPv4 connections too (IPV6_V6ONLY off). */
	ls = listener(AF_INET6, "::", &where, &wlen);
	int v6only = -1;
	socklen_t ol = sizeof(v6only);
	CHECK("dual.v6only_off", getsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &ol) == 0 && v6only == 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = ((struct sockaddr_in6 *)&where)->sin6_port };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK("dual.connect_v4", connect(c, (struct sockaddr *)&to, sizeof(to)) == 0);
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	a = accept(ls, (struct sockaddr *)&from, &fl);
	CHECK("dual.accept_v4mapped", a >= 0 && from.sin6_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&from.sin6_addr));
	close(a);
	close(c);
	close(ls);

	/* Nobody listens: connection refused. */
	c = socket(AF_INET, SOCK_STREAM, 0);
	to.sin_port = htons(1);
	CHECK("tcp4.econnrefused", connect(c, (struct sockaddr *)&to, sizeof(to)) == -1 && errno == ECONNREFUSED);
	close(c);
}

static void udp(int family, const char *addr)
{
	const char *name = family == AF_INET ? "udp4" : "udp6";
	char label[64];
	int s1 = socket(family, SOCK_DGRAM, 0), s2 = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_storage b;
	memset(&b, 0, sizeof(b));
	socklen_t bl;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&b;
		in->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &in->sin_addr);
		bl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&b;
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		bl = sizeof(*in6);
	}
	snprintf(label, sizeof(label), "%s.bind", name);
	CHECK(label, bind(s1, (struct sockaddr *)&b, bl) == 0);
	struct sockaddr_storage w;
	socklen_t wl = sizeof(w);
	getsockname(s1, (struct sockaddr *)&w, &wl);
	snprintf(label, sizeof(label), "%s.eagain", name);
	char tmp[64];
	CHECK(label, recv(s2, tmp, sizeof(tmp), 0) == -1 && errno == EAGAIN);
	snprintf(label, sizeof(label), "%s.sendto", name);
	CHECK(label, sendto(s2, "datagram", 8, 0, (struct sockaddr *)&w, wl) == 8);
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	memset(tmp, 0, sizeof(tmp));
	snprintf(label, sizeof(label), "%s.recvfrom", name);
	CHECK(label, recvfrom(s1, tmp, sizeof(tmp), 0, (struct sockaddr *)&from, &fl) == 8 &&
			     memcmp(tmp, "datagram", 8) == 0 && from.ss_family == family);
	struct sockaddr_storage s2n;
	socklen_t s2l = sizeof(s2n);
	getsockname(s2, (struct sockaddr *)&s2n, &s2l);
	snprintf(label, sizeof(label), "%s.source_port", name);
	CHECK(label, fl == s2l && memcmp(&from, &s2n, 4) == 0);
	/* Reply to the address recvfrom gave. */
	snprintf(label, sizeof(label), "%s.reply", name);
	CHECK(label, sendto(s1, "back", 4, 0, (struct sockaddr *)&from, fl) == 4);
	struct pollfd p = { s2, POLLIN, 0 };
	poll(&p, 1, 2000);
	snprintf(label, sizeof(label), "%s.reply_recv", name);
	CHECK(label, recv(s2, tmp, sizeof(tmp), 0) == 4 && memcmp(tmp, "back", 4) == 0);
	close(s1);
	close(s2);
}

static void epoll_edge_oneshot_select_sendfile(void)
{
	struct sockaddr_storage where;
	socklen_t wlen;
	int ls = listener(AF_INET, "127.0.0.1", &where, &wlen);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	connect(c, (struct sockaddr *)&where, wlen);
	int a = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = a }, out[4];
	CHECK("epoll.add_et", epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev) == 0);
	CHECK("epoll.none_yet", epoll_wait(ep, out, 4, 0) == 0);
	write(c, "12345678", 8);
	CHECK("epoll.et_fires", epoll_wait(ep, out, 4, 2000) == 1 && out[0].data.fd == a && (out[0].events & EPOLLIN));
	char tmp[16];
	CHECK("epoll.partial_read", read(a, tmp, 4) == 4);
	CHECK("epoll.et_no_refire", epoll_wait(ep, out, 4, 0) == 0);
	CHECK("epoll.drain", read(a, tmp, 16) == 4 && read(a, tmp, 16) == -1 && errno == EAGAIN);
	write(c, "x", 1);
	CHECK("epoll.et_new_data", epoll_wait(ep, out, 4, 2000) == 1);
	read(a, tmp, 16);
	/* More data right after a drain to EAGAIN must fire again (no lost edge). */
	CHECK("epoll.et_after_eagain_empty", epoll_wait(ep, out, 4, 0) == 0);
	write(c, "y", 1);
	msleep(20);
	write(c, "z", 1);
	CHECK("epoll.et_second_edge", epoll_wait(ep, out, 4, 2000) == 1);
	read(a, tmp, 16);
	/* Drained without epoll_wait seeing it empty, then new data: still an edge (Go, nginx). */
	write(c, "q", 1);
	CHECK("epoll.et_edge_without_scan", epoll_wait(ep, out, 4, 2000) == 1);
	read(a, tmp, 16);

	ev.events = EPOLLIN | EPOLLONESHOT;
	CHECK("epoll.mod_oneshot", epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev) == 0);
	write(c, "1", 1);
	CHECK("epoll.oneshot_fires", epoll_wait(ep, out, 4, 2000) == 1);
	CHECK("epoll.oneshot_disabled", epoll_wait(ep, out, 4, 50) == 0);
	CHECK("epoll.oneshot_rearm", epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev) == 0 && epoll_wait(ep, out, 4, 2000) == 1);
	read(a, tmp, 16);

	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev);
	write(c, "L", 1);
	CHECK("epoll.level", epoll_wait(ep, out, 4, 2000) == 1 && epoll_wait(ep, out, 4, 0) == 1);
	read(a, tmp, 16);

	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(a, &rs);
	struct timeval tv = { 0, 0 };
	CHECK("select.not_ready", select(a + 1, &rs, NULL, NULL, &tv) == 0);
	write(c, "S", 1);
	FD_ZERO(&rs);
	FD_SET(a, &rs);
	tv.tv_sec = 2;
	CHECK("select.ready", select(a + 1, &rs, NULL, NULL, &tv) == 1 && FD_ISSET(a, &rs));
	read(a, tmp, 16);

	/* sendfile from a file to the socket. */
	int f = open("/tmp/sf", O_RDWR | O_CREAT | O_TRUNC, 0600);
	char *blk = malloc(300000);
	for (int i = 0; i < 300000; i++)
		blk[i] = (char)(i * 7);
	write(f, blk, 300000);
	off_t off = 0;
	int ca = fcntl(a, F_GETFL);
	fcntl(a, F_SETFL, ca & ~O_NONBLOCK);
	size_t sent = 0, got = 0;
	char *rb = malloc(300000);
	fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
	while (got < 300000) {
		if (sent < 300000) {
			ssize_t w = sendfile(c, f, &off, 300000 - sent);
			if (w > 0)
				sent += (size_t)w;
		}
		struct pollfd p = { a, POLLIN, 0 };
		if (poll(&p, 1, 2000) != 1)
			break;
		ssize_t n = read(a, rb + got, 300000 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	CHECK("sendfile.socket", got == 300000 && memcmp(rb, blk, 300000) == 0 && off == 300000);
	close(f);
	close(ep);
	close(a);
	close(c);
	close(ls);
}

static void unix_sockets(void)
{
	/* socketpair, stream: bytes both ways, EOF and EPIPE after the peer closes. */
	int sv[2];
	CHECK("unix.socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	char tmp[64] = { 0 };
	CHECK("unix.pair_write", write(sv[0], "abc", 3) == 3 && write(sv[1], "xy", 2) == 2);
	CHECK("unix.pair_read", read(sv[1], tmp, sizeof(tmp)) == 3 && memcmp(tmp, "abc", 3) == 0 &&
					read(sv[0], tmp, sizeof(tmp)) == 2 && memcmp(tmp, "xy", 2) == 0);
	struct pollfd p = { sv[1], POLLIN, 0 };
	CHECK("unix.poll_empty", poll(&p, 1, 0) == 0);
	close(sv[0]);
	CHECK("unix.eof", read(sv[1], tmp, sizeof(tmp)) == 0);
	CHECK("unix.epipe", send(sv[1], "z", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE);
	close(sv[1]);

	/* socketpair, datagram: message boundaries kept. */
	CHECK("unix.dgram_pair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	send(sv[0], "one", 3, 0);
	send(sv[0], "three", 5, 0);
	CHECK("unix.dgram_boundaries", recv(sv[1], tmp, sizeof(tmp), 0) == 3 && recv(sv[1], tmp, sizeof(tmp), 0) == 5);
	close(sv[0]);
	close(sv[1]);

	/* A path in tmpfs: bind, listen, connect, accept, names. */
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, "/tmp/test.sock");
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK("unix.bind_path", bind(ls, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(ls, 4) == 0);
	CHECK("unix.bind_inuse", bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, sizeof(a)) == -1 &&
					 errno == EADDRINUSE);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("unix.connect_path", connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
	p = (struct pollfd){ ls, POLLIN, 0 };
	CHECK("unix.poll_listener", poll(&p, 1, 1000) == 1);
	int s = accept(ls, NULL, NULL);
	CHECK("unix.accept", s >= 0);
	struct sockaddr_un pn;
	socklen_t pl = sizeof(pn);
	CHECK("unix.getpeername", getpeername(c, (struct sockaddr *)&pn, &pl) == 0 && strcmp(pn.sun_path, "/tmp/test.sock") == 0);
	CHECK("unix.path_stream", write(c, "hello", 5) == 5 && read(s, tmp, sizeof(tmp)) == 5);
	struct stat st;
	CHECK("unix.socket_inode", stat("/tmp/test.sock", &st) == 0 && S_ISSOCK(st.st_mode));
	close(c);
	close(s);
	close(ls);
	struct sockaddr_un none = { .sun_family = AF_UNIX };
	strcpy(none.sun_path, "/tmp/nobody.sock");
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("unix.connect_missing", connect(c, (struct sockaddr *)&none, sizeof(none)) == -1 && errno == ENOENT);
	close(c);

	/* Datagrams to a path, with the sender's address. */
	struct sockaddr_un da = { .sun_family = AF_UNIX }, db = { .sun_family = AF_UNIX };
	strcpy(da.sun_path, "/tmp/d1.sock");
	strcpy(db.sun_path, "/tmp/d2.sock");
	int d1 = socket(AF_UNIX, SOCK_DGRAM, 0), d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	bind(d1, (struct sockaddr *)&da, sizeof(da));
	bind(d2, (struct sockaddr *)&db, sizeof(db));
	CHECK("unix.dgram_sendto", sendto(d2, "ping", 4, 0, (struct sockaddr *)&da, sizeof(da)) == 4);
	struct sockaddr_un from;
	socklen_t fl = sizeof(from);
	ssize_t got = recvfrom(d1, tmp, sizeof(tmp), 0, (struct sockaddr *)&from, &fl);
	if (got != 4 || strcmp(from.sun_path, "/tmp/d2.sock"))
		printf("got %zd fl %u fam %d path %s\n", got, fl, from.sun_family, from.sun_path);
	CHECK("unix.dgram_recvfrom", got == 4 && strcmp(from.sun_path, "/tmp/d2.sock") == 0);
	close(d1);
	close(d2);
}

/* getifaddrs and getaddrinfo read the netlink route dump (RTM_GETLINK, RTM_GETADDR). */
static void netlink(void)
{
	struct ifaddrs *ifa = NULL;
	CHECK("netlink.getifaddrs", getifaddrs(&ifa) == 0 && ifa != NULL);
	int lo4 = 0, lo6 = 0, lolink = 0;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (strcmp(i->ifa_name, "lo") || !(i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET &&
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
			lo4 = 1;
		if (i->ifa_addr->sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
			lo6 = 1;
		if (i->ifa_addr->sa_family == AF_PACKET)
			lolink = 1;
	}
	freeifaddrs(ifa);
	CHECK("netlink.lo_ipv4", lo4);
	CHECK("netlink.lo_ipv6", lo6);
	CHECK("netlink.lo_link", lolink);
	CHECK("netlink.if_nametoindex", if_nametoindex("lo") >= 1);
	/* AI_ADDRCONFIG makes glibc ask netlink which families have addresses. */
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG | AI_NUMERICHOST },
			*res;
	CHECK("netlink.getaddrinfo_addrconfig", getaddrinfo("::1", "80", &hints, &res) == 0 && res != NULL &&
							res->ai_family == AF_INET6);
	freeaddrinfo(res);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	tcp4();
	tcp6_blocking_and_dualstack();
	udp(AF_INET, "127.0.0.1");
	udp(AF_INET6, "::1");
	epoll_edge_oneshot_select_sendfile();
	unix_sockets();
	netlink();
	printf("loopback: %d checks ok\n", checks);
	return 0;
}
