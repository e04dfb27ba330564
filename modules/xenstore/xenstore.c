/* xenstore client: xs_client.c is the state machine (requests into the req
 * ring, replies and watch events out of the rsp ring, every header checked);
 * this adds the locking and waiting. A requester polls the rings itself while
 * it waits; the event channel only wakes it. Watch events are queued for the
 * xenwatch thread. */
#include <xenstore/xenstore.h>
#include <xenstore/xs_client.h>
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

static struct xs_client client;
static evtchn_port_t port;
static bool up;
static struct mutex req_mutex = MUTEX_INIT(req_mutex);
static spinlock_t lock = SPINLOCK_INIT; /* the client state: requester and xenwatch both poll */
static struct wait_queue wq = WAIT_QUEUE_INIT(wq);

static struct {
	char token[64];
	xs_watch_fn fn;
	void *arg;
} watches[MAX_WATCHES];

static void notify(void *ctx)
{
	(void)ctx;
	xen_evtchn_notify(port);
}

static void wake(evtchn_port_t p, void *arg)
{
	(void)p;
	(void)arg;
	wake_up_all(&wq);
}

static bool reply_ready(void)
{
	uint64_t f = spin_lock_irqsave(&lock);
	bool done = xs_client_poll(&client);
	spin_unlock_irqrestore(&lock, f);
	return done;
}

/* Send one request and wait for its reply (in client.reply, under req_mutex). */
static int request(uint32_t type, const char *const *parts, const size_t *lens, unsigned n)
{
	if (!up)
		return -ENODEV;
	mutex_lock(&req_mutex);
	uint64_t f = spin_lock_irqsave(&lock);
	int r = xs_client_start(&client, type, parts, lens, n);
	spin_unlock_irqrestore(&lock, f);
	if (!r)
		r = wait_event_timeout(&wq, reply_ready(), TIMEOUT_NS) ? xs_client_result(&client) : -ETIMEDOUT;
	if (client.broken && r == -EIO)
		printk(LOG_ERR, "xenstore: bad message or ring indices from the store\n");
	if (r)
		mutex_unlock(&req_mutex);
	return r; /* 0: the caller reads the reply, then unlocks */
}

static void done(void)
{
	mutex_unlock(&req_mutex);
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
	long n = (long)client.reply_len;
	if (client.reply_len + 1 > cap) {
		n = -E2BIG;
	} else {
		memcpy(buf, client.reply, client.reply_len);
		buf[client.reply_len] = 0;
	}
	done();
	return n;
}

int xs_write(const char *path, const char *value)
{
	const char *parts[2] = { path, value };
	size_t lens[2] = { plen(path), strlen(value) };
	int r = request(XS_WRITE, parts, lens, 2);
	if (!r)
		done();
	return r;
}

int xs_directory(const char *path, char *buf, size_t cap)
{
	size_t len = plen(path);
	int r = request(XS_DIRECTORY, &path, &len, 1);
	if (r)
		return r;
	if (client.reply_len > cap) {
		r = -E2BIG;
	} else {
		memcpy(buf, client.reply, client.reply_len);
		r = xs_split(buf, client.reply_len, NULL, 0);
	}
	done();
	return r;
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
	else
		done();
	return r;
}

int xs_unwatch(const char *path, const char *token)
{
	for (int i = 0; i < MAX_WATCHES; i++)
		if (watches[i].fn && !strcmp(watches[i].token, token))
			watches[i].fn = NULL;
	const char *parts[2] = { path, token };
	size_t lens[2] = { plen(path), plen(token) };
	int r = request(XS_UNWATCH, parts, lens, 2);
	if (!r)
		done();
	return r;
}

static char event_buf[XS_CLIENT_EVENT_MAX];
static const char *event_path, *event_token;

static bool event_ready(void)
{
	uint64_t f = spin_lock_irqsave(&lock);
	xs_client_poll(&client);
	bool any = xs_client_event(&client, event_buf, sizeof(event_buf), &event_path, &event_token);
	spin_unlock_irqrestore(&lock, f);
	return any;
}

/* Runs watch callbacks outside the interrupt and the requester's lock. */
static void xenwatch(void *arg)
{
	(void)arg;
	for (;;) {
		wait_event(&wq, event_ready());
		for (int i = 0; i < MAX_WATCHES; i++)
			if (watches[i].fn && !strcmp(watches[i].token, event_token))
				watches[i].fn(event_path, event_token, watches[i].arg);
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
	struct xenstore_domain_interface *intf = memremap(x->store_pfn << 12, 4096);
	port = x->store_evtchn;
	if (!intf || xen_evtchn_bind(port, wake, NULL)) {
		printk(LOG_ERR, "xenstore: cannot map pfn %#lx or bind port %u\n", (unsigned long)x->store_pfn, port);
		return 0;
	}
	xs_client_init(&client, intf, notify, NULL);
	up = true;
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
