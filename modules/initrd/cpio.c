/* newc cpio parsing (see cpio.h). */
#include "cpio.h"

#define HDR_LEN 110
#define NAME_LIMIT 4096

static int hex8(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static size_t pad4(size_t x)
{
	return (x + 3) & ~(size_t)3;
}

static int same(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

int cpio_next(const uint8_t *buf, size_t len, size_t *off, struct cpio_entry *e, const char **why)
{
	size_t o = *off;
	uint32_t f[13];

	/* Only the TRAILER!!! entry ends an archive: one cut at an entry boundary
	 * (nothing, or only zero padding, left) is refused, not taken as complete. */
	size_t z = o;
	while (z < len && buf[z] == 0)
		z++;
	if (z == len) {
		*why = "the archive ends without its TRAILER!!! entry (cut short?)";
		return -1;
	}
	if (o > len || len - o < HDR_LEN) {
		*why = "truncated header";
		return -1;
	}
	const uint8_t *h = buf + o;
	if (!same((const char *)h, "070701", 6) && !same((const char *)h, "070702", 6)) {
		*why = "bad magic (not a newc cpio archive)";
		return -1;
	}
	for (int i = 0; i < 13; i++) {
		if (hex8(h + 6 + 8 * i, &f[i])) {
			*why = "header field is not hexadecimal";
			return -1;
		}
	}
	uint32_t namesize = f[11];
	if (namesize < 2 || namesize > NAME_LIMIT) {
		*why = "bad name size";
		return -1;
	}
	if (len - o - HDR_LEN < namesize) {
		*why = "name runs past the end of the archive";
		return -1;
	}
	const char *name = (const char *)h + HDR_LEN;
	if (name[namesize - 1] != 0) {
		*why = "name is not NUL-terminated";
		return -1;
	}
	for (uint32_t i = 0; i + 1 < namesize; i++) {
		if (name[i] == 0) {
			*why = "name contains a NUL byte";
			return -1;
		}
	}
	size_t data_off = pad4(o + HDR_LEN + namesize);
	uint32_t size = f[6];
	if (data_off > len || len - data_off < size) {
		*why = "file data runs past the end of the archive";
		return -1;
	}
	e->name = name;
	e->namelen = namesize - 1;
	e->ino = f[0];
	e->mode = f[1];
	e->uid = f[2];
	e->gid = f[3];
	e->nlink = f[4];
	e->mtime = f[5];
	e->rdevmajor = f[9];
	e->rdevminor = f[10];
	e->data = buf + data_off;
	e->size = size;
	e->offset = o;
	if (e->namelen == 10 && same(name, "TRAILER!!!", 10)) {
		*off = len;
		return 0;
	}
	size_t next = pad4(data_off + size);
	*off = next < len ? next : len;
	return 1;
}
