/* TLB shootdown seen from user space: a thread pinned to CPU 1 keeps using a
 * page (so its CPU caches the translation) while the main thread, pinned to
 * CPU 0, unmaps, protects, moves or discards it. The other thread's next
 * access must see the change at once: a fault, or the new contents. Prints
 * "ok NAME" or "FAIL NAME"; exits with the number of failures. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static __thread sigjmp_buf jb;
static __thread volatile int armed;
static atomic_int phase, ack;
static volatile unsigned char *page;
static int result[8];

static void on_segv(int sig)
{
	(void)sig;
	if (armed)
		siglongjmp(jb, 1);
	_exit(99);
}

/* 1 when the access faulted; *val gets the byte read. */
static int probe(volatile unsigned char *p, int write, unsigned char *val)
{
	armed = 1;
	if (sigsetjmp(jb, 1)) {
		armed = 0;
		return 1;
	}
	if (write)
		*p = 0x55;
	else
		*val = *p;
	armed = 0;
	return 0;
}

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

static void wait_for(atomic_int *v, int want)
{
	while (atomic_load(v) != want)
		;
}

/* Step k: use the page (cache it), tell main, wait for its change, probe again. */
static void step(int k, int write, int want_fault, unsigned char want_val)
{
	unsigned char v = 0;
	wait_for(&phase, 2 * k);
	for (int i = 0; i < 1000; i++)
		v += page[i % 4096];
	atomic_store(&ack, 2 * k);
	wait_for(&phase, 2 * k + 1);
	int f = probe(page, write, &v);
	result[k] = want_fault ? f : (!f && v == want_val);
	atomic_store(&ack, 2 * k + 1);
}

static void *other(void *arg)
{
	(void)arg;
	pin(1);
	step(0, 0, 1, 0);    /* munmap: a read faults */
	step(1, 1, 1, 0);    /* mprotect read-only: a write faults */
	step(2, 0, 1, 0);    /* mremap away: the old address faults */
	step(3, 0, 0, 0);    /* madvise(DONTNEED): reads the fresh zero page */
	return NULL;
}

static volatile unsigned char *fresh(void)
{
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 0xa5, 4096);
	return p;
}

/* main's half of step k: publish the page, wait until the other CPU used it, change it. */
static void change(int k, void (*fn)(void))
{
	page = fresh();
	atomic_store(&phase, 2 * k);
	wait_for(&ack, 2 * k);
	fn();
	atomic_store(&phase, 2 * k + 1);
	wait_for(&ack, 2 * k + 1);
}

static void do_munmap(void) { munmap((void *)page, 4096); }
static void do_mprotect(void) { mprotect((void *)page, 4096, PROT_READ); }
static void do_mremap(void) { mremap((void *)page, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(page + (64 << 20))); }
static void do_madvise(void) { madvise((void *)page, 4096, MADV_DONTNEED); }

int main(void)
{
	static const char *const names[] = { "munmap", "mprotect", "mremap", "madvise_dontneed" };
	struct sigaction sa = { .sa_handler = on_segv };
	pthread_t t;
	int fails = 0;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("FAIL needs 2 CPUs\n");
		return 1;
	}
	sigaction(SIGSEGV, &sa, NULL);
	pin(0);
	atomic_store(&phase, -1);
	atomic_store(&ack, -1);
	pthread_create(&t, NULL, other, NULL);
	change(0, do_munmap);
	change(1, do_mprotect);
	change(2, do_mremap);
	change(3, do_madvise);
	pthread_join(t, NULL);
	for (int k = 0; k < 4; k++) {
		printf("%s %s\n", result[k] ? "ok" : "FAIL", names[k]);
		fails += !result[k];
	}
	return fails;
}
