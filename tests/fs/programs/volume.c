/* Exercises a 9p volume from inside the guest: /data (read-write) and /ro
 * (read-only). Prints what it saw; the test checks the host directories. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	/* More files than a mount once had fids for (each looked-up file keeps one). */
	printf("tree %ld\n", walk("/ro/tree"));
	printf("volume: done\n");
	return 0;
}
