/* Xen's PV console (io/console.h): a page with an input ring (1 KiB, the
 * backend writes) and an output ring (2 KiB, we write), and an event channel.
 * It becomes the console when there is no UART: the kernel log, the program's
 * streams and the exit record ("osvb-exit: N", which osvb run reads from the
 * console output under Xen). One notification per write, not per byte. */
#include <xen/xen.h>
#include <xen/ring.h>
#include <arch/cpu.h>
#include <arch/spinlock.h>
#include <console/console.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <mm/vmap.h>
#include <shutdown/shutdown.h>
#include <time/clock.h>

static struct xencons_interface *intf;
static evtchn_port_t port;
static spinlock_t lock = SPINLOCK_INIT;

/* Write all of it, waiting (bounded: 1 s without progress) while the backend
 * drains a full ring; what still does not fit is dropped. */
static void cons_write(const char *s, size_t n)
{
	uint64_t f = spin_lock_irqsave(&lock);
	uint64_t stuck_since = 0;

	while (n) {
		long k = xen_ring_put(intf->out, sizeof(intf->out), &intf->out_prod, &intf->out_cons, s, n);
		if (k < 0)
			break; /* the backend's index is past ours: give up on this page */
		if (k > 0) {
			s += k;
			n -= (size_t)k;
			stuck_since = 0;
			xen_evtchn_notify(port);
			continue;
		}
		if (!stuck_since)
			stuck_since = clock_monotonic_ns();
		else if (clock_monotonic_ns() - stuck_since > NSEC_PER_SEC)
			break;
		cpu_relax();
	}
	spin_unlock_irqrestore(&lock, f);
}

static void sink_write(int stream, const char *buf, size_t n)
{
	(void)stream; /* one ring carries every stream */
	cons_write(buf, n);
}

static void sink_flush(void)
{
	uint64_t t0 = clock_monotonic_ns();
	while (__atomic_load_n(&intf->out_cons, __ATOMIC_ACQUIRE) != intf->out_prod &&
	       clock_monotonic_ns() - t0 < NSEC_PER_SEC)
		cpu_relax();
}

static const struct console_sink sink = { sink_write, sink_flush };

static void record(const char *line, size_t n)
{
	cons_write(line, n);
	sink_flush();
}

static void input(evtchn_port_t p, void *arg)
{
	char buf[64];
	(void)p;
	(void)arg;

	for (;;) {
		size_t room = console_input_room();
		long k = xen_ring_get(intf->in, sizeof(intf->in), &intf->in_cons, &intf->in_prod, buf,
				      room < sizeof(buf) ? room : sizeof(buf));
		if (k <= 0)
			break;
		console_input_push(buf, (size_t)k);
	}
	xen_evtchn_notify(port); /* room in the input ring */
}

static int xencons_init(void)
{
	const struct xen_platform_info *x = xen_platform();

	if (!x || !x->console_pfn || !x->console_evtchn)
		return 0;
	intf = memremap(x->console_pfn << 12, 4096);
	if (!intf) {
		printk(LOG_ERR, "xen console: cannot map pfn %#lx\n", (unsigned long)x->console_pfn);
		return 0;
	}
	port = x->console_evtchn;
	if (xen_evtchn_bind(port, input, NULL)) {
		printk(LOG_ERR, "xen console: cannot bind port %u\n", port);
		return 0;
	}
	console_set_sink(&sink);
	shutdown_set_record_channel(record);
	printk(LOG_INFO, "xen console: ring at pfn %#lx, port %u\n", (unsigned long)x->console_pfn, port);
	return 0;
}
INITCALL(INIT_CORE, xencons_init);
