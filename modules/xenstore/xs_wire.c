/* xenstore messages: see <xenstore/xs_wire.h>. */
#include <xenstore/xs_wire.h>
#include <xen/ring.h>

static size_t cstrlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

long xs_encode(void *buf, size_t cap, uint32_t type, uint32_t req_id, uint32_t tx_id, const char *const *parts,
	       const size_t *lens, unsigned nparts)
{
	size_t len = 0;
	unsigned char *b = buf;

	for (unsigned i = 0; i < nparts; i++) {
		if (lens[i] > XENSTORE_PAYLOAD_MAX)
			return -1;
		len += lens[i];
	}
	if (len > XENSTORE_PAYLOAD_MAX || sizeof(struct xsd_sockmsg) + len > cap)
		return -1;
	struct xsd_sockmsg h = { type, req_id, tx_id, (uint32_t)len };
	for (size_t i = 0; i < sizeof(h); i++)
		b[i] = ((const unsigned char *)&h)[i];
	size_t off = sizeof(h);
	for (unsigned i = 0; i < nparts; i++)
		for (size_t j = 0; j < lens[i]; j++)
			b[off++] = (unsigned char)parts[i][j];
	return (long)off;
}

long xs_encode_read(void *buf, size_t cap, uint32_t req_id, const char *path)
{
	size_t len = cstrlen(path) + 1;
	return xs_encode(buf, cap, XS_READ, req_id, 0, &path, &len, 1);
}

long xs_encode_directory(void *buf, size_t cap, uint32_t req_id, const char *path)
{
	size_t len = cstrlen(path) + 1;
	return xs_encode(buf, cap, XS_DIRECTORY, req_id, 0, &path, &len, 1);
}

long xs_encode_write(void *buf, size_t cap, uint32_t req_id, const char *path, const void *value, size_t vlen)
{
	const char *parts[2] = { path, value };
	size_t lens[2] = { cstrlen(path) + 1, vlen };
	return xs_encode(buf, cap, XS_WRITE, req_id, 0, parts, lens, 2);
}

long xs_encode_watch(void *buf, size_t cap, uint32_t req_id, uint32_t type, const char *path, const char *token)
{
	const char *parts[2] = { path, token };
	size_t lens[2] = { cstrlen(path) + 1, cstrlen(token) + 1 };
	return xs_encode(buf, cap, type, req_id, 0, parts, lens, 2);
}

static const struct {
	int errnum;
	const char *name;
} xs_errors[] = {
	{ 22, "EINVAL" }, { 13, "EACCES" }, { 17, "EEXIST" },    { 21, "EISDIR" }, { 2, "ENOENT" },
	{ 12, "ENOMEM" }, { 28, "ENOSPC" }, { 5, "EIO" },        { 39, "ENOTEMPTY" }, { 38, "ENOSYS" },
	{ 30, "EROFS" },  { 16, "EBUSY" },  { 11, "EAGAIN" },    { 106, "EISCONN" }, { 7, "E2BIG" },
	{ 1, "EPERM" },
};

int xs_error_errno(const char *payload, size_t len)
{
	for (size_t i = 0; i < sizeof(xs_errors) / sizeof(xs_errors[0]); i++) {
		size_t n = cstrlen(xs_errors[i].name);
		if (len == n + 1 && payload[n] == 0) {
			size_t j = 0;
			while (j < n && payload[j] == xs_errors[i].name[j])
				j++;
			if (j == n)
				return xs_errors[i].errnum;
		}
	}
	return 22;
}

int xs_split(const char *payload, size_t len, const char **out, unsigned max)
{
	int count = 0;
	size_t start = 0;

	if (len && payload[len - 1] != 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (payload[i] == 0) {
			if ((unsigned)count < max)
				out[count] = payload + start;
			count++;
			start = i + 1;
		}
	}
	return count;
}

int xs_rx_pull(struct xs_rx *rx, struct xenstore_domain_interface *intf)
{
	const size_t hdr = sizeof(struct xsd_sockmsg);

	for (;;) {
		size_t want = hdr;
		if (rx->have >= hdr) {
			if (rx->u.hdr.len > XENSTORE_PAYLOAD_MAX || rx->u.hdr.type >= XS_TYPE_COUNT)
				return -1;
			want = hdr + rx->u.hdr.len;
			if (rx->have == want) {
				rx->u.buf[want] = 0;
				return 1;
			}
		}
		long n = xen_ring_get(intf->rsp, XENSTORE_RING_SIZE, &intf->rsp_cons, &intf->rsp_prod,
				      rx->u.buf + rx->have, want - rx->have);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		rx->have += (size_t)n;
	}
}
