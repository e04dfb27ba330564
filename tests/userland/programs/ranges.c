/* Address ranges at the system call boundary: every call that names a range
 * gets kernel-half addresses, addresses in the non-canonical hole and ranges
 * that wrap around, and must answer Linux's errno without touching kernel
 * memory. The expected values are Linux's: the test runs this program on the
 * host first (the same source, the same answers) and then on osvb.
 *
 *   ranges            the range checks; prints "ranges: failures=N", exits 0 when N is 0
 *   ranges signal     a 16 MiB console write cut short by SIGALRM
 *   ranges exit       a 16 MiB console write while another thread exits with 3
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#define KDIRECT 0xffff800000000000ul /* direct map of RAM */
#define KSTACK 0xffffc00000000000ul  /* kernel stacks */
#define KTEXT 0xffffffff80000000ul   /* kernel image */
#define HOLE 0x0000800000000000ul    /* first non-canonical address */
#define HOLE2 0x8000000000000000ul
#define PG 4096ul

static const uint64_t kernel_addrs[] = { KDIRECT, KDIRECT + 0x100000, KSTACK, KTEXT, KTEXT + 0x1000, HOLE, HOLE2 };
#define NK (sizeof(kernel_addrs) / sizeof(kernel_addrs[0]))

static int failures;

/* A raw call: the result, or -errno (no libc wrapper second-guesses the arguments). */
static long sc(long nr, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	long r = syscall(nr, a, b, c, d, e, 0);
	return r == -1 ? -errno : r;
}

static void expect(const char *what, uint64_t addr, long got, long want)
{
	if (got == want)
		return;
	failures++;
	printf("FAIL %s at %#lx: got %ld (%s), want %ld (%s)\n", what, (unsigned long)addr, got,
	       got < 0 ? strerror((int)-got) : "ok", want, want < 0 ? strerror((int)-want) : "ok");
}

static void ok(const char *name)
{
	printf("ok %s\n", name);
}

