/* Block device checks run inside the guest. Commands, in order:
 *   info DEV         size (BLKGETSIZE64, fstat, lseek SEEK_END), sector size
 *   write DEV SEED   fill DEV with pattern(SEED) through write, pwrite and an
 *                    unaligned rewrite, then fsync
 *   sha DEV          sha256 of the whole device (read), checked against pread
 *   ro DEV           a write must fail (EPERM), a read must work
 * Exit status 0 when every command succeeded. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* From Linux <linux/fs.h> (musl has no kernel headers). */
#define BLKSSZGET 0x1268
#define BLKGETSIZE64 0x80081272

/* --- SHA-256 (FIPS 180-4) --- */
struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t n;
};

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

static void sha_block(struct sha256 *s, const uint8_t *p)
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
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e, s->h[5] += f, s->h[6] += g,
		s->h[7] += h;
}

static void sha_init(struct sha256 *s)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(s->h, h0, sizeof(h0));
	s->len = 0;
	s->n = 0;
}

static void sha_update(struct sha256 *s, const uint8_t *p, size_t n)
{
	s->len += n;
	while (n) {
		size_t k = 64 - s->n < n ? 64 - s->n : n;
		memcpy(s->buf + s->n, p, k);
		s->n += k, p += k, n -= k;
		if (s->n == 64) {
			sha_block(s, s->buf);
			s->n = 0;
		}
	}
}

static void sha_final(struct sha256 *s, char hex[65])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80, zero = 0, l[8];
	sha_update(s, &pad, 1);
	while (s->n != 56)
		sha_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		l[i] = bits >> (56 - 8 * i);
	sha_update(s, l, 8);
	for (int i = 0; i < 8; i++)
		sprintf(hex + 8 * i, "%08x", s->h[i]);
}

/* --- checks --- */
static int failures;

#define FAIL(...)                                  \
	do {                                       \
		printf("FAIL: " __VA_ARGS__);      \
		printf("\n");                      \
		failures++;                        \
	} while (0)

static uint8_t pattern(uint64_t i, unsigned seed)
{
	return (uint8_t)((i >> 9) * 31 + (i & 511) * 7 + seed);
}

static void fill(uint8_t *b, uint64_t off, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pattern(off + i, seed);
}

static int open_dev(const char *dev, int flags)
{
	int fd = open(dev, flags);
	if (fd < 0)
		FAIL("open %s: %s", dev, strerror(errno));
	return fd;
}

static uint64_t dev_size(int fd)
{
	uint64_t size = 0;
	if (ioctl(fd, BLKGETSIZE64, &size))
		FAIL("BLKGETSIZE64: %s", strerror(errno));
	return size;
}

static void info(const char *dev)
{
	int fd = open_dev(dev, O_RDONLY);
	if (fd < 0)
		return;
	uint64_t size = dev_size(fd);
	int ssz = 0;
	if (ioctl(fd, BLKSSZGET, &ssz))
		FAIL("BLKSSZGET: %s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st))
		FAIL("fstat: %s", strerror(errno));
	off_t end = lseek(fd, 0, SEEK_END);
	printf("%s size=%llu ssz=%d blk=%d st_size=%lld end=%lld\n", dev, (unsigned long long)size, ssz,
	       S_ISBLK(st.st_mode), (long long)st.st_size, (long long)end);
	close(fd);
}

static void write_dev(const char *dev, unsigned seed)
{
	int fd = open_dev(dev, O_RDWR);
	if (fd < 0)
		return;
	uint64_t size = dev_size(fd);
	size_t chunk = 64 << 10;
	uint8_t *b = malloc(chunk);
	/* The first 4 KiB with write() at the file position, the rest with pwrite. */
	fill(b, 0, 4096, seed);
	if (write(fd, b, 4096) != 4096)
		FAIL("write: %s", strerror(errno));
	for (uint64_t off = 4096; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		fill(b, off, n, seed);
		if (pwrite(fd, b, n, off) != (ssize_t)n)
			FAIL("pwrite at %llu: %s", (unsigned long long)off, strerror(errno));
	}
	/* Unaligned: zero a range across sector boundaries, then write it again
	 * with the pattern at an odd offset through lseek + write. */
	memset(b, 0, 3000);
	if (pwrite(fd, b, 3000, 12345) != 3000)
		FAIL("unaligned pwrite: %s", strerror(errno));
	fill(b, 12345, 3000, seed);
	if (lseek(fd, 12345, SEEK_SET) != 12345 || write(fd, b, 3000) != 3000)
		FAIL("unaligned write: %s", strerror(errno));
	/* Writing at the end is ENOSPC, as on Linux. */
	errno = 0;
	if (pwrite(fd, b, 512, size) != -1 || errno != ENOSPC)
		FAIL("pwrite at the end: errno %d, not ENOSPC", errno);
	if (fsync(fd))
		FAIL("fsync: %s", strerror(errno));
	printf("%s wrote %llu\n", dev, (unsigned long long)size);
	free(b);
	close(fd);
}

static void sha_dev(const char *dev)
{
	int fd = open_dev(dev, O_RDONLY);
	if (fd < 0)
		return;
	uint64_t size = dev_size(fd);
	size_t chunk = 60000; /* not a multiple of the sector size: partial blocks too */
	uint8_t *b = malloc(chunk), *c = malloc(chunk);
	struct sha256 s;
	sha_init(&s);
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, b, chunk);
		if (n < 0) {
			FAIL("read: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (pread(fd, c, n, total) != n || memcmp(b, c, n))
			FAIL("pread at %llu differs from read", (unsigned long long)total);
		sha_update(&s, b, n);
		total += n;
	}
	if (total != size)
		FAIL("read %llu bytes of %llu", (unsigned long long)total, (unsigned long long)size);
	char hex[65];
	sha_final(&s, hex);
	printf("%s sha256 %s\n", dev, hex);
	free(b);
	free(c);
	close(fd);
}

static void ro_dev(const char *dev)
{
	int fd = open_dev(dev, O_RDWR);
	if (fd < 0)
		return;
	uint8_t b[512] = { 1 };
	errno = 0;
	ssize_t r = pwrite(fd, b, sizeof(b), 0);
	printf("%s write %zd errno %d (%s)\n", dev, r, errno, strerror(errno));
	if (r != -1 || errno != EPERM)
		FAIL("write to a read-only disk did not fail with EPERM");
	if (pread(fd, b, sizeof(b), 0) != sizeof(b))
		FAIL("read of a read-only disk: %s", strerror(errno));
	close(fd);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "info") && i + 1 < argc) {
			info(argv[++i]);
		} else if (!strcmp(argv[i], "write") && i + 2 < argc) {
			write_dev(argv[i + 1], atoi(argv[i + 2]));
			i += 2;
		} else if (!strcmp(argv[i], "sha") && i + 1 < argc) {
			sha_dev(argv[++i]);
		} else if (!strcmp(argv[i], "ro") && i + 1 < argc) {
			ro_dev(argv[++i]);
		} else {
			printf("usage: blkcheck {info|sha|ro} DEV | write DEV SEED ...\n");
			return 2;
		}
	}
	printf("blkcheck: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
