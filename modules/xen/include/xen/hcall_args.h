/* Hypercall argument encoding: the structures and multicall batches the
 * kernel hands to Xen. Pure C (host tests); <xen/hypercall.h> issues them. */
#ifndef XEN_HCALL_ARGS_H
#define XEN_HCALL_ARGS_H

#include <xen/abi.h>

/* HVM_PARAM_CALLBACK_IRQ value: deliver event-channel upcalls as IDT vector v. */
uint64_t xen_callback_via_vector(uint8_t vector);

void xen_hvm_param_encode(struct xen_hvm_param *p, uint32_t index, uint64_t value);
void xen_add_to_physmap_encode(struct xen_add_to_physmap *a, uint32_t space, uint64_t idx, uint64_t gpfn);
void xen_setup_table_encode(struct gnttab_setup_table *t, uint32_t nr_frames, xen_pfn_t *frames);

/* One entry of a multicall batch: hypercall op with up to 6 arguments. */
void xen_multicall_encode(struct multicall_entry *e, unsigned op, unsigned nargs, const uint64_t *args);
/* After __HYPERVISOR_multicall: the index of the first entry whose result is
 * an error (negative), or -1 when all succeeded. */
int xen_multicall_failed(const struct multicall_entry *e, unsigned n);

#endif
