/* One CPU-bound thread per online CPU: a shared atomic counter, a barrier
 * built on raw futexes (twice: after each half of the work), and getcpu()
 * sampled all along. Prints what the CPU count sources say, each thread's
 * CPUs, the counter and how many distinct CPUs ran the threads.
 * Usage: smp [iterations per thread]. Exits 0 when the count is right. */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_THREADS 64

static atomic_long counter;
static long iterations = 2000000;

/* Sense-reversing barrier: the last thread flips the generation and wakes the rest. */
static atomic_int arrived, generation;
static int nthreads;

static void barrier_wait(void)
{
	int gen = atomic_load(&generation);
	if (atomic_fetch_add(&arrived, 1) + 1 == nthreads) {
		atomic_store(&arrived, 0);
		atomic_fetch_add(&generation, 1);
		syscall(SYS_futex, &generation, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
		return;
	}
	while (atomic_load(&generation) == gen)
		syscall(SYS_futex, &generation, FUTEX_WAIT_PRIVATE, gen, NULL, NULL, 0);
}

struct worker {
	pthread_t th;
	int id;
	unsigned long long cpus; /* bit per CPU seen */
};

static void sample(struct worker *w)
{
	unsigned cpu = 0, node = 0;
	if (syscall(SYS_getcpu, &cpu, &node, NULL) == 0 && cpu < 64)
		w->cpus |= 1ull << cpu;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int half = 0; half < 2; half++) {
		for (long i = 0; i < iterations / 2; i++) {
			atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
			if ((i & 0xffff) == 0)
				sample(w);
		}
		barrier_wait();
	}
	return NULL;
}

static int count_lines(const char *path, const char *prefix)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, prefix, strlen(prefix)))
			n++;
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	static struct worker w[MAX_THREADS];
	cpu_set_t set;
	char online[32] = "";

	if (argc > 1)
		iterations = atol(argv[1]);
	long onln = sysconf(_SC_NPROCESSORS_ONLN), conf = sysconf(_SC_NPROCESSORS_CONF);
	CPU_ZERO(&set);
	int aff = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : -1;
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	if (f) {
		if (fgets(online, sizeof(online), f))
			online[strcspn(online, "\n")] = 0;
		fclose(f);
	}
	printf("nprocs onln=%ld conf=%ld affinity=%d cpuinfo=%d online=%s\n", onln, conf, aff,
	       count_lines("/proc/cpuinfo", "processor"), online);

	nthreads = onln < 1 ? 1 : onln > MAX_THREADS ? MAX_THREADS : (int)onln;
	for (int i = 0; i < nthreads; i++) {
		w[i].id = i;
		if (pthread_create(&w[i].th, NULL, work, &w[i])) {
			printf("pthread_create failed\n");
			return 2;
		}
	}
	unsigned long long all = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(w[i].th, NULL);
		printf("thread %d cpus", i);
		for (int c = 0; c < 64; c++)
			if (w[i].cpus >> c & 1)
				printf(" %d", c);
		printf("\n");
		all |= w[i].cpus;
	}
	long want = (long)nthreads * (iterations / 2) * 2;
	printf("counter %ld expected %ld\n", (long)atomic_load(&counter), want);
	printf("cpus used %d\n", __builtin_popcountll(all));
	return atomic_load(&counter) == want ? 0 : 1;
}
