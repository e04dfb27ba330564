/* The xenstore client's state machine: see <xenstore/xs_client.h>. */
#include <xenstore/xs_client.h>
#include <xen/ring.h>

#define XS_E2BIG 7
#define XS_EIO 5

static void copy(void *dst, const void *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((char *)dst)[i] = ((const char *)src)[i];
}

void xs_client_init(struct xs_client *c, struct xenstore_domain_interface *intf, void (*notify)(void *ctx),
		    void *ctx)
{
	c->intf = intf;
	c->notify = notify;
	c->ctx = ctx;
	c->rx.have = 0;
	c->broken = false;
	c->out_len = c->out_sent = 0;
	c->next_req = 1;
	c->want_req = 0;
	c->reply_done = true;
	c->ev_head = c->ev_tail = c->dropped = 0;
}

static void push(struct xs_client *c)
{
	if (c->broken || c->out_sent == c->out_len)
		return;
	long k = xen_ring_put(c->intf->req, XENSTORE_RING_SIZE, &c->intf->req_prod, &c->intf->req_cons,
			      c->out + c->out_sent, c->out_len - c->out_sent);
	if (k < 0) {
		c->broken = true;
		return;
	}
	if (k > 0) {
		c->out_sent += (size_t)k;
		c->notify(c->ctx);
	}
}

int xs_client_start(struct xs_client *c, uint32_t type, const char *const *parts, const size_t *lens, unsigned n)
{
	if (c->broken)
		return -XS_EIO;
	uint32_t id = c->next_req++;
	long len = xs_encode(c->out, sizeof(c->out), type, id, 0, parts, lens, n);
	if (len < 0)
		return -XS_E2BIG;
	c->out_len = (size_t)len;
	c->out_sent = 0;
	c->want_req = id;
	c->reply_done = false;
	push(c);
	return 0;
}

/* Drain the rsp ring into the reply or the event queue. */
static void drain(struct xs_client *c)
{
	uint32_t before = c->intf->rsp_cons;
	int r;

	while (!c->broken && (r = xs_rx_pull(&c->rx, c->intf)) != 0) {
		if (r < 0) {
			c->broken = true;
			break;
		}
		const struct xsd_sockmsg *h = &c->rx.u.hdr;
		const char *payload = (const char *)c->rx.u.buf + sizeof(*h);
		if (h->type == XS_WATCH_EVENT) {
			if (h->len <= XS_CLIENT_EVENT_MAX && c->ev_head - c->ev_tail < XS_CLIENT_EVENTS) {
				copy(c->events[c->ev_head % XS_CLIENT_EVENTS].payload, payload, h->len);
				c->events[c->ev_head % XS_CLIENT_EVENTS].len = h->len;
				c->ev_head++;
			} else {
				c->dropped++;
			}
		} else if (!c->reply_done && h->req_id == c->want_req && c->out_sent == c->out_len) {
			copy(c->reply, payload, h->len + 1);
			c->reply_len = h->len;
			c->reply_type = h->type;
			c->reply_done = true;
		} else {
			c->dropped++; /* a reply nobody waits for */
		}
		c->rx.have = 0;
	}
	if (c->intf->rsp_cons != before)
		c->notify(c->ctx); /* room in the response ring */
}

bool xs_client_poll(struct xs_client *c)
{
	push(c);
	drain(c);
	return c->reply_done || c->broken;
}

int xs_client_result(const struct xs_client *c)
{
	if (c->broken)
		return -XS_EIO;
	if (c->reply_type == XS_ERROR)
		return -xs_error_errno(c->reply, c->reply_len);
	return 0;
}

bool xs_client_event(struct xs_client *c, char *buf, size_t cap, const char **path, const char **token)
{
	while (c->ev_tail != c->ev_head) {
		size_t len = c->events[c->ev_tail % XS_CLIENT_EVENTS].len;
		int ok = len <= cap;
		if (ok)
			copy(buf, c->events[c->ev_tail % XS_CLIENT_EVENTS].payload, len);
		c->ev_tail++;
		const char *pt[2];
		if (ok && xs_split(buf, len, pt, 2) == 2) {
			*path = pt[0];
			*token = pt[1];
			return true;
		}
		c->dropped++;
	}
	return false;
}
