/* The initial stack of a new program, as the System V x86-64 ABI and Linux
 * lay it out: argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL, then the
 * strings and AT_RANDOM's bytes near the top. */
#include <elf/elf.h>
#include <uvm/uvm.h>
#include <uaccess/uaccess.h>
#include <arch/cpu.h>
#include <vfs/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>

#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_HWCAP2 26
#define AT_EXECFN 31
#define AT_SYSINFO_EHDR 33
#define AT_MINSIGSTKSZ 51

#define ARGS_MAX (256u << 10) /* bytes of argument and environment strings */

/* 16 bytes for AT_RANDOM: RDRAND when the CPU has it, mixed with the TSC. */
static void random16(uint8_t out[16])
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	bool rdrand = c & (1u << 30);
	for (int i = 0; i < 2; i++) {
		uint64_t v = rdtsc() * 0x9e3779b97f4a7c15ull;
		if (rdrand) {
			uint64_t x;
			unsigned char ok;
			__asm__ __volatile__("rdrand %0; setc %1" : "=r"(x), "=qm"(ok));
			if (ok)
				v ^= x;
		}
		memcpy(out + 8 * i, &v, 8);
	}
}

long elf_build_stack(const struct exec_params *p)
{
	const char *platform = "x86_64";
	size_t strbytes = strlen(p->execfn) + 1 + strlen(platform) + 1 + 16;

	for (int i = 0; i < p->argc; i++)
		strbytes += strlen(p->argv[i]) + 1;
	for (int i = 0; i < p->envc; i++)
		strbytes += strlen(p->envp[i]) + 1;
	if (strbytes > ARGS_MAX)
		return -E2BIG;

	long stack = uvm_map(USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_SIZE,
			     PROT_READ | PROT_WRITE | (p->exe->exec_stack ? PROT_EXEC : 0),
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, NULL, 0, 0, "[stack]");
	if (stack < 0)
		return stack;

	/* Everything is built in a kernel buffer mirroring the top of the stack. */
	size_t nwords = 1 + p->argc + 1 + p->envc + 1 + 2 * 24;
	size_t total = ((strbytes + 15) & ~15ul) + nwords * 8 + 16;
	total = (total + 15) & ~15ul;
	uint8_t *buf = kzalloc(total);
	if (!buf)
		return -ENOMEM;
	uintptr_t top = USER_STACK_TOP - 16; /* a little headroom, like Linux's end marker */
	uintptr_t base = top - total;
	size_t s = total; /* string cursor, grows down from the end of buf */
#define PUTSTR(str)                                      \
	({                                               \
		size_t l_ = strlen(str) + 1;             \
		s -= l_;                                 \
		memcpy(buf + s, (str), l_);              \
		(uint64_t)(base + s);                    \
	})
	uint64_t execfn = PUTSTR(p->execfn);
	uint64_t plat = PUTSTR(platform);
	s -= 16;
	random16(buf + s);
	uint64_t rnd = base + s;

	uint64_t *argv = kmalloc(sizeof(uint64_t) * (p->argc + p->envc + 2));
	if (!argv) {
		kfree(buf);
		return -ENOMEM;
	}
	for (int i = 0; i < p->argc; i++)
		argv[i] = PUTSTR(p->argv[i]);
	for (int i = 0; i < p->envc; i++)
		argv[p->argc + i] = PUTSTR(p->envp[i]);
#undef PUTSTR

	uint64_t aux[48];
	int na = 0;
#define AUX(k, v) (aux[na++] = (k), aux[na++] = (v))
	AUX(AT_PHDR, p->exe->phdr);
	AUX(AT_PHENT, sizeof(struct elf64_phdr));
	AUX(AT_PHNUM, p->exe->phnum);
	AUX(AT_PAGESZ, 4096);
	AUX(AT_BASE, p->interp ? p->interp->base : 0);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, p->exe->entry);
	AUX(AT_UID, 0);
	AUX(AT_EUID, 0);
	AUX(AT_GID, 0);
	AUX(AT_EGID, 0);
	AUX(AT_SECURE, 0);
	AUX(AT_HWCAP, p->hwcap);
	AUX(AT_HWCAP2, p->hwcap2);
	AUX(AT_CLKTCK, 100);
	AUX(AT_PLATFORM, plat);
	AUX(AT_RANDOM, rnd);
	AUX(AT_EXECFN, execfn);
	if (p->minsigstksz)
		AUX(AT_MINSIGSTKSZ, p->minsigstksz);
	if (p->sysinfo_ehdr)
		AUX(AT_SYSINFO_EHDR, p->sysinfo_ehdr);
	AUX(AT_NULL, 0);
#undef AUX

	/* The word area sits just below the strings, 16-byte aligned at argc. */
	size_t words = 1 + p->argc + 1 + p->envc + 1 + na;
	size_t w = (s - words * 8) & ~15ul;
	uint64_t *wp = (uint64_t *)(buf + w);
	*wp++ = p->argc;
	for (int i = 0; i < p->argc; i++)
		*wp++ = argv[i];
	*wp++ = 0;
	for (int i = 0; i < p->envc; i++)
		*wp++ = argv[p->argc + i];
	*wp++ = 0;
	memcpy(wp, aux, na * 8);
	kfree(argv);

	int r = copy_to_user((void *)(base + w), buf + w, total - w);
	kfree(buf);
	if (r)
		return r;
	return base + w;
}
