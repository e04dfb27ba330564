/* kvmclock: KVM publishes a pvclock record (<time/pvclock.h>, the same as
 * Xen's) where the MSR points. The kvm platform's code (module.yaml
 * `platform: kvm`): freed at boot on other hypervisors. */
#include "time_internal.h"
#include <arch/cpu.h>
#include <arch/memlayout.h>
#include <lib/ktable.h>
#include <time/clock.h>
#include <time/pvclock.h>

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

static volatile struct pvclock_vcpu_time_info pvclock __attribute__((aligned(32)));

static uint64_t kvmclock_read(void)
{
	return pvclock_read(&pvclock, pvclock_rdtsc_ordered);
}

static bool kvmclock_probe(void)
{
	if (!cpu_has(CPU_KVMCLOCK))
		return false;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, virt_to_phys((const void *)&pvclock) | 1);
	return pvclock.version != 0 || pvclock.tsc_to_system_mul != 0;
}

/* The record scales TSC ticks to ns by (delta << shift) * mul >> 32, so the
 * rate it implies is 2^32 * 10^9 / (mul << shift): no PIT measurement on KVM. */
static uint64_t kvmclock_tsc_hz(void)
{
	return pvclock_tsc_hz(pvclock.tsc_to_system_mul, pvclock.tsc_shift);
}

CLOCK_SOURCE(kvmclock, 5) = {
	"kvmclock", kvmclock_read, kvmclock_probe, kvmclock_tsc_hz,
};
