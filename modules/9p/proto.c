/* 9P message encoding and bounded decoding (little-endian fields, strings as len[2] bytes). */
#include <9p/9p.h>
#include <console/printk.h>
#include <lib/string.h>
#include <vfs/errno.h>

static bool room(struct p9_msg *m, uint32_t n)
{
	if (m->err || n > m->len || m->off > m->len - n) {
		m->err = true;
		return false;
	}
	return true;
}

static uint64_t get(struct p9_msg *m, unsigned n)
{
	if (!room(m, n))
		return 0;
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)m->buf[m->off + i] << (8 * i);
	m->off += n;
	return v;
}

static void put(struct p9_msg *m, uint64_t v, unsigned n)
{
	if (!room(m, n))
		return;
	for (unsigned i = 0; i < n; i++)
		m->buf[m->off + i] = (uint8_t)(v >> (8 * i));
	m->off += n;
}

uint8_t p9_get8(struct p9_msg *m) { return (uint8_t)get(m, 1); }
uint16_t p9_get16(struct p9_msg *m) { return (uint16_t)get(m, 2); }
uint32_t p9_get32(struct p9_msg *m) { return (uint32_t)get(m, 4); }
uint64_t p9_get64(struct p9_msg *m) { return get(m, 8); }
void p9_put8(struct p9_msg *m, uint8_t v) { put(m, v, 1); }
void p9_put16(struct p9_msg *m, uint16_t v) { put(m, v, 2); }
void p9_put32(struct p9_msg *m, uint32_t v) { put(m, v, 4); }
void p9_put64(struct p9_msg *m, uint64_t v) { put(m, v, 8); }

const char *p9_getstr(struct p9_msg *m, uint16_t *len)
{
	*len = p9_get16(m);
	if (!room(m, *len)) {
		*len = 0;
		return "";
	}
	const char *s = (const char *)m->buf + m->off;
	m->off += *len;
	return s;
}

void p9_putstr(struct p9_msg *m, const char *s, uint32_t len)
{
	if (len > 0xffff) {
		m->err = true;
		return;
	}
	p9_put16(m, (uint16_t)len);
	p9_putdata(m, s, len);
}

void p9_putdata(struct p9_msg *m, const void *data, uint32_t len)
{
	if (!room(m, len))
		return;
	memcpy(m->buf + m->off, data, len);
	m->off += len;
}

void p9_begin(struct p9_msg *m, uint8_t *buf, uint32_t cap, uint8_t type, uint16_t tag)
{
	*m = (struct p9_msg){ .buf = buf, .len = cap, .off = 0, .err = false };
	p9_put32(m, 0);
	p9_put8(m, type);
	p9_put16(m, tag);
}

uint32_t p9_finish(struct p9_msg *m)
{
	if (m->err)
		return 0;
	uint32_t n = m->off;
	m->off = 0;
	p9_put32(m, n);
	m->off = n;
	return n;
}

/* After the header: the error a reply carries (-errno), 0 when it is the
 * answer to ttype, -EIO when it is neither. */
static int reply_kind(struct p9_msg *m, uint8_t type, uint8_t ttype)
{
	if (type == P9_RLERROR) {
		uint32_t e = p9_get32(m);
		if (m->err || e == 0 || e > 4095)
			return -EIO;
		return -(int)e;
	}
	if (type == P9_RERROR) { /* 9P2000.u: ename[s] errno[4] */
		uint16_t n;
		p9_getstr(m, &n);
		uint32_t e = p9_get32(m);
		if (m->err || e == 0 || e > 4095)
			return -EIO;
		return -(int)e;
	}
	if (type != ttype + 1) {
		pr_err("9p: reply type %u to request type %u: dropped\n", type, ttype);
		return -EIO;
	}
	return 0;
}

static int check_header(struct p9_msg *m, uint32_t got, uint32_t msize, uint16_t tag, uint32_t *size, uint8_t *type)
{
	*size = p9_get32(m);
	*type = p9_get8(m);
	uint16_t rtag = p9_get16(m);
	if (m->err || *size < P9_HDR || *size > got || *size > msize) {
		pr_err("9p: reply of %u bytes says it is %u (msize %u): dropped\n", got, *size, msize);
		return -EIO;
	}
	if (rtag != tag) {
		pr_err("9p: reply tag %u for request tag %u: dropped\n", rtag, tag);
		return -EIO;
	}
	return 0;
}

int p9_check_reply(struct p9_msg *m, uint8_t *buf, uint32_t got, uint32_t msize, uint8_t ttype, uint16_t tag)
{
	*m = (struct p9_msg){ .buf = buf, .len = got, .off = 0, .err = false };
	uint32_t size;
	uint8_t type;
	int e = check_header(m, got, msize, tag, &size, &type);
	if (e)
		return e;
	m->len = size;
	return reply_kind(m, type, ttype);
}

int p9_check_reply_split(struct p9_msg *m, uint8_t *hdr, uint32_t hdrlen, uint32_t got, uint32_t msize,
			 uint8_t ttype, uint16_t tag, uint32_t *size)
{
	*m = (struct p9_msg){ .buf = hdr, .len = got < hdrlen ? got : hdrlen, .off = 0, .err = false };
	uint8_t type;
	int e = check_header(m, got, msize, tag, size, &type);
	if (e)
		return e;
	if (*size < m->len)
		m->len = *size;
	return reply_kind(m, type, ttype);
}
