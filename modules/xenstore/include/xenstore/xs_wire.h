/* The xenstore wire protocol (Xen's io/xs_wire.h): a 16-byte header and a
 * payload of at most 4096 bytes, over a pair of 1 KiB byte rings in a shared
 * page. Encoders and bounded decoders; pure C (host tests). */
#ifndef XENSTORE_XS_WIRE_H
#define XENSTORE_XS_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum xsd_sockmsg_type {
	XS_CONTROL = 0,
	XS_DIRECTORY = 1,
	XS_READ = 2,
	XS_GET_PERMS = 3,
	XS_WATCH = 4,
	XS_UNWATCH = 5,
	XS_TRANSACTION_START = 6,
	XS_TRANSACTION_END = 7,
	XS_INTRODUCE = 8,
	XS_RELEASE = 9,
	XS_GET_DOMAIN_PATH = 10,
	XS_WRITE = 11,
	XS_MKDIR = 12,
	XS_RM = 13,
	XS_SET_PERMS = 14,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
	XS_IS_DOMAIN_INTRODUCED = 17,
	XS_RESUME = 18,
	XS_SET_TARGET = 19,
	XS_RESET_WATCHES = 21,
	XS_DIRECTORY_PART = 22,
	XS_TYPE_COUNT,
};

struct xsd_sockmsg {
	uint32_t type;
	uint32_t req_id;
	uint32_t tx_id;
	uint32_t len; /* payload bytes that follow */
};

#define XENSTORE_PAYLOAD_MAX 4096
#define XENSTORE_RING_SIZE 1024
#define XENSTORE_ABS_PATH_MAX 3072

struct xenstore_domain_interface {
	char req[XENSTORE_RING_SIZE];
	char rsp[XENSTORE_RING_SIZE];
	uint32_t req_cons, req_prod;
	uint32_t rsp_cons, rsp_prod;
	uint32_t server_features;
	uint32_t connection;
	uint32_t error;
};
_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, req_cons) == 2048, "req_cons");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, server_features) == 2064, "features");

/* A request: the header, then each part (a path's terminating NUL is part of
 * its length; a written value has none). Returns the total length, or -1 when
 * the payload would pass XENSTORE_PAYLOAD_MAX or cap. */
long xs_encode(void *buf, size_t cap, uint32_t type, uint32_t req_id, uint32_t tx_id, const char *const *parts,
	       const size_t *lens, unsigned nparts);
/* Common requests (path and token are C strings). */
long xs_encode_read(void *buf, size_t cap, uint32_t req_id, const char *path);
long xs_encode_directory(void *buf, size_t cap, uint32_t req_id, const char *path);
long xs_encode_write(void *buf, size_t cap, uint32_t req_id, const char *path, const void *value, size_t vlen);
long xs_encode_watch(void *buf, size_t cap, uint32_t req_id, uint32_t type, const char *path, const char *token);

/* The Linux errno of an XS_ERROR payload ("ENOENT\0" ...); EINVAL (22) for
 * an unknown or malformed one. */
int xs_error_errno(const char *payload, size_t len);

/* Split a payload of NUL-terminated strings (a directory listing, a watch
 * event's path and token). Returns how many (at most max are stored), or -1
 * when the last string lacks its NUL. */
int xs_split(const char *payload, size_t len, const char **out, unsigned max);

/* Receiving side: a message assembled from the response ring as bytes come. */
struct xs_rx {
	size_t have;
	union {
		struct xsd_sockmsg hdr;
		unsigned char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 1]; /* +1: a NUL after it */
	} u;
};
/* Pull what the ring holds into rx. Returns 1 when a whole message is there
 * (payload NUL-terminated at u.buf[16 + len]; reset have to 0 for the next),
 * 0 when more is needed, -1 on a header with a payload over the maximum or an
 * unknown type, or inconsistent ring indices. */
int xs_rx_pull(struct xs_rx *rx, struct xenstore_domain_interface *intf);

#endif
