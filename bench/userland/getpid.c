/* Syscall cost: getpid through the raw `syscall` instruction (no libc caching,
 * no vDSO), timed with CLOCK_MONOTONIC inside the guest. The calls are split
 * into rounds and the fastest round is reported too: on a busy host a round
 * that lost the CPU to another process only inflates that round.
 * Usage: getpid [CALLS [ROUNDS]], default 1000000 calls in 10 rounds. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_ROUNDS 100

static long raw_getpid(void)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(39L) : "rcx", "r11", "memory");
	return r;
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : 1000000;
	long rounds = argc > 2 ? atol(argv[2]) : 10;
	double per[MAX_ROUNDS], total = 0;

	if (rounds < 1 || rounds > MAX_ROUNDS || calls < rounds) {
		fprintf(stderr, "usage: getpid [CALLS [ROUNDS <= %d]]\n", MAX_ROUNDS);
		return 2;
	}
	long pid = raw_getpid(), n = calls / rounds;
	for (long r = 0; r < rounds; r++) {
		double t0 = now_ns();
		for (long i = 0; i < n; i++)
			raw_getpid();
		double t = now_ns() - t0;
		total += t;
		per[r] = t / n;
	}
	qsort(per, rounds, sizeof per[0], cmp);
	printf("getpid-bench: pid=%ld calls=%ld mean_ns=%.1f median_ns=%.1f min_ns=%.1f\n", pid, n * rounds,
	       total / (n * rounds), per[rounds / 2], per[0]);
	return 0;
}
