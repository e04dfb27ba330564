/* The vDSO as glibc uses it: AT_SYSINFO_EHDR names an ELF object the dynamic
 * loader lists (linux-vdso.so.1), clock_gettime/gettimeofday/time/getcpu go
 * through it (run under osvb.strace=1, the test counts the system calls
 * that remain), and its clocks agree with the system call's and never go
 * backwards. */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOOPS 2000

static int failures;
#define CHECK(name, cond, ...)                                                   \
	do {                                                                     \
		if (cond)                                                        \
			printf("ok %s\n", name);                                 \
		else {                                                           \
			failures++;                                              \
			printf("FAIL %s: ", name);                               \
			printf(__VA_ARGS__);                                     \
			printf("\n");                                            \
		}                                                                \
	} while (0)

static int64_t ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int found_vdso;
static int phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size, (void)data;
	if (info->dlpi_name && strstr(info->dlpi_name, "linux-vdso.so.1"))
		found_vdso = 1;
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	unsigned long eh = getauxval(AT_SYSINFO_EHDR);
	CHECK("auxv_sysinfo_ehdr", eh && !memcmp((void *)eh, ELFMAG, SELFMAG), "eh=%#lx", eh);
	dl_iterate_phdr(phdr_cb, NULL);
	CHECK("loader_lists_vdso", found_vdso, "no linux-vdso.so.1 in dl_iterate_phdr");

	static const clockid_t clocks[] = { CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME };
	static const char *const names[] = { "monotonic", "realtime", "boottime" };
	for (int c = 0; c < 3; c++) {
		struct timespec a, s, b;
		int backwards = 0, disagree = 0;
		int64_t prev = 0;
		for (int i = 0; i < LOOPS; i++) {
			clock_gettime(clocks[c], &a);
			if (ns(&a) < prev)
				backwards++;
			prev = ns(&a);
			if (i % 500 == 0) {
				syscall(SYS_clock_gettime, clocks[c], &s);
				clock_gettime(clocks[c], &b);
				if (ns(&s) < ns(&a) || ns(&b) < ns(&s))
					disagree++;
				prev = ns(&b);
			}
		}
		char name[64];
		snprintf(name, sizeof(name), "vdso_%s_monotonic_and_agrees", names[c]);
		CHECK(name, !backwards && !disagree, "backwards=%d disagree=%d", backwards, disagree);
	}
	struct timeval tv;
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	int n = 0;
	for (int i = 0; i < LOOPS; i++)
		n += gettimeofday(&tv, NULL) == 0;
	CHECK("vdso_gettimeofday", n == LOOPS && tv.tv_sec >= rt.tv_sec && tv.tv_sec - rt.tv_sec < 5, "n=%d", n);
	time_t t0 = 0;
	for (int i = 0; i < LOOPS; i++)
		t0 = time(NULL);
	CHECK("vdso_time", t0 >= rt.tv_sec && t0 - rt.tv_sec < 5, "t=%ld", (long)t0);
	int cpu = -1;
	for (int i = 0; i < LOOPS; i++)
		cpu = sched_getcpu();
	CHECK("vdso_getcpu", cpu >= 0 && cpu < 64, "cpu=%d", cpu);
	struct timespec cpu0;
	CHECK("cputime_by_syscall", clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0) == 0, "cputime");
	printf("vdso done failures=%d\n", failures);
	return failures != 0;
}
