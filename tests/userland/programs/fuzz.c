/* Calls system calls with random arguments: garbage, NULL, unaligned, kernel
 * and end-of-user-space pointers, huge lengths. The kernel must answer every
 * call (an errno or a result) without crashing; calls that would end, block or
 * corrupt this program itself (exit, signals, sleeps, fd 0-2) are left out.
 * The memory calls (mmap, munmap, mprotect, mremap, madvise, msync, mlock,
 * mincore, brk) run too, with their address always outside this program's
 * own memory: in the kernel half, the non-canonical hole, a wrapping range or
 * an arena of its own. Seeded (argv[2]) and bounded (argv[1] calls).
 * Prints "fuzz: N calls survived" and exits 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

#include <sys/mman.h>

#define SCRATCH 8192
/* Valid memory for the calls to scribble on, with an inaccessible page right
 * after it so "runs off the end" pointers fault instead of corrupting us. */
static char *scratch;

static uint64_t arg(void)
{
	static const uint64_t special[] = {
		0, 1, 8, 4095, 4096, 0xffffffff, 0x7ffffffff000ull, 0x7fffffffeffful, 0x800000000000ull,
		0xffff800000000000ull, 0xffffffff80000000ull, 0xffffffffffffffffull, (uint64_t)-100 /* AT_FDCWD */,
	};
	switch (rnd() % 6) {
	case 0:
		return special[rnd() % (sizeof(special) / sizeof(special[0]))];
	case 1:
		return rnd();
	case 2:
		return rnd() % 64;
	case 3:
		return (uint64_t)(scratch + rnd() % SCRATCH); /* valid memory, random contents */
	case 4:
		return (uint64_t)(scratch + SCRATCH - rnd() % 16); /* runs off the end */
	default:
		return rnd() & 0xffff;
	}
}

#define ARENA_SIZE (1ul << 24)
/* Where the memory calls may map, unmap and protect: reserved at start-up, far
 * from the program, its heap, its stack and the scratch buffer. */
static uint64_t arena;

/* An address for a memory call: never inside this program's own mappings. */
static uint64_t mem_addr(void)
{
	static const uint64_t kernel[] = {
		0xffff800000000000ull, 0xffff800000100000ull, 0xffffc00000000000ull, 0xffffffff80000000ull,
		0xffffffff80001000ull, 0x0000800000000000ull, 0x8000000000000000ull, 0xfffffffffffff000ull,
		0x00007ffffffff000ull,
	};
	if (rnd() % 3 == 0)
		return kernel[rnd() % (sizeof(kernel) / sizeof(kernel[0]))] + (rnd() % 4 == 0 ? rnd() % 4096 : 0);
	return arena + (rnd() % (ARENA_SIZE / 4096)) * 4096 + (rnd() % 8 == 0 ? rnd() % 4096 : 0);
}

static uint64_t mem_len(uint64_t addr)
{
	switch (rnd() % 5) {
	case 0:
		return -addr; /* wraps to exactly 0 */
	case 1:
		return rnd(); /* huge */
	case 2:
		return ~0ull - rnd() % 8192;
	default:
		return rnd() % (ARENA_SIZE / 2);
	}
}

/* Memory calls whose first argument is an address range (and mremap's fifth). */
static int memory_call(long nr)
{
	return nr == 9 || nr == 10 || nr == 11 || nr == 25 || nr == 26 || nr == 27 || nr == 28 || nr == 149 ||
	       nr == 150;
}

static int excluded(long nr)
{
	static const int never[] = {
		3, 7, 13, 15, 22, 23, 33, 34, 35, 36, 37, 38, 56, 57, 58, 59, 60, 61, 62,
		128, 130, 200, 202, 213, 230, 231, 232, 234, 247, 270, 271, 281, 284, 290, 291, 292, 293, 435, 436,
		/* set_tid_address, set_robust_list, arch_prctl: would change this thread's own state */
		218, 273, 158, 334,
		/* rt_sigqueueinfo, rt_tgsigqueueinfo, timer_create/settime: signals; signalfd,
		 * timerfd_create, inotify_init: files whose reads block (like pipes and eventfds) */
		129, 297, 222, 223, 282, 289, 283, 253, 294,
	};
	for (unsigned i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (never[i] == nr)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	if (argc > 2)
		state ^= strtoull(argv[2], NULL, 0) * 0xbf58476d1ce4e5b9ull;
	long done = 0;
	scratch = mmap(NULL, SCRATCH + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED || mprotect(scratch + SCRATCH, 4096, PROT_NONE))
		return 2;
	void *a = mmap((void *)0x200000000000ull, ARENA_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (a == MAP_FAILED)
		return 2;
	arena = (uint64_t)a;
	for (long i = 0; i < n; i++) {
		for (size_t k = 0; k < SCRATCH; k += 8)
			*(uint64_t *)(scratch + k) = rnd();
		long nr = rnd() % 335;
		if (excluded(nr))
			continue;
		uint64_t a[6];
		for (int k = 0; k < 6; k++)
			a[k] = arg();
		if (memory_call(nr)) {
			a[0] = mem_addr();
			a[1] = mem_len(a[0]);
			if (nr == 25) { /* mremap: new length, flags, new address */
				a[2] = mem_len(a[0]);
				a[4] = mem_addr();
			}
			if (nr == 9) /* mmap: also MAP_FIXED, and anonymous or a random fd */
				a[3] = (rnd() & (0x10 | 0x20 | 0x4000 | 0x100000)) | (1 + rnd() % 3);
			if (nr == 27) /* mincore's vector: valid, kernel or random */
				a[2] = rnd() % 2 ? (uint64_t)scratch : arg();
			if (nr == 28) /* madvise: MADV_DONTNEED (frees pages) half the time */
				a[2] = rnd() % 2 ? 4 : arg();
		} else if (nr == 12) {
			a[0] = mem_addr(); /* brk: a kernel address, 0 or in the arena */
		} else if (a[0] <= 2) {
			/* Keep stdin/stdout/stderr: never pass fds 0-2 to calls that could close or redirect them. */
			a[0] += 3;
		}
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		done++;
	}
	printf("fuzz: %ld calls survived\n", done);
	return 0;
}
