/*
 * Raw block device I/O from a guest program, for tests/nvme:
 *
 *   diskio write DEV   patterns at known offsets (a transfer of more than two
 *                      pages, pieces not page or sector aligned, 1 MiB), fsync,
 *                      read back; the host checks the disk file's bytes
 *   diskio sha256 DEV  SHA-256 of the whole device
 *
 * The patterns must match tests/nvme/disk.test.ts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define BLKGETSIZE64 0x80081272

static void die(const char *what)
{
	printf("diskio: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned char pattern(unsigned k, size_t j)
{
	return (unsigned char)(j * 13 + k * 41 + (j >> 12));
}

static void pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
	if (pwrite(fd, buf, n, off) != (ssize_t)n)
		die("pwrite");
}

static void pread_all(int fd, void *buf, size_t n, off_t off)
{
	if (pread(fd, buf, n, off) != (ssize_t)n)
		die("pread");
}

static int do_write(const char *dev)
{
	int fd = open(dev, O_RDWR);
	if (fd < 0)
		die(dev);
	uint64_t size = 0;
	if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		die("BLKGETSIZE64");
	printf("size %llu\n", (unsigned long long)size);

	size_t len1 = 5 * 4096 + 512, big = 1u << 20;
	unsigned char *buf = malloc(big), *back = malloc(big);
	if (!buf || !back)
		die("malloc");
	/* More than two pages: the NVMe driver needs a PRP list. */
	for (size_t j = 0; j < len1; j++)
		buf[j] = pattern(1, j);
	pwrite_all(fd, buf, len1, 1 << 20);
	/* Sector aligned, not page aligned; then neither (read-modify-write). */
	memset(buf, 0xa5, 1024);
	pwrite_all(fd, buf, 1024, 1536);
	memset(buf, 0x5a, 100);
	pwrite_all(fd, buf, 100, 5000);
	/* 1 MiB: more than one command's transfer limit. */
	for (size_t j = 0; j < big; j++)
		buf[j] = pattern(3, j);
	pwrite_all(fd, buf, big, 2 << 20);
	if (fsync(fd) < 0)
		die("fsync");
	pread_all(fd, back, big, 2 << 20);
	if (memcmp(back, buf, big)) {
		printf("diskio: read back differs\n");
		return 1;
	}
	printf("write ok\n");
	return 0;
}

/* SHA-256 (FIPS 180-4). The constants are the fractional parts of square and
 * cube roots of the first primes, computed rather than tabled. */
static uint32_t K[64], H0[8];

static uint32_t frac32(long double x)
{
	return (uint32_t)((x - floorl(x)) * 4294967296.0L);
}

static void sha_consts(void)
{
	unsigned n = 0;
	for (unsigned p = 2; n < 64; p++) {
		unsigned d = 2;
		while (d * d <= p && p % d)
			d++;
		if (d * d <= p)
			continue;
		if (n < 8)
			H0[n] = frac32(sqrtl(p));
		K[n++] = frac32(cbrtl(p));
	}
}

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const unsigned char *b)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 | (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = bb;
		bb = a;
		a = t1 + t2;
	}
	h[0] += a, h[1] += bb, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

static int do_sha256(const char *dev)
{
	int fd = open(dev, O_RDONLY);
	if (fd < 0)
		die(dev);
	sha_consts();
	uint32_t h[8];
	memcpy(h, H0, sizeof(h));
	size_t chunk = 1u << 16;
	unsigned char *buf = malloc(chunk + 128);
	uint64_t total = 0;
	ssize_t n;
	/* The device size is a multiple of 64: whole blocks until the end. */
	while ((n = read(fd, buf, chunk)) > 0) {
		if (n % 64) {
			printf("diskio: short read of %zd\n", n);
			return 1;
		}
		for (ssize_t i = 0; i < n; i += 64)
			sha_block(h, buf + i);
		total += (uint64_t)n;
	}
	if (n < 0)
		die("read");
	/* Padding of a message that ends on a block: 0x80, zeros, the bit length. */
	unsigned char pad[64] = { 0x80 };
	uint64_t bits = total * 8;
	for (int i = 0; i < 8; i++)
		pad[63 - i] = (unsigned char)(bits >> (8 * i));
	sha_block(h, pad);
	printf("sha256 ");
	for (int i = 0; i < 8; i++)
		printf("%08x", h[i]);
	printf(" %llu\n", (unsigned long long)total);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "write"))
		return do_write(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "sha256"))
		return do_sha256(argv[2]);
	printf("usage: diskio write|sha256 DEV\n");
	return 2;
}
