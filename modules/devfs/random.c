/* Random bytes for /dev/random, /dev/urandom, getrandom and AT_RANDOM. */
#include <devfs/devfs.h>
#include <arch/cpu.h>
#include <arch/spinlock.h>
#include <lib/string.h>

static uint64_t state;
static int have_rdrand = -1, have_rdseed;
static spinlock_t lock = SPINLOCK_INIT;

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t hw(void)
{
	uint64_t x = 0;
	unsigned char ok = 0;
	for (int i = 0; i < 10 && !ok; i++) {
		if (have_rdseed)
			__asm__ __volatile__("rdseed %0; setc %1" : "=r"(x), "=qm"(ok));
		else if (have_rdrand)
			__asm__ __volatile__("rdrand %0; setc %1" : "=r"(x), "=qm"(ok));
		else
			break;
	}
	return ok ? x : 0;
}

void random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;
	uint64_t f = spin_lock_irqsave(&lock);
	if (have_rdrand < 0) {
		uint32_t a, b, c, d;
		cpuid(1, 0, &a, &b, &c, &d);
		have_rdrand = (c >> 30) & 1;
		cpuid(7, 0, &a, &b, &c, &d);
		have_rdseed = (b >> 18) & 1;
		state = rdtsc() ^ hw();
	}
	while (n) {
		state ^= rdtsc();
		uint64_t v = splitmix(&state) ^ hw();
		size_t k = n < 8 ? n : 8;
		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
	spin_unlock_irqrestore(&lock, f);
}
