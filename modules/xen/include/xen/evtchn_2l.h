/* 2-level event channels (the ABI every Xen has): a pending and a mask bit per
 * port in shared_info, and per vCPU a selector with one bit per 64-port word.
 * Pure C (host tests). */
#ifndef XEN_EVTCHN_2L_H
#define XEN_EVTCHN_2L_H

#include <stdbool.h>
#include <xen/abi.h>

typedef void (*xen_evtchn_handler_t)(evtchn_port_t port, void *ctx);

struct xen_evtchn_stats {
	unsigned ports;     /* handlers called */
	unsigned words;     /* pending words read: one per selector bit, never all 64 */
	unsigned rounds;    /* passes (the upcall flag was set again meanwhile) */
};

/* One upcall: clear the vCPU's upcall flag, take its selector, and for each
 * selected word handle the pending and unmasked ports in order (find-first-set
 * on the selector, then on pending & ~mask). A pending bit is cleared before
 * its handler runs, so an event raised during the handler is not lost. Goes
 * around again while the upcall flag was set meanwhile (at most 8 passes). */
void xen_evtchn_2l_dispatch(struct shared_info *s, struct vcpu_info *v, xen_evtchn_handler_t fn, void *ctx,
			    struct xen_evtchn_stats *stats);

void xen_evtchn_2l_mask(struct shared_info *s, evtchn_port_t port);
/* Clears the mask bit. Returns true when the port is pending: then the caller
 * asks Xen (EVTCHNOP_unmask) to deliver it, as the edge was missed. */
bool xen_evtchn_2l_unmask(struct shared_info *s, evtchn_port_t port);
void xen_evtchn_2l_clear(struct shared_info *s, evtchn_port_t port);

#endif
