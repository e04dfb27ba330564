/* A TCP echo server for host-side tests: listens on [::]:PORT (IPv4 too),
 * serves COUNT connections one after another (each: echo everything until
 * the client shuts its side, then close) and exits 0. Prints "listening"
 * once ready, "served N bytes from ADDR" per connection, and at the end the
 * kernel's per-queue NIC counters (/proc/net/netdev_queues) when it has /proc. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 8080, count = argc > 2 ? atoi(argv[2]) : 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	int s = socket(AF_INET6, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any };
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 16)) {
		perror("bind/listen");
		return 1;
	}
	printf("listening on %d\n", port);
	static char buf[65536];
	for (int i = 0; i < count; i++) {
		struct sockaddr_in6 peer;
		socklen_t pl = sizeof(peer);
		int c = accept(s, (struct sockaddr *)&peer, &pl);
		if (c < 0) {
			perror("accept");
			return 1;
		}
		long total = 0;
		ssize_t n;
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(c, buf + off, n - off);
				if (w <= 0) {
					perror("write");
					return 1;
				}
				off += w;
			}
			total += n;
		}
		char name[64];
		inet_ntop(AF_INET6, &peer.sin6_addr, name, sizeof(name));
		printf("served %ld bytes from %s\n", total, name);
		close(c);
	}
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
