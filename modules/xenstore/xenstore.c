/* xenstore client: requests go into the req ring, responses and watch events
 * come out of the rsp ring (xs_wire.c assembles them, every header checked).
 * A requester pumps the ring itself while it waits; the event channel only
 * wakes it. Watch events are queued for the xenwatch thread. */
#include <xenstore/xenstore.h>
#include <xenstore/xs_wire.h>
#include <xen/ring.h>
#include <xen/xen.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/vmap.h>
#include <sched/mutex.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <shutdown/shutdown.h>
#include <time/clock.h>

#define TIMEOUT_NS (5 * NSEC_PER_SEC)
#define MAX_WATCHES 8
#define EVENTS 4
#define EVENT_MAX 256

static struct xenstore_domain_interface *intf;
static evtchn_port_t port;
static struct mutex req_mutex = MUTEX_INIT(req_mutex);
static spinlock_t rx_lock = SPINLOCK_INIT;
static struct wait_queue wq = WAIT_QUEUE_INIT(wq);
static struct xs_rx rx;
static bool broken;

/* The reply being waited for. */
static uint32_t next_req = 1, want_req;
static bool reply_done;
static uint32_t reply_type;
static char reply[XENSTORE_PAYLOAD_MAX + 1];
static size_t reply_len;
static unsigned dropped;

static struct {
	char token[64];
	xs_watch_fn fn;
	void *arg;
} watches[MAX_WATCHES];
static struct {
	char payload[EVENT_MAX];
	size_t len;
} events[EVENTS];
static unsigned ev_head, ev_tail;

/* Drain the rsp ring. rx_lock held. */
static void pump(void)
{
	uint32_t before = intf->rsp_cons;
	int r;

	while (!broken && (r = xs_rx_pull(&rx, intf)) != 0) {
		if (r < 0) {
			printk(LOG_ERR, "xenstore: bad message or ring indices from the store; giving up\n");
			broken = true;
			break;
		}
		const struct xsd_sockmsg *h = &rx.u.hdr;
		const char *payload = (const char *)rx.u.buf + sizeof(*h);
		if (h->type == XS_WATCH_EVENT) {
			if (h->len <= EVENT_MAX && ev_head - ev_tail < EVENTS) {
				memcpy(events[ev_head % EVENTS].payload, payload, h->len);
				events[ev_head % EVENTS].len = h->len;
				ev_head++;
			} else {
				dropped++;
			}
		} else if (h->req_id == want_req && !reply_done) {
			memcpy(reply, payload, h->len + 1);
			reply_len = h->len;
			reply_type = h->type;
			reply_done = true;
		} else {
			dropped++;
		}
		rx.have = 0;
	}
	if (intf->rsp_cons != before)
		xen_evtchn_notify(port); /* room in the response ring */
}

static bool reply_ready(void)
{
	uint64_t f = spin_lock_irqsave(&rx_lock);
	pump();
	bool done = reply_done || broken;
	spin_unlock_irqrestore(&rx_lock, f);
	return done;
}

static void wake(evtchn_port_t p, void *arg)
{
	(void)p;
	(void)arg;
	wake_up_all(&wq);
}

/* Send one request and wait for its reply (into reply[]). */
static int request(uint32_t type, const char *const *parts, const size_t *lens, unsigned n)
{
	static unsigned char msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];

	if (!intf)
		return -ENODEV;
	mutex_lock(&req_mutex);
	uint32_t id = next_req++;
	long len = xs_encode(msg, sizeof(msg), type, id, 0, parts, lens, n);
	if (len < 0) {
		mutex_unlock(&req_mutex);
		return -E2BIG;
	}
	uint64_t f = spin_lock_irqsave(&rx_lock);
	want_req = id;
	reply_done = false;
	spin_unlock_irqrestore(&rx_lock, f);
	for (long off = 0; off < len;) {
		long k = xen_ring_put(intf->req, XENSTORE_RING_SIZE, &intf->req_prod, &intf->req_cons,
				      msg + off, (size_t)(len - off));
		if (k < 0) {
			broken = true;
			break;
		}
		off += k;
		xen_evtchn_notify(port);
		if (k == 0)
			thread_yield(); /* the store is draining the request ring */
	}
	bool ok = wait_event_timeout(&wq, reply_ready(), TIMEOUT_NS);
	int r = !ok ? -ETIMEDOUT : broken ? -EIO : reply_type == XS_ERROR ? -xs_error_errno(reply, reply_len) : 0;
	mutex_unlock(&req_mutex);
	return r;
}

static size_t plen(const char *s)
{
	return strlen(s) + 1;
}

long xs_read(const char *path, char *buf, size_t cap)
{
	size_t len = plen(path);
	int r = request(XS_READ, &path, &len, 1);
	if (r)
		return r;
	if (reply_len + 1 > cap)
		return -E2BIG;
	memcpy(buf, reply, reply_len);
	buf[reply_len] = 0;
	return (long)reply_len;
}