static void memory_calls(void)
{
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 0x5a, 4 * PG);
	uint64_t pu = (uint64_t)p;
	unsigned char vec[8];

	for (unsigned i = 0; i < NK; i++) {
		uint64_t k = kernel_addrs[i];
		expect("madvise DONTNEED", k, sc(SYS_madvise, k, PG, MADV_DONTNEED, 0, 0), -ENOMEM);
		expect("madvise DONTNEED 1 GiB", k, sc(SYS_madvise, k, 1ul << 30, MADV_DONTNEED, 0, 0), -ENOMEM);
		expect("madvise NORMAL", k, sc(SYS_madvise, k, PG, MADV_NORMAL, 0, 0), -ENOMEM);
		expect("mprotect", k, sc(SYS_mprotect, k, PG, PROT_READ | PROT_WRITE, 0, 0), -ENOMEM);
		expect("munmap", k, sc(SYS_munmap, k, PG, 0, 0, 0), -EINVAL);
		expect("mremap old", k, sc(SYS_mremap, k, PG, PG, 0, 0), -EFAULT);
		expect("mremap new", k,
		       sc(SYS_mremap, pu, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, k), -EINVAL);
		expect("msync", k, sc(SYS_msync, k, PG, MS_SYNC, 0, 0), -ENOMEM);
		expect("mlock", k, sc(SYS_mlock, k, PG, 0, 0, 0), -ENOMEM);
		expect("munlock", k, sc(SYS_munlock, k, PG, 0, 0, 0), -ENOMEM);
		expect("mincore", k, sc(SYS_mincore, k, PG, (uint64_t)vec, 0, 0), -ENOMEM);
		expect("mincore vec", k, sc(SYS_mincore, pu, PG, k, 0, 0), -EFAULT);
		expect("mmap FIXED", k,
		       sc(SYS_mmap, k, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1ul),
		       -ENOMEM);
		expect("mmap FIXED_NOREPLACE", k,
		       sc(SYS_mmap, k, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1ul),
		       -ENOMEM);
		long hint = sc(SYS_mmap, k, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1ul);
		expect("mmap hint is a user address", k, hint > 0 && (uint64_t)hint < HOLE, 1);
		if (hint > 0)
			munmap((void *)hint, PG);
		long brk0 = sc(SYS_brk, 0, 0, 0, 0, 0);
		expect("brk", k, sc(SYS_brk, k, 0, 0, 0, 0), brk0);
		expect("read", k, sc(SYS_read, 0, k, 16, 0, 0), -EFAULT);
		expect("getrandom", k, sc(SYS_getrandom, k, 16, 0, 0, 0), -EFAULT);
	}
	ok("kernel_addresses");

	/* Ranges that start at a mapped page and wrap around the top of the address space. */
	uint64_t wrap = -pu; /* pu + wrap == 0 */
	expect("munmap wrap", pu, sc(SYS_munmap, pu, wrap, 0, 0, 0), -EINVAL);
	expect("madvise wrap", pu, sc(SYS_madvise, pu, wrap, MADV_DONTNEED, 0, 0), -EINVAL);
	expect("madvise SIZE_MAX", pu, sc(SYS_madvise, pu, ~0ul, MADV_DONTNEED, 0, 0), -EINVAL);
	expect("mprotect wrap", pu, sc(SYS_mprotect, pu, wrap, PROT_READ, 0, 0), -ENOMEM);
	expect("msync wrap", pu, sc(SYS_msync, pu, wrap, MS_SYNC, 0, 0), -ENOMEM);
	expect("mlock wrap", pu, sc(SYS_mlock, pu, wrap, 0, 0, 0), -EINVAL);
	expect("mincore wrap", pu, sc(SYS_mincore, pu, wrap, (uint64_t)vec, 0, 0), -ENOMEM);
	expect("mmap FIXED wrap", 0xfffffffffffff000ul,
	       sc(SYS_mmap, 0xfffffffffffff000ul, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1ul),
	       -ENOMEM);
	expect("mmap FIXED ends in the hole", HOLE - PG,
	       sc(SYS_mmap, HOLE - PG, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1ul), -ENOMEM);
	expect("mremap new wrap", 0xfffffffffffff000ul,
	       sc(SYS_mremap, pu, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, 0xfffffffffffff000ul), -EINVAL);
	expect("mremap SIZE_MAX", pu, sc(SYS_mremap, pu, PG, ~0ul, MREMAP_MAYMOVE, 0), -EINVAL);
	ok("wrapping_ranges");

	/* Linux's answers for whole-space and huge lengths. */
	expect("munmap(0, SIZE_MAX)", 0, sc(SYS_munmap, 0, ~0ul, 0, 0, 0), -EINVAL);
	expect("munmap(0, 0)", 0, sc(SYS_munmap, pu, 0, 0, 0, 0), -EINVAL);
	expect("mmap SIZE_MAX", 0, sc(SYS_mmap, 0, ~0ul, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1ul), -ENOMEM);
	expect("mmap 0 bytes", 0, sc(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1ul), -EINVAL);
	expect("mprotect 0 bytes at a kernel address", KTEXT, sc(SYS_mprotect, KTEXT, 0, PROT_READ, 0, 0), 0);
	expect("madvise 0 bytes", pu, sc(SYS_madvise, pu, 0, MADV_DONTNEED, 0, 0), 0);
	ok("huge_lengths");

	/* The user range itself still works, and nothing above touched it. */
	int intact = 1;
	for (unsigned i = 0; i < 4 * PG; i++)
		intact &= p[i] == 0x5a;
	expect("pages intact", pu, intact, 1);
	expect("mincore mapped", pu, sc(SYS_mincore, pu, 4 * PG, (uint64_t)vec, 0, 0), 0);
	expect("mlock mapped", pu, sc(SYS_mlock, pu + 1, PG, 0, 0, 0), 0);
	expect("munlock mapped", pu, sc(SYS_munlock, pu, 2 * PG, 0, 0, 0), 0);
	expect("msync mapped", pu, sc(SYS_msync, pu, PG, MS_ASYNC, 0, 0), 0);
	expect("madvise DONTNEED mapped", pu, sc(SYS_madvise, pu, PG, MADV_DONTNEED, 0, 0), 0);
	expect("DONTNEED reads zero", pu, p[0] == 0 && p[PG] == 0x5a, 1);
	expect("munmap", pu, sc(SYS_munmap, pu, 4 * PG, 0, 0, 0), 0);
	expect("madvise unmapped", pu, sc(SYS_madvise, pu, PG, MADV_NORMAL, 0, 0), -ENOMEM);
	expect("msync unmapped", pu, sc(SYS_msync, pu, PG, MS_SYNC, 0, 0), -ENOMEM);
	expect("mincore unmapped", pu, sc(SYS_mincore, pu, PG, (uint64_t)vec, 0, 0), -ENOMEM);
	ok("user_ranges");
}

