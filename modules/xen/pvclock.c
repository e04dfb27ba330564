/* Xen's pvclock: each vCPU's vcpu_info in shared_info carries a time record
 * of the same form as kvmclock's (<time/pvclock.h>). Registered as a clock
 * source; its probe does the early platform set-up (time_init runs before the
 * initcalls). */
#include <xen/xen.h>
#include <arch/smp.h>
#include <time/clocksource.h>
#include <time/pvclock.h>

_Static_assert(sizeof(struct vcpu_time_info) == sizeof(struct pvclock_vcpu_time_info), "same record");

static const volatile struct pvclock_vcpu_time_info *record(void)
{
	unsigned cpu = this_cpu_id();
	/* vCPUs past the legacy 32 have no vcpu_info here: vCPU 0's record with
	 * this CPU's TSC (Xen keeps TSCs in step for HVM guests). */
	return (const volatile void *)&xen_shared_info()->vcpu_info[cpu < XEN_LEGACY_MAX_VCPUS ? cpu : 0].time;
}

static uint64_t xen_clock_read(void)
{
	return pvclock_read(record(), pvclock_rdtsc_ordered);
}

static bool xen_clock_probe(void)
{
	return xen_early_init() && record()->tsc_to_system_mul != 0;
}

static uint64_t xen_clock_tsc_hz(void)
{
	const volatile struct pvclock_vcpu_time_info *r = record();
	return pvclock_tsc_hz(r->tsc_to_system_mul, r->tsc_shift);
}

CLOCK_SOURCE(xen, 4) = {
	"xen", xen_clock_read, xen_clock_probe, xen_clock_tsc_hz,
};
