/* The program's own streams, as osvb run must pass them (tests/run/streams.test.ts):
 *   bytes  every byte value 0..255 twice on stdout, a different set on stderr
 *   cat    stdin to stdout until end of file; the byte count on stderr; exit 3
 *   tty    isatty() of fds 0, 1, 2 and the window size
 *   poll   "polling", then poll(stdin) with no timeout; what woke it, FIONREAD, the line
 *   where  the working directory, argv and one environment variable */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void put(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w <= 0)
			exit(100);
		c += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "bytes";
	if (!strcmp(mode, "bytes")) {
		unsigned char b[512];
		for (int i = 0; i < 512; i++)
			b[i] = (unsigned char)i;
		put(1, b, sizeof(b));
		put(2, "err:\r\n\xff\x00\x80", 8);
		return 0;
	}
	if (!strcmp(mode, "cat")) {
		char buf[4096];
		long total = 0;
		ssize_t n;
		while ((n = read(0, buf, sizeof(buf))) > 0) {
			put(1, buf, (size_t)n);
			total += n;
		}
		fprintf(stderr, "read %ld bytes, then %s\n", total, n == 0 ? "EOF" : "error");
		return 3;
	}
	if (!strcmp(mode, "big") || !strcmp(mode, "sink")) {
		/* throughput (bench/streams.sh): N bytes out, or stdin counted */
		static char buf[65536];
		long total = 0, want = argc > 2 ? atol(argv[2]) : 0;
		ssize_t n;
		if (mode[0] == 'b') {
			memset(buf, 'x', sizeof(buf));
			for (; total < want; total += n)
				n = write(1, buf, want - total < (long)sizeof(buf) ? (size_t)(want - total) : sizeof(buf));
		} else {
			while ((n = read(0, buf, sizeof(buf))) > 0)
				total += n;
		}
		fprintf(stderr, "%ld\n", total);
		return 0;
	}
	if (!strcmp(mode, "poll")) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		printf("polling\n");
		fflush(stdout);
		int r = poll(&p, 1, -1);
		int pending = -1;
		ioctl(0, FIONREAD, &pending);
		/* The bytes come through a UART one by one: poll wakes on the first. */
		char buf[64] = "";
		size_t got = 0;
		ssize_t n;
		while (got < sizeof(buf) - 1 && (n = read(0, buf + got, sizeof(buf) - 1 - got)) > 0) {
			got += (size_t)n;
			if (buf[got - 1] == '\n')
				break;
		}
		printf("poll %d revents %#x pending>0 %d line %s", r, p.revents, pending > 0, got ? buf : "\n");
		return 0;
	}
	if (!strcmp(mode, "tty")) {
		struct winsize ws = { 0 };
		int r = ioctl(1, TIOCGWINSZ, &ws);
		printf("isatty %d %d %d winsize %d %dx%d\n", isatty(0), isatty(1), isatty(2), r, ws.ws_row, ws.ws_col);
		return 0;
	}
	char cwd[256];
	printf("cwd=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	printf("MODE=%s\n", getenv("MODE") ? getenv("MODE") : "(unset)");
	return 0;
}
