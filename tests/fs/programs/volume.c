/* Exercises a 9p volume from inside the guest: /data (read-write) and /ro
 * (read-only). Prints what it saw; the test checks the host directories. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};
#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

struct sha { uint32_t h[8]; uint8_t buf[64]; uint64_t len; };

static void block(struct sha *s, const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | p[4 * i + 1] << 16 | p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static void sha_init(struct sha *s)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
}

static void sha_update(struct sha *s, const uint8_t *p, size_t n)
{
	while (n--) {
		s->buf[s->len++ % 64] = *p++;
		if (s->len % 64 == 0)
			block(s, s->buf);
	}
}

static void sha_hex(struct sha *s, char out[65])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80, zero = 0;
	sha_update(s, &pad, 1);
	while (s->len % 64 != 56)
		sha_update(s, &zero, 1);
	for (int i = 7; i >= 0; i--) {
		uint8_t b = (uint8_t)(bits >> (8 * i));
		sha_update(s, &b, 1);
	}
	for (int i = 0; i < 8; i++)
		sprintf(out + 8 * i, "%08x", s->h[i]);
}

static int hash_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("open %s: %s\n", path, strerror(errno));
		return 1;
	}
	static uint8_t buf[65536];
	struct sha s;
	sha_init(&s);
	ssize_t n;
	uint64_t total = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		sha_update(&s, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	char hex[65];
	sha_hex(&s, hex);
	printf("sha256 %s %s %llu\n", path, hex, (unsigned long long)total);
	return n < 0;
}

/* 1000-byte reads: served from the readahead buffers. */
static int hash_file_small(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 1;
	uint8_t buf[1000];
	struct sha s;
	sha_init(&s);
	ssize_t n;
	uint64_t total = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		sha_update(&s, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	char hex[65];
	sha_hex(&s, hex);
	printf("sha256small %s %s %llu\n", path, hex, (unsigned long long)total);
	return n < 0;
}

/* 1 MiB reads (a read the 9p client splits over several Treads in flight). */
static void *hash_big(void *path)
{
	static char out[2][96];
	static int next;
	char *line = out[__atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % 2];
	int fd = open(path, O_RDONLY);
	uint8_t *buf = malloc(1 << 20);
	if (fd < 0 || !buf)
		return NULL;
	struct sha s;
	sha_init(&s);
	ssize_t n;
	uint64_t total = 0;
	while ((n = read(fd, buf, 1 << 20)) > 0) {
		sha_update(&s, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	free(buf);
	char hex[65];
	sha_hex(&s, hex);
	snprintf(line, 96, "%s %llu", hex, (unsigned long long)total);
	return n < 0 ? NULL : line;
}

static int put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return printf("create %s: %s\n", path, strerror(errno)), 1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return printf("write %s: %s\n", path, strerror(errno)), 1;
	return close(fd);
}

/* Entries under dir (lstat on each), recursively. */
static long walk(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	long n = 0;
	struct dirent *e;
	char path[512];
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

#define CHECK(x) do { if ((x) != 0) { printf("FAILED: %s: %s\n", #x, strerror(errno)); return 1; } } while (0)

int main(void)
{
	CHECK(hash_file("/data/host.bin"));
	CHECK(hash_file("/ro/big.bin"));
	CHECK(put("/data/a.txt", "alpha\n"));
	CHECK(put("/data/b.txt", "bravo bravo\n"));
	CHECK(mkdir("/data/sub", 0755));
	CHECK(rename("/data/a.txt", "/data/sub/renamed.txt"));
	CHECK(truncate("/data/b.txt", 3));
	CHECK(put("/data/gone", "x"));
	CHECK(unlink("/data/gone"));
	CHECK(symlink("sub/renamed.txt", "/data/link"));
	char target[64] = { 0 };
	if (readlink("/data/link", target, sizeof(target) - 1) < 0)
		return printf("readlink: %s\n", strerror(errno)), 1;
	printf("link -> %s\n", target);
	struct stat st;
	CHECK(stat("/data/b.txt", &st));
	printf("b.txt size %lld\n", (long long)st.st_size);
	int fd = open("/data/sub/renamed.txt", O_WRONLY | O_APPEND);
	CHECK(fd < 0);
	CHECK(write(fd, "more\n", 5) != 5);
	CHECK(fsync(fd));
	close(fd);
	DIR *d = opendir("/data");
	if (!d)
		return printf("opendir: %s\n", strerror(errno)), 1;
	struct dirent *e;
	int entries = 0;
	while ((e = readdir(d)))
		entries++;
	closedir(d);
	printf("entries %d\n", entries);
	errno = 0;
	int r = open("/ro/new", O_WRONLY | O_CREAT, 0644);
	printf("ro create: %s\n", r < 0 ? strerror(errno) : "succeeded");
	r = unlink("/ro/big.bin");
	printf("ro unlink: %s\n", r < 0 ? strerror(errno) : "succeeded");
	r = open("/ro/big.bin", O_WRONLY);
	printf("ro write-open: %s\n", r < 0 ? strerror(errno) : "succeeded");
	/* Two readers at once, 1 MiB reads: requests of both in flight. */
	pthread_t t1, t2;
	void *h1, *h2;
	CHECK(pthread_create(&t1, NULL, hash_big, "/ro/big.bin"));
	CHECK(pthread_create(&t2, NULL, hash_big, "/ro/big.bin"));
	pthread_join(t1, &h1);
	pthread_join(t2, &h2);
	printf("parallel %s | %s\n", h1 ? (char *)h1 : "failed", h2 ? (char *)h2 : "failed");

	struct statfs sf, sfro;
	CHECK(statfs("/data", &sf));
	CHECK(statfs("/ro", &sfro));
	printf("statfs type %lx blocks %s ro %d %d\n", (unsigned long)sf.f_type, sf.f_blocks > 0 && sf.f_bsize > 0 ? "yes" : "no",
	       (int)(sf.f_flags & 1), (int)(sfro.f_flags & 1));

	fd = open("/data/b.txt", O_RDWR);
	CHECK(fd < 0);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 2 };
	CHECK(fcntl(fd, F_SETLK, &fl));
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	CHECK(fcntl(fd, F_GETLK, &fl));
	printf("getlk type %d\n", fl.l_type);
	fl = (struct flock){ .l_type = F_UNLCK, .l_whence = SEEK_SET };
	CHECK(fcntl(fd, F_SETLKW, &fl));
	CHECK(flock(fd, LOCK_EX | LOCK_NB));
	CHECK(flock(fd, LOCK_UN));
	printf("flock bad op: %s\n", flock(fd, 77) ? strerror(errno) : "succeeded");
	close(fd);

	/* A private mapping: filled through the file's reads; writes stay in the guest. */
	fd = open("/data/host.bin", O_RDONLY);
	CHECK(fd < 0);
	uint8_t *map = mmap(NULL, 300000, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(map == MAP_FAILED);
	close(fd);
	struct sha ms;
	sha_init(&ms);
	sha_update(&ms, map, 300000);
	char mhex[65];
	sha_hex(&ms, mhex);
	map[0] ^= 0xff;
	map[299999] ^= 0xff;
	printf("mmap %s %d\n", mhex, map[0] != map[1]);
	munmap(map, 300000);

	/* A Unix socket bound in the volume: the node is made on the host (Tmknod). */
	int so = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/data/sock" };
	CHECK(so < 0);
	CHECK(bind(so, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK(lstat("/data/sock", &st));
	printf("sock %s\n", S_ISSOCK(st.st_mode) ? "socket" : "not a socket");
	r = open("/data/sock", O_RDONLY);
	printf("sock open: %s\n", r < 0 ? strerror(errno) : "succeeded");
	close(so);

	/* A directory renamed into another directory. */
	CHECK(mkdir("/data/d1", 0755));
	CHECK(mkdir("/data/d1/inner", 0755));
	CHECK(put("/data/d1/inner/f", "moved\n"));
	CHECK(mkdir("/data/d2", 0755));
	CHECK(rename("/data/d1/inner", "/data/d2/inner"));
	CHECK(hash_file("/data/d2/inner/f"));

	/* Small sequential reads are served read ahead; writes through the
	 * mount are seen by the next read all the same. */
	int w = open("/data/ra.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(w < 0);
	CHECK(write(w, "one", 3) != 3);
	int rd = open("/data/ra.txt", O_RDONLY);
	CHECK(rd < 0);
	char rb[8] = { 0 };
	CHECK(read(rd, rb, 2) != 2);
	CHECK(pwrite(w, "X", 1, 2) != 1);
	CHECK(read(rd, rb + 2, 5) != 1);
	CHECK(pwrite(w, "two", 3, 3) != 3);
	CHECK(read(rd, rb + 3, 5) != 3);
	printf("ra %s\n", rb);
	close(rd);
	close(w);
	CHECK(hash_file_small("/ro/big.bin"));

	/* More files than a mount once had fids for (each looked-up file keeps one). */
	printf("tree %ld\n", walk("/ro/tree"));
	printf("volume: done\n");
	return 0;
}
