/* The paravirtual clock record KVM (kvmclock) and Xen (vcpu_time_info) both
 * publish per vCPU: ns = system_time + ((rdtsc - tsc_timestamp) << shift) *
 * mul >> 32, read under a version that is odd while the hypervisor updates
 * it. Pure C (host tests): the TSC value is the caller's. */
#ifndef TIME_PVCLOCK_H
#define TIME_PVCLOCK_H

#include <stdint.h>

struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
};
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock_vcpu_time_info");

/* rdtsc after the loads before it (lfence): the TSC must not be read ahead
 * of the version. */
static inline uint64_t pvclock_rdtsc_ordered(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/* ns for a TSC value, from one consistent snapshot of the record. */
static inline uint64_t pvclock_scale(const struct pvclock_vcpu_time_info *t, uint64_t tsc)
{
	uint64_t delta = tsc - t->tsc_timestamp;
	if (t->tsc_shift >= 0)
		delta <<= t->tsc_shift;
	else
		delta >>= -t->tsc_shift;
	return t->system_time + (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
}

/* Read the live record: retried while the version is odd or changed. */
static inline uint64_t pvclock_read(const volatile struct pvclock_vcpu_time_info *p, uint64_t (*read_tsc)(void))
{
	struct pvclock_vcpu_time_info snap;
	uint32_t v;

	do {
		v = p->version;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		snap.tsc_timestamp = p->tsc_timestamp;
		snap.system_time = p->system_time;
		snap.tsc_to_system_mul = p->tsc_to_system_mul;
		snap.tsc_shift = p->tsc_shift;
		uint64_t tsc = read_tsc();
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(v & 1) && v == p->version)
			return pvclock_scale(&snap, tsc);
	} while (1);
}

/* The TSC rate the record implies: 2^32 * 10^9 / (mul << shift); 0 if none. */
static inline uint64_t pvclock_tsc_hz(uint32_t mul, int8_t shift)
{
	const uint64_t num = 1000000000ull << 32; /* < 2^62 */

	if (mul == 0 || shift > 31 || shift < -31)
		return 0;
	if (shift >= 0)
		return num / ((uint64_t)mul << shift);
	return (num / mul) << -shift;
}

#endif
