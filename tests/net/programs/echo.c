/* A TCP echo server for host-side tests: listens on [::]:PORT (IPv4 too),
 * serves COUNT connections one after another (each: echo everything until
 * the client shuts its side, then close) and exits 0; with a third argument
 * "threads", a thread per connection serves them all at once. Prints "listening"
 * once ready, "served N bytes from ADDR" per connection, and at the end the
 * kernel's per-queue NIC counters (/proc/net/netdev_queues) when it has /proc. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <pthread.h>
#include <unistd.h>

static int threaded;

/* Echo until the peer shuts its side; returns the byte count, -1 on a write error. */
static long serve(int c)
{
	static char shared[65536];
	char own[16384];
	char *buf = threaded ? own : shared;
	size_t size = threaded ? sizeof(own) : sizeof(shared);
	long total = 0;
	ssize_t n;
	while ((n = read(c, buf, size)) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(c, buf + off, n - off);
			if (w <= 0) {
				perror("write");
				return -1;
			}
			off += w;
		}
		total += n;
	}
	return total;
}

struct conn {
	int fd;
	struct sockaddr_in6 peer;
	pthread_t t;
};

static void report(int c, const struct sockaddr_in6 *peer, long total)
{
	char name[64];
	inet_ntop(AF_INET6, &peer->sin6_addr, name, sizeof(name));
	printf("served %ld bytes from %s\n", total, name);
	close(c);
}

static void *conn_thread(void *arg)
{
	struct conn *k = arg;
	long total = serve(k->fd);
	report(k->fd, &k->peer, total);
	return (void *)(long)(total < 0);
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 8080, count = argc > 2 ? atoi(argv[2]) : 1;
	threaded = argc > 3 && !strcmp(argv[3], "threads");
	struct conn *conns = calloc(count > 0 ? count : 1, sizeof(*conns));
	setvbuf(stdout, NULL, _IONBF, 0);
	int s = socket(AF_INET6, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any };
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 256)) {
		perror("bind/listen");
		return 1;
	}
	printf("listening on %d\n", port);
	for (int i = 0; i < count; i++) {
		struct conn *k = &conns[i];
		socklen_t pl = sizeof(k->peer);
		k->fd = accept(s, (struct sockaddr *)&k->peer, &pl);
		if (k->fd < 0) {
			perror("accept");
			return 1;
		}
		if (threaded) {
			if (pthread_create(&k->t, NULL, conn_thread, k)) {
				perror("pthread_create");
				return 1;
			}
			continue;
		}
		long total = serve(k->fd);
		if (total < 0)
			return 1;
		report(k->fd, &k->peer, total);
	}
	int failed = 0;
	for (int i = 0; threaded && i < count; i++) {
		void *r;
		pthread_join(conns[i].t, &r);
		failed |= r != NULL;
	}
	if (failed)
		return 1;
	if (threaded)
		printf("served %d connections at once\n", count);
	/* The guest's interface counters, when the image has /proc. */
	FILE *f = fopen("/proc/net/netdev_queues", "r");
	if (f) {
		char line[256];
		while (fgets(line, sizeof(line), f))
			printf("%s", line);
		fclose(f);
	}
	return 0;
}
