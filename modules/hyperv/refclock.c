/* Hyper-V's reference TSC page as the monotonic clock (TLFS "Partition
 * Reference TSC Mechanism"): the hypervisor keeps scale and offset such that
 * ((tsc * scale) >> 64) + offset counts 100 ns units; it bumps the sequence
 * when it rewrites them, and sets it to 0 when the page must not be used,
 * in which case the reference counter MSR is read instead. */
#include <hyperv/hyperv.h>
#include <arch/cpu.h>
#include <arch/memlayout.h>
#include <time/clock.h>
#include <time/clocksource.h>

static struct hv_ref_tsc_page tsc_page __aligned(HV_PAGE_SIZE);

static uint64_t refclock_read(void)
{
	uint32_t seq;
	uint64_t t;

	do {
		seq = tsc_page.tsc_sequence;
		if (seq == 0)
			return rdmsr(HV_MSR_TIME_REF_COUNT) * 100;
		__asm__ __volatile__("lfence" ::: "memory");
		t = hv_ref_tsc_time(rdtsc(), tsc_page.tsc_scale, tsc_page.tsc_offset);
		__asm__ __volatile__("lfence" ::: "memory");
	} while (seq != tsc_page.tsc_sequence);
	return t * 100;
}

static bool refclock_probe(void)
{
	if (!hv_init() || !(hv_features() & HV_FEAT_REF_TSC))
		return false;
	wrmsr(HV_MSR_REFERENCE_TSC, virt_to_phys(&tsc_page) | HV_MSR_ENABLE);
	return tsc_page.tsc_sequence != 0 || (hv_features() & HV_FEAT_TIME_REF_COUNT);
}

/* The frequency MSR when the partition may read it, else what the scale implies. */
static uint64_t refclock_tsc_hz(void)
{
	if (hv_features() & HV_FEAT_FREQUENCY_MSRS)
		return rdmsr(HV_MSR_TSC_FREQUENCY);
	return tsc_page.tsc_sequence ? hv_ref_tsc_hz(tsc_page.tsc_scale) : 0;
}

/* After Xen's and KVM's own clocks: both can also offer Hyper-V's interface. */
CLOCK_SOURCE(hyperv_tsc, 6) = {
	"hyperv_tsc", refclock_read, refclock_probe, refclock_tsc_hz,
};
