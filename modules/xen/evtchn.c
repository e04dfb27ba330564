/* Event channels, kernel side: the upcall vector's handler runs the 2-level
 * dispatch (evtchn_2l.c: find-first-set over the selector, then over each
 * selected word; no scan of the 4096 ports) and calls the bound handlers. */
#include <xen/xen.h>
#include <xen/evtchn_2l.h>
#include <xen/hypercall.h>
#include <arch/smp.h>
#include <arch/spinlock.h>
#include <lib/errno.h>
#include "xen_internal.h"

#define MAX_BOUND 64 /* handlers; a port maps to one through slot_of[] */

static struct {
	xen_port_handler_t fn;
	void *arg;
} bound[MAX_BOUND];
static uint8_t slot_of[XEN_EVTCHN_2L_NR_PORTS]; /* 0: unbound, else slot + 1 */
static spinlock_t lock = SPINLOCK_INIT;
static uint64_t upcalls;

static void call(evtchn_port_t port, void *ctx)
{
	(void)ctx;
	unsigned s = slot_of[port];
	if (s && bound[s - 1].fn)
		bound[s - 1].fn(port, bound[s - 1].arg);
}

void xen_evtchn_upcall(void)
{
	struct shared_info *s = xen_shared_info();
	unsigned cpu = this_cpu_id();

	upcalls++;
	/* HVM_PARAM_CALLBACK_IRQ delivers to vCPU 0, whose vcpu_info is here. */
	xen_evtchn_2l_dispatch(s, &s->vcpu_info[cpu < XEN_LEGACY_MAX_VCPUS ? cpu : 0], call, NULL, NULL);
}

uint64_t xen_evtchn_upcalls(void)
{
	return upcalls;
}

int xen_evtchn_bind(evtchn_port_t port, xen_port_handler_t fn, void *arg)
{
	if (port == 0 || port >= XEN_EVTCHN_2L_NR_PORTS || !fn)
		return -EINVAL;
	uint64_t f = spin_lock_irqsave(&lock);
	int slot = -1;
	for (int i = 0; i < MAX_BOUND && slot < 0; i++)
		if (!bound[i].fn)
			slot = i;
	if (slot < 0 || slot_of[port]) {
		spin_unlock_irqrestore(&lock, f);
		return slot < 0 ? -ENOSPC : -EBUSY;
	}
	bound[slot].fn = fn;
	bound[slot].arg = arg;
	slot_of[port] = (uint8_t)(slot + 1);
	spin_unlock_irqrestore(&lock, f);
	if (xen_evtchn_2l_unmask(xen_shared_info(), port)) {
		/* Pending while masked: the edge was missed, Xen raises it again. */
		struct evtchn_unmask u = { port };
		HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u);
	}
	return 0;
}

void xen_evtchn_unbind(evtchn_port_t port)
{
	if (port == 0 || port >= XEN_EVTCHN_2L_NR_PORTS)
		return;
	xen_evtchn_2l_mask(xen_shared_info(), port);
	uint64_t f = spin_lock_irqsave(&lock);
	unsigned s = slot_of[port];
	if (s)
		bound[s - 1].fn = NULL;
	slot_of[port] = 0;
	spin_unlock_irqrestore(&lock, f);
}

int xen_evtchn_notify(evtchn_port_t port)
{
	struct evtchn_send s = { port };
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

int xen_evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
	struct evtchn_alloc_unbound a = { DOMID_SELF, remote, 0 };
	long r = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);
	if (r)
		return (int)r;
	*port = a.port;
	return 0;
}
