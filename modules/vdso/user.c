/* The vDSO's functions. They run in ring 3 from a copy of these bytes, so:
 * everything inlined into them, no data but the vvar page (found from the
 * code's own address) and the stack, and the system call as fallback. */
#include <vdso/vdso.h>

/* The code sits between two labels in sections the kernel's linker script
 * keeps together and in name order (lib/ktable.h). */
#define VFN __attribute__((section(".ktable.vdso.1"), used, visibility("hidden")))
#define INLINE static inline __attribute__((always_inline))

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define NSEC_PER_SEC 1000000000ull
#define SYS_gettimeofday 96
#define SYS_time 201
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define SYS_getcpu 309

__asm__(".pushsection .ktable.vdso.0,\"ax\",@progbits\n.globl vdso_text_start\n.hidden vdso_text_start\n"
	"vdso_text_start:\n.popsection\n"
	".pushsection .ktable.vdso.9,\"ax\",@progbits\n.globl vdso_text_end\n.hidden vdso_text_end\n"
	"vdso_text_end:\n.popsection");

struct ts {
	int64_t sec, nsec;
};

INLINE const volatile struct vdso_data *vvar(void)
{
	const char *p;
	__asm__("lea vdso_text_start(%%rip), %0" : "=r"(p));
	return (const volatile struct vdso_data *)(p - VDSO_TEXT_OFFSET - 4096);
}

INLINE long sys(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

/* Monotonic and realtime ns, as the kernel's clock computes them; false when
 * the clock is not the TSC. */
INLINE int read_ns(int clock, uint64_t *ns)
{
	const volatile struct vdso_data *d = vvar();
	if (d->mode != VDSO_MODE_TSC)
		return 0;
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	uint64_t tsc = (uint64_t)hi << 32 | lo;
	uint64_t mono = (uint64_t)(((unsigned __int128)(tsc - d->tsc_base) * d->tsc_mult) >> 32);
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		*ns = d->epoch_ns + mono;
		return 1;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		*ns = mono;
		return 1;
	default:
		return 0;
	}
}

VFN int vdso_clock_gettime(int clock, void *ts)
{
	uint64_t ns;
	if (!read_ns(clock, &ns))
		return sys(SYS_clock_gettime, clock, (long)ts, 0);
	struct ts *t = ts;
	t->sec = ns / NSEC_PER_SEC;
	t->nsec = ns % NSEC_PER_SEC;
	return 0;
}

VFN int vdso_clock_getres(int clock, void *ts)
{
	uint64_t ns;
	if (!read_ns(clock, &ns))
		return sys(SYS_clock_getres, clock, (long)ts, 0);
	if (ts) {
		struct ts *t = ts;
		t->sec = 0;
		t->nsec = 1;
	}
	return 0;
}

VFN int vdso_gettimeofday(void *tv, void *tz)
{
	uint64_t ns;
	if (!read_ns(CLOCK_REALTIME, &ns))
		return sys(SYS_gettimeofday, (long)tv, (long)tz, 0);
	if (tv) {
		int64_t *v = tv;
		v[0] = ns / NSEC_PER_SEC;
		v[1] = ns % NSEC_PER_SEC / 1000;
	}
	if (tz) {
		int32_t *z = tz;
		z[0] = 0;
		z[1] = 0;
	}
	return 0;
}

VFN long vdso_time(long *t)
{
	uint64_t ns;
	if (!read_ns(CLOCK_REALTIME, &ns))
		return sys(SYS_time, (long)t, 0, 0);
	long s = ns / NSEC_PER_SEC;
	if (t)
		*t = s;
	return s;
}

VFN long vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	if (!vvar()->rdtscp)
		return sys(SYS_getcpu, (long)cpu, (long)node, (long)cache);
	uint32_t lo, hi, aux;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	if (cpu)
		*cpu = aux & 0xfff;
	if (node)
		*node = 0;
	return 0;
}
