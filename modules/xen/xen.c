/* Xen PVH guest platform: detection (CPUID "XenVMMXenVMM" at 0x40000000 +
 * k * 0x100), the hypercall page (MSR from leaf base+2), shared_info placed
 * with XENMEM_add_to_physmap, then one multicall that sets the event-channel
 * upcall vector (HVM_PARAM_CALLBACK_IRQ, vector type) and reads the xenstore
 * and console pages and ports, and SCHEDOP_shutdown as the poweroff. */
#include <xen/xen.h>
#include <xen/hcall_args.h>
#include <xen/hypercall.h>
#include <arch/cpu.h>
#include <arch/memlayout.h>
#include <console/printk.h>
#include <hypervisor/hypervisor.h>
#include <irq/irq.h>
#include <lib/errno.h>
#include <mm/page.h>
#include <shutdown/shutdown.h>
#include "xen_internal.h"

static bool early_tried, early_ok;
static struct shared_info *shared;
static struct xen_platform_info info;
static bool platform_tried, platform_ok;

struct shared_info *xen_shared_info(void)
{
	return shared;
}

bool xen_early_init(void)
{
	uint32_t max, a, b, c, d;

	if (early_tried)
		return early_ok;
	early_tried = true;
	uint32_t base = hypervisor_cpuid_base("XenVMMXenVMM", &max);
	if (!base || max < base + 2)
		return false;
	cpuid(base + 1, 0, &a, &b, &c, &d);
	info.version = a;
	cpuid(base + 2, 0, &a, &b, &c, &d); /* eax: hypercall pages, ebx: the MSR */
	if (a < 1)
		return false;
	wrmsr(b, virt_to_phys(xen_hypercall_page));
	if ((uint8_t)xen_hypercall_page[0] == 0xcc) {
		printk(LOG_ERR, "xen: the hypercall page was not filled in (MSR %#x)\n", b);
		return false;
	}

	/* shared_info replaces a page of ours in the physical map. */
	paddr_t pa = page_alloc_phys(0, PAGE_ZERO | PAGE_DMA32);
	if (!pa)
		return false;
	struct xen_add_to_physmap xatp;
	xen_add_to_physmap_encode(&xatp, XENMAPSPACE_shared_info, 0, pa >> 12);
	long r = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
	if (r) {
		printk(LOG_ERR, "xen: placing shared_info failed (%ld)\n", r);
		return false;
	}
	shared = phys_to_virt(pa);
	early_ok = true;
	return true;
}

static void upcall(void *arg)
{
	(void)arg;
	xen_evtchn_upcall();
}

/* The callback vector and four HVM params in one hypercall; one by one when
 * this Xen refuses the batch. */
static int fetch_params(void)
{
	enum { CB, STORE_PFN, STORE_EVTCHN, CONS_PFN, CONS_EVTCHN, N };
	static const uint32_t index[N] = { HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_STORE_PFN, HVM_PARAM_STORE_EVTCHN,
					   HVM_PARAM_CONSOLE_PFN, HVM_PARAM_CONSOLE_EVTCHN };
	struct xen_hvm_param p[N];
	struct multicall_entry mc[N];

	for (int i = 0; i < N; i++) {
		xen_hvm_param_encode(&p[i], index[i], i == CB ? xen_callback_via_vector((uint8_t)info.upcall_vector) : 0);
		uint64_t args[2] = { i == CB ? HVMOP_set_param : HVMOP_get_param, (uint64_t)(uintptr_t)&p[i] };
		xen_multicall_encode(&mc[i], __HYPERVISOR_hvm_op, 2, args);
	}
	long r = HYPERVISOR_multicall(mc, N);
	info.hypercalls_at_init++;
	if (r || xen_multicall_failed(mc, N) >= 0) {
		for (int i = 0; i < N; i++) {
			r = HYPERVISOR_hvm_op(i == CB ? HVMOP_set_param : HVMOP_get_param, &p[i]);
			info.hypercalls_at_init++;
			if (r && i == CB)
				return (int)r;
		}
	}
	info.store_pfn = p[STORE_PFN].value;
	info.store_evtchn = (evtchn_port_t)p[STORE_EVTCHN].value;
	info.console_pfn = p[CONS_PFN].value;
	info.console_evtchn = (evtchn_port_t)p[CONS_EVTCHN].value;
	return 0;
}

const struct xen_platform_info *xen_platform(void)
{
	if (platform_tried)
		return platform_ok ? &info : NULL;
	platform_tried = true;
	if (!hypervisor_detected("xen") || !xen_early_init())
		return NULL;
	info.shared = shared;
	info.hypercalls_at_init = 1; /* the shared_info placement */
	info.upcall_vector = irq_alloc_vector(upcall, NULL);
	if (info.upcall_vector < 0 || fetch_params()) {
		printk(LOG_ERR, "xen: no event-channel upcall vector\n");
		return NULL;
	}
	platform_ok = true;
	printk(LOG_INFO, "xen: Xen %u.%u, upcall vector %d, xenstore pfn %#lx port %u, console pfn %#lx port %u\n",
	       info.version >> 16, info.version & 0xffff, info.upcall_vector, (unsigned long)info.store_pfn,
	       info.store_evtchn, (unsigned long)info.console_pfn, info.console_evtchn);
	xen_grant_init();
	return &info;
}

static int xen_init(void)
{
	xen_platform();
	return 0;
}
INITCALL(INIT_CORE, xen_init);

/* After the exit record went to the console: the domain ends here. */
static void xen_poweroff(void)
{
	struct sched_shutdown s = { SHUTDOWN_poweroff };

	if (platform_ok)
		HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
}
POWEROFF_METHOD(2, "xen", xen_poweroff);
