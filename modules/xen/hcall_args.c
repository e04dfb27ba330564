/* Hypercall argument encoding: see <xen/hcall_args.h>. */
#include <xen/hcall_args.h>

uint64_t xen_callback_via_vector(uint8_t vector)
{
	return (HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | vector;
}

void xen_hvm_param_encode(struct xen_hvm_param *p, uint32_t index, uint64_t value)
{
	*p = (struct xen_hvm_param){ .domid = DOMID_SELF, .index = index, .value = value };
}

void xen_add_to_physmap_encode(struct xen_add_to_physmap *a, uint32_t space, uint64_t idx, uint64_t gpfn)
{
	*a = (struct xen_add_to_physmap){ .domid = DOMID_SELF, .size = 0, .space = space, .idx = idx, .gpfn = gpfn };
}

void xen_setup_table_encode(struct gnttab_setup_table *t, uint32_t nr_frames, xen_pfn_t *frames)
{
	*t = (struct gnttab_setup_table){ .dom = DOMID_SELF, .nr_frames = nr_frames, .status = 0,
					  .frame_list = (uint64_t)(uintptr_t)frames };
}

void xen_multicall_encode(struct multicall_entry *e, unsigned op, unsigned nargs, const uint64_t *args)
{
	e->op = op;
	e->result = 0;
	for (unsigned i = 0; i < 6; i++)
		e->args[i] = i < nargs ? args[i] : 0;
}

int xen_multicall_failed(const struct multicall_entry *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if ((int64_t)e[i].result < 0)
			return (int)i;
	return -1;
}
