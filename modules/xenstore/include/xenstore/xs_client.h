/* The xenstore client's state machine, without locks or sleeping: one request
 * in flight, its bytes pushed into the req ring as room appears, the rsp ring
 * drained into the reply (matched by req_id) or a small queue of watch
 * events. xenstore.c adds the locking and waiting. Pure C (host tests run it
 * against a simulated store). */
#ifndef XENSTORE_XS_CLIENT_H
#define XENSTORE_XS_CLIENT_H

#include <stdbool.h>
#include <xenstore/xs_wire.h>

#define XS_CLIENT_EVENTS 4
#define XS_CLIENT_EVENT_MAX 256

struct xs_client {
	struct xenstore_domain_interface *intf;
	void (*notify)(void *ctx); /* kick the store (event channel) */
	void *ctx;
	struct xs_rx rx;
	bool broken;
	/* The request being sent and its reply. */
	unsigned char out[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	size_t out_len, out_sent;
	uint32_t next_req, want_req;
	bool reply_done;
	uint32_t reply_type;
	size_t reply_len;
	char reply[XENSTORE_PAYLOAD_MAX + 1]; /* NUL after the payload */
	/* Watch events waiting for their callbacks; the oldest are kept. */
	struct {
		char payload[XS_CLIENT_EVENT_MAX];
		size_t len;
	} events[XS_CLIENT_EVENTS];
	unsigned ev_head, ev_tail, dropped;
};

void xs_client_init(struct xs_client *c, struct xenstore_domain_interface *intf, void (*notify)(void *ctx),
		    void *ctx);
/* Encode a request and push what fits. Returns 0, or -7 (E2BIG) when it is
 * over the payload maximum, -5 (EIO) after the ring broke. */
int xs_client_start(struct xs_client *c, uint32_t type, const char *const *parts, const size_t *lens, unsigned n);
/* Push more of the request and drain the response ring. True once the reply
 * is there (or the ring broke: xs_client_result says). */
bool xs_client_poll(struct xs_client *c);
/* 0, the negative errno of an XS_ERROR reply, or -5 (EIO) for a broken ring. */
int xs_client_result(const struct xs_client *c);
/* Take the oldest queued watch event: path and token point into buf. */
bool xs_client_event(struct xs_client *c, char *buf, size_t cap, const char **path, const char **token);

#endif