int xs_write(const char *path, const char *value)
{
	const char *parts[2] = { path, value };
	size_t lens[2] = { plen(path), strlen(value) };
	return request(XS_WRITE, parts, lens, 2);
}

int xs_directory(const char *path, char *buf, size_t cap)
{
	size_t len = plen(path);
	int r = request(XS_DIRECTORY, &path, &len, 1);
	if (r)
		return r;
	if (reply_len > cap)
		return -E2BIG;
	memcpy(buf, reply, reply_len);
	return xs_split(buf, reply_len, NULL, 0);
}

int xs_watch(const char *path, const char *token, xs_watch_fn fn, void *arg)
{
	int slot = -1;
	for (int i = 0; i < MAX_WATCHES && slot < 0; i++)
		if (!watches[i].fn)
			slot = i;
	if (slot < 0 || strlen(token) >= sizeof(watches[0].token))
		return slot < 0 ? -ENOSPC : -EINVAL;
	memcpy(watches[slot].token, token, strlen(token) + 1);
	watches[slot].arg = arg;
	watches[slot].fn = fn;
	const char *parts[2] = { path, token };
	size_t lens[2] = { plen(path), plen(token) };
	int r = request(XS_WATCH, parts, lens, 2);
	if (r)
		watches[slot].fn = NULL;
	return r;
}

int xs_unwatch(const char *path, const char *token)
{
	for (int i = 0; i < MAX_WATCHES; i++)
		if (watches[i].fn && !strcmp(watches[i].token, token))
			watches[i].fn = NULL;
	const char *parts[2] = { path, token };
	size_t lens[2] = { plen(path), plen(token) };
	return request(XS_UNWATCH, parts, lens, 2);
}

static bool event_ready(void)
{
	uint64_t f = spin_lock_irqsave(&rx_lock);
	pump();
	bool any = ev_head != ev_tail;
	spin_unlock_irqrestore(&rx_lock, f);
	return any;
}

/* Runs watch callbacks outside the interrupt and the requester's lock. */
static void xenwatch(void *arg)
{
	char payload[EVENT_MAX];
	(void)arg;

	for (;;) {
		wait_event(&wq, event_ready());
		uint64_t f = spin_lock_irqsave(&rx_lock);
		size_t len = events[ev_tail % EVENTS].len;
		memcpy(payload, events[ev_tail % EVENTS].payload, len);
		ev_tail++;
		spin_unlock_irqrestore(&rx_lock, f);
		const char *pt[2];
		if (xs_split(payload, len, pt, 2) < 2)
			continue;
		for (int i = 0; i < MAX_WATCHES; i++)
			if (watches[i].fn && !strcmp(watches[i].token, pt[1]))
				watches[i].fn(pt[0], pt[1], watches[i].arg);
	}
}

/* `xl shutdown` / `xl destroy --graceful`: the toolstack writes
 * control/shutdown; acknowledge by clearing it, then stop as the ACPI power
 * button would (the application gets SIGTERM where the Linux ABI is built). */
static void control_shutdown(const char *path, const char *token, void *arg)
{
	char what[32];
	(void)path;
	(void)token;
	(void)arg;

	if (xs_read("control/shutdown", what, sizeof(what)) <= 0)
		return;
	if (strcmp(what, "poweroff") && strcmp(what, "halt") && strcmp(what, "reboot"))
		return;
	xs_write("control/shutdown", "");
	printk(LOG_NOTICE, "xenstore: the toolstack asked for %s\n", what);
	shutdown_request();
}

static int xenstore_init(void)
{
	const struct xen_platform_info *x = xen_platform();
	char domid[16];

	if (!x || !x->store_pfn || !x->store_evtchn)
		return 0;
	intf = memremap(x->store_pfn << 12, 4096);
	port = x->store_evtchn;
	if (!intf || xen_evtchn_bind(port, wake, NULL)) {
		printk(LOG_ERR, "xenstore: cannot map pfn %#lx or bind port %u\n", (unsigned long)x->store_pfn, port);
		intf = NULL;
		return 0;
	}
	struct thread *t = thread_create("xenwatch", xenwatch, NULL);
	if (t)
		thread_detach(t);
	long n = xs_read("domid", domid, sizeof(domid));
	if (n < 0)
		printk(LOG_WARN, "xenstore: reading domid failed (%ld)\n", n);
	else
		printk(LOG_INFO, "xenstore: connected, domain %s\n", domid);
	xs_write("control/feature-poweroff", "1");
	if (xs_watch("control/shutdown", "osvb-shutdown", control_shutdown, NULL))
		printk(LOG_WARN, "xenstore: cannot watch control/shutdown\n");
	return 0;
}
INITCALL(INIT_DEVICE, xenstore_init);
