/* CPU-bound work split over one thread per online CPU: each thread runs
 * TOTAL / N rounds of a register-only loop (no shared memory, so the
 * threads scale as far as the CPUs do). Prints the wall time of the parallel
 * part on the guest's CLOCK_MONOTONIC.
 * Usage: spin [TOTAL rounds, default 400000000] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long per_thread;
static volatile unsigned long sink;

static void *work(void *arg)
{
	unsigned long x = (unsigned long)arg + 1;
	for (long i = 0; i < per_thread; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	sink += x;
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	long total = argc > 1 ? atol(argv[1]) : 400000000;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t th[64];
	if (n < 1)
		n = 1;
	if (n > 64)
		n = 64;
	per_thread = total / n;
	double t0 = now_ms();
	for (long i = 0; i < n; i++)
		pthread_create(&th[i], NULL, work, (void *)i);
	for (long i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf("spin threads %ld ms %.0f\n", n, now_ms() - t0);
	/* Linux as /init: its panic at our exit would race the tty's output. */
	fflush(stdout);
	usleep(300000);
	return 0;
}
