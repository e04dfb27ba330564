/* Raw block device throughput, timed inside the guest (CLOCK_MONOTONIC):
 *   blkbench [--load MODULE.ko ...] DEV MIB OPS
 * 4 KiB sequential write (then fsync) and read over the first MIB MiB, then
 * OPS random 4 KiB reads and OPS random 4 KiB writes (then fsync) there.
 * O_DIRECT: Linux bypasses its page cache (osvb has none for block devices).
 * On Linux, run as init, it first loads the given modules (finit_module) and
 * mounts devtmpfs to find DEV. Prints one "RESULT name MB/s IOPS" line each. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BS 4096

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void report(const char *name, double secs, uint64_t ops)
{
	printf("RESULT %s %.2f %.0f\n", name, ops * (double)BS / secs / 1e6, ops / secs);
}

static void die(const char *what)
{
	printf("blkbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int i = 1;
	if (i < argc && !strcmp(argv[i], "--load")) {
		for (i++; i < argc && strstr(argv[i], ".ko"); i++) {
			int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
			if (fd < 0 || syscall(SYS_finit_module, fd, "", 0))
				die(argv[i]);
			close(fd);
		}
	}
	if (argc - i != 3) {
		printf("usage: blkbench [--load MODULE.ko ...] DEV MIB OPS\n");
		return 2;
	}
	const char *dev = argv[i];
	uint64_t blocks = strtoull(argv[i + 1], NULL, 0) * (1 << 20) / BS;
	uint64_t ops = strtoull(argv[i + 2], NULL, 0);
	/* Linux as init: no /dev yet, and drivers probe asynchronously. */
	for (int tries = 0; access(dev, F_OK) && tries < 100; tries++) {
		mkdir("/dev", 0755);
		mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
		usleep(50000);
	}
	int fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0)
		die(dev);
	uint8_t *buf = aligned_alloc(BS, BS);
	memset(buf, 0x5a, BS);

	double t = now();
	for (uint64_t b = 0; b < blocks; b++)
		if (pwrite(fd, buf, BS, b * BS) != BS)
			die("sequential write");
	if (fsync(fd))
		die("fsync");
	report("seq-write", now() - t, blocks);

	t = now();
	for (uint64_t b = 0; b < blocks; b++)
		if (pread(fd, buf, BS, b * BS) != BS)
			die("sequential read");
	report("seq-read", now() - t, blocks);

	t = now();
	for (uint64_t k = 0; k < ops; k++)
		if (pread(fd, buf, BS, next() % blocks * BS) != BS)
			die("random read");
	report("rand-read", now() - t, ops);

	t = now();
	for (uint64_t k = 0; k < ops; k++)
		if (pwrite(fd, buf, BS, next() % blocks * BS) != BS)
			die("random write");
	if (fsync(fd))
		die("fsync");
	report("rand-write", now() - t, ops);
	close(fd);
	printf("blkbench: done\n");
	return 0;
}
