/* The Xen platform (PVH guest): detection, the hypercall page, shared_info,
 * event channels and grant tables. All of it is the xen platform's code,
 * freed at boot on other hypervisors (modules/README.md, "Runtime disposal"):
 * call it only from initcalls after xen_platform() said yes. */
#ifndef XEN_XEN_H
#define XEN_XEN_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/abi.h>

/* What the toolstack set up for this domain (HVM params), fetched in one
 * multicall together with the event-channel callback. */
struct xen_platform_info {
	uint32_t version;   /* major << 16 | minor */
	struct shared_info *shared;
	uint64_t store_pfn, console_pfn;
	evtchn_port_t store_evtchn, console_evtchn;
	int upcall_vector;
	unsigned hypercalls_at_init; /* hypercalls the set-up took (batched) */
};

/* NULL unless running on Xen; the first call sets the platform up (hypercall
 * page, shared_info, upcall vector, HVM params). */
const struct xen_platform_info *xen_platform(void);

/* Early part, usable from a clock-source probe: CPUID detection, hypercall
 * page and shared_info. False when not on Xen. */
bool xen_early_init(void);
struct shared_info *xen_shared_info(void);

/* Event channels (kernel side of <xen/evtchn_2l.h>). Handlers run in the
 * upcall interrupt, interrupts off. */
typedef void (*xen_port_handler_t)(evtchn_port_t port, void *arg);
int xen_evtchn_bind(evtchn_port_t port, xen_port_handler_t fn, void *arg); /* also unmasks */
void xen_evtchn_unbind(evtchn_port_t port);
int xen_evtchn_notify(evtchn_port_t port);
int xen_evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
uint64_t xen_evtchn_upcalls(void);

/* Grant table v1: let domid map the page at pfn. Returns the reference or a
 * negative errno (-ENOSPC, -ENODEV before the table is set up). */
int xen_grant_access(domid_t domid, uint64_t pfn, bool readonly);
/* Revoke: 0, or -EBUSY while the peer still maps it. */
int xen_grant_end(grant_ref_t ref);

#endif
