/* Hyper-V detection, the guest OS identity and the hypercall page (TLFS
 * "Hypercall Interface"): the hypervisor overlays its calling sequence on
 * the guest page named in HV_X64_MSR_HYPERCALL, so that page lives in the
 * kernel's text, where it is executable. */
#include <hyperv/hyperv.h>
#include <arch/cpu.h>
#include <arch/memlayout.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <hypervisor/hypervisor.h>
#include <lib/errno.h>

/* Open source, OS type 0 (not one of the TLFS's listed kernels), osvb 0.1.0. */
#define OSVB_GUEST_OS_ID hv_guest_os_id(0, 0, 0x000100, 0)

__asm__(".pushsection .text.hyperv_hypercall, \"ax\", @progbits\n"
	".balign 4096\n"
	".globl hv_hypercall_page\n"
	"hv_hypercall_page:\n"
	".fill 4096, 1, 0xcc\n" /* int3 until the hypervisor overlays it */
	".popsection\n");
extern char hv_hypercall_page[];

static int state; /* 0 not probed, 1 present, -1 absent */
static uint32_t features;

/* One input page for HvPostMessage (8-byte aligned, within a page). */
static struct hv_post_message_input post_in __aligned(HV_PAGE_SIZE);
static spinlock_t post_lock = SPINLOCK_INIT;

static uint64_t hypercall(uint64_t control, uint64_t in, uint64_t out)
{
	uint64_t status;
	register uint64_t r8 __asm__("r8") = out;
	__asm__ __volatile__("call hv_hypercall_page"
			     : "=a"(status), "+c"(control), "+d"(in), "+r"(r8)
			     :
			     : "cc", "memory", "r9", "r10", "r11");
	return status;
}

bool hv_init(void)
{
	uint32_t max, b, c, d, a;

	if (state)
		return state > 0;
	state = -1;
	/* Another hypervisor may offer Hyper-V's interface at a later base. */
	uint32_t base = hypervisor_cpuid_base("Microsoft Hv", &max);
	if (!base || max < base + (HV_CPUID_FEATURES - HV_CPUID_VENDOR))
		return false;
	cpuid(base + (HV_CPUID_INTERFACE - HV_CPUID_VENDOR), 0, &a, &b, &c, &d);
	if (a != HV_CPUID_INTERFACE_HV1)
		return false;
	cpuid(base + (HV_CPUID_FEATURES - HV_CPUID_VENDOR), 0, &features, &b, &c, &d);
	if (!(features & HV_FEAT_HYPERCALL)) {
		printk(LOG_WARN, "hyperv: no hypercall MSR access (features %#x); not using Hyper-V\n", features);
		return false;
	}
	wrmsr(HV_MSR_GUEST_OS_ID, OSVB_GUEST_OS_ID);
	wrmsr(HV_MSR_HYPERCALL, (virt_to_phys(hv_hypercall_page) & HV_MSR_PAGE_MASK) | HV_MSR_ENABLE);
	if (!(rdmsr(HV_MSR_HYPERCALL) & HV_MSR_ENABLE)) {
		wrmsr(HV_MSR_GUEST_OS_ID, 0);
		printk(LOG_WARN, "hyperv: the hypercall page was not enabled\n");
		return false;
	}
	state = 1;
	printk(LOG_INFO, "hyperv: detected (features %#x)\n", features);
	return true;
}

bool hv_present(void)
{
	return state > 0;
}

uint32_t hv_features(void)
{
	return state > 0 ? features : 0;
}

int hv_post_message(uint32_t conn_id, uint32_t type, const void *payload, size_t len)
{
	if (state <= 0)
		return -ENODEV;
	uint64_t f = spin_lock_irqsave(&post_lock);
	int r = hv_post_message_encode(&post_in, conn_id, type, payload, len);
	if (!r)
		r = hv_status_errno(hypercall(hv_hypercall_input(HVCALL_POST_MESSAGE, false, 0), virt_to_phys(&post_in), 0));
	spin_unlock_irqrestore(&post_lock, f);
	return r;
}

int hv_signal_event(uint32_t conn_id, uint16_t flag)
{
	if (state <= 0)
		return -ENODEV;
	return hv_status_errno(
		hypercall(hv_hypercall_input(HVCALL_SIGNAL_EVENT, true, 0), hv_signal_event_param(conn_id, flag), 0));
}
