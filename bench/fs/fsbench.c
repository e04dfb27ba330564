/* Filesystem bench program, the same binary in both guests:
 *   fsbench FILE DIR  - reads FILE sequentially in 1 MiB reads, then walks
 * DIR recursively with lstat on every entry; prints "read BYTES NS" and
 * "walk ENTRIES NS" measured with CLOCK_MONOTONIC inside the guest. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long walk(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return perror(dir), 0;
	long n = 0;
	struct dirent *e;
	char path[4096];
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(path, &st))
			continue;
		n++;
		if (S_ISDIR(st.st_mode))
			n += walk(path);
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return fprintf(stderr, "usage: fsbench FILE DIR\n"), 2;
	static char buf[1 << 20];
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		return perror(argv[1]), 1;
	long long t0 = now(), total = 0;
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += r;
	long long t1 = now();
	close(fd);
	printf("read %lld %lld\n", total, t1 - t0);
	t0 = now();
	long n = walk(argv[2]);
	t1 = now();
	printf("walk %ld %lld\n", n, t1 - t0);
	return 0;
}
