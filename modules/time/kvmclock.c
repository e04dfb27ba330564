/* kvmclock (pvclock): the hypervisor publishes a (tsc_timestamp, system_time,
 * mul, shift) record; ns = system_time + scaled(rdtsc - tsc_timestamp). */
#include "time_internal.h"
#include <arch/cpu.h>
#include <arch/memlayout.h>
#include <lib/ktable.h>
#include <time/clock.h>

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

struct pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed, aligned(32)));

static volatile struct pvclock pvclock;

static uint64_t kvmclock_read(void)
{
	uint32_t v;
	uint64_t ns;

	do {
		v = pvclock.version;
		__asm__ __volatile__("lfence" ::: "memory");
		uint64_t delta = rdtsc() - pvclock.tsc_timestamp;
		if (pvclock.tsc_shift >= 0)
			delta <<= pvclock.tsc_shift;
		else
			delta >>= -pvclock.tsc_shift;
		ns = pvclock.system_time + (uint64_t)(((unsigned __int128)delta * pvclock.tsc_to_system_mul) >> 32);
		__asm__ __volatile__("lfence" ::: "memory");
	} while ((v & 1) || v != pvclock.version);
	return ns;
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
	const uint64_t num = NSEC_PER_SEC << 32; /* < 2^62 */
	uint64_t mul = pvclock.tsc_to_system_mul;
	int shift = pvclock.tsc_shift;

	if (mul == 0 || shift > 31 || shift < -31)
		return 0;
	if (shift >= 0)
		return num / (mul << shift);
	return (num / mul) << -shift;
}

CLOCK_SOURCE(kvmclock, 5) = {
	"kvmclock", kvmclock_read, kvmclock_probe, kvmclock_tsc_hz,
};