static void vectors(void)
{
	char got[64];
	int fd = open("/tmp/ranges.out", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		exit(2);
	char *hole = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, PG);

	/* A kernel-half buffer anywhere in the vector: EFAULT before anything is written. */
	struct iovec kv[2] = { { "abc", 3 }, { (void *)KTEXT, 4 } };
	expect("writev kernel buffer", KTEXT, sc(SYS_writev, fd, (uint64_t)kv, 2, 0, 0), -EFAULT);
	struct iovec nv[2] = { { "abc", 3 }, { "d", (size_t)-1 } };
	expect("writev negative length", 0, sc(SYS_writev, fd, (uint64_t)nv, 2, 0, 0), -EINVAL);
	/* An unmapped user buffer, to a file: the bytes before it are written and
	 * counted (Linux does this for files and terminals; a pipe gives EFAULT). */
	struct iovec uv[2] = { { "abc", 3 }, { hole, 4 } };
	expect("writev unmapped buffer", (uint64_t)hole, sc(SYS_writev, fd, (uint64_t)uv, 2, 0, 0), 3);
	expect("file holds only abc", 0, pread(fd, got, sizeof(got), 0), 3);
	char buf[8];
	struct iovec rv[2] = { { buf, 4 }, { (void *)KDIRECT, 4 } };
	expect("readv kernel buffer", KDIRECT, sc(SYS_preadv, fd, (uint64_t)rv, 2, 0, 0), -EFAULT);
	close(fd);
	unlink("/tmp/ranges.out");
	ok("vectors");
}

/* --- long console writes --- */

#define BIG (16ul << 20)
static volatile int alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static char *big_buffer(void)
{
	char *b = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		exit(2);
	memset(b, '.', BIG);
	for (size_t i = 127; i < BIG; i += 128)
		b[i] = '\n';
	return b;
}

static int console_signal(void)
{
	char *b = big_buffer();
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { .it_value = { 0, 200000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	long n = write(1, b, BIG);
	printf("\nconsole write returned %ld of %lu after %d alarm(s)\n", n, BIG, alarms);
	return n > 0 && (unsigned long)n < BIG && alarms == 1 ? 0 : 1;
}

static void *exit_soon(void *arg)
{
	(void)arg;
	usleep(200000);
	syscall(SYS_exit_group, 3);
	return NULL;
}

static int console_exit(void)
{
	char *b = big_buffer();
	pthread_t t;
	pthread_create(&t, NULL, exit_soon, NULL);
	long n = write(1, b, BIG);
	printf("\nconsole write returned %ld: the exit did not stop it\n", n);
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && !strcmp(argv[1], "signal"))
		return console_signal();
	if (argc > 1 && !strcmp(argv[1], "exit"))
		return console_exit();
	memory_calls();
	vectors();
	printf("ranges: failures=%d\n", failures);
	return failures ? 1 : 0;
}
