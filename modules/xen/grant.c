/* Grant table v1, kernel side: GNTTABOP_setup_table sizes the table, then
 * its frames are placed in our physical map with XENMEM_add_to_physmap
 * (one multicall for all of them); references come from gnttab_entry.c's
 * free list. */
#include <xen/xen.h>
#include <xen/gnttab.h>
#include <xen/hcall_args.h>
#include <xen/hypercall.h>
#include <arch/memlayout.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <mm/page.h>
#include "xen_internal.h"

#define FRAMES 4 /* 2048 references; contiguous pages so the entries are one array */
#define NR_REFS (FRAMES * 4096 / sizeof(struct grant_entry_v1))

static struct grant_entry_v1 *table;
static grant_ref_t next[NR_REFS];
static struct gnttab_freelist freelist;
static spinlock_t lock = SPINLOCK_INIT;

void xen_grant_init(void)
{
	struct gnttab_setup_table st;
	xen_pfn_t frames[FRAMES];
	struct xen_add_to_physmap xatp[FRAMES];
	struct multicall_entry mc[FRAMES];

	xen_setup_table_encode(&st, FRAMES, frames);
	long r = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
	if (r || st.status != GNTST_okay) {
		printk(LOG_ERR, "xen: GNTTABOP_setup_table failed (%ld, status %d)\n", r, st.status);
		return;
	}
	paddr_t pa = page_alloc_phys(page_order_for(FRAMES * 4096), PAGE_ZERO | PAGE_DMA32);
	if (!pa)
		return;
	for (unsigned i = 0; i < FRAMES; i++) {
		xen_add_to_physmap_encode(&xatp[i], XENMAPSPACE_grant_table, i, (pa >> 12) + i);
		uint64_t args[2] = { XENMEM_add_to_physmap, (uint64_t)(uintptr_t)&xatp[i] };
		xen_multicall_encode(&mc[i], __HYPERVISOR_memory_op, 2, args);
	}
	r = HYPERVISOR_multicall(mc, FRAMES);
	if (r || xen_multicall_failed(mc, FRAMES) >= 0) {
		printk(LOG_ERR, "xen: mapping the grant table failed (%ld, entry %d)\n", r,
		       xen_multicall_failed(mc, FRAMES));
		return;
	}
	table = phys_to_virt(pa);
	gnttab_freelist_init(&freelist, next, NR_REFS);
	printk(LOG_INFO, "xen: grant table of %u frames, %u references\n", FRAMES, (unsigned)NR_REFS);
}

int xen_grant_access(domid_t domid, uint64_t pfn, bool readonly)
{
	if (!table)
		return -ENODEV;
	if (pfn > UINT32_MAX)
		return -EINVAL; /* grant_entry_v1 holds a 32-bit frame */
	uint64_t f = spin_lock_irqsave(&lock);
	long ref = gnttab_ref_alloc(&freelist);
	spin_unlock_irqrestore(&lock, f);
	if (ref < 0)
		return -ENOSPC;
	gnttab_entry_grant(&table[ref], domid, (uint32_t)pfn, readonly);
	return (int)ref;
}

int xen_grant_end(grant_ref_t ref)
{
	if (!table || ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= NR_REFS)
		return -EINVAL;
	if (gnttab_entry_end(&table[ref]))
		return -EBUSY;
	uint64_t f = spin_lock_irqsave(&lock);
	int r = gnttab_ref_free(&freelist, ref);
	spin_unlock_irqrestore(&lock, f);
	return r ? -EINVAL : 0;
}
