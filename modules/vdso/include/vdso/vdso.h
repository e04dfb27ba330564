/* The vDSO's user-mode code (module vdso) and its data page.
 *
 * The code lives in the kernel image between vdso_text_start and
 * vdso_text_end; the linux module copies it to offset VDSO_TEXT_OFFSET of
 * an ELF shared object it builds around it, and maps that object with the
 * data page (struct vdso_data) just below it. The code finds the data page
 * from its own address, so it runs wherever it is copied. */
#ifndef VDSO_VDSO_H
#define VDSO_VDSO_H

#include <stdint.h>

#define VDSO_TEXT_OFFSET 0x800 /* ELF headers and tables come first */
#define VDSO_MODE_SYSCALL 0    /* the clock is not the TSC: make the system call */
#define VDSO_MODE_TSC 1

struct vdso_data {
	uint32_t mode;
	uint32_t rdtscp;   /* 1: RDTSCP works and TSC_AUX holds the CPU number */
	uint64_t tsc_base; /* monotonic ns = (tsc - tsc_base) * tsc_mult >> 32 */
	uint64_t tsc_mult;
	uint64_t epoch_ns; /* realtime - monotonic */
};

extern const char vdso_text_start[], vdso_text_end[];

struct kernel_timespec;
int vdso_clock_gettime(int clock, void *ts);
int vdso_clock_getres(int clock, void *ts);
int vdso_gettimeofday(void *tv, void *tz);
long vdso_time(long *t);
long vdso_getcpu(unsigned *cpu, unsigned *node, void *cache);

#endif
