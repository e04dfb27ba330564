/* The vDSO: an ELF shared object (linux-vdso.so.1, version LINUX_2.6)
 * built once around the vdso module's code, and a page of clock data below
 * it, mapped read-only into every program at VDSO_ADDR and named in
 * AT_SYSINFO_EHDR. Both are private copies of a kernel buffer: the clock
 * parameters are fixed after boot (no settimeofday), so a copy stays true. */
#include "calls.h"
#include <arch/cpu.h>
#include <arch/smp.h>
#include <elf/elf.h>
#include <init/initcall.h>
#include <lib/panic.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <time/clock.h>
#include <uvm/uvm.h>
#include <vdso/vdso.h>

#define VVAR_ADDR 0x7ffff7fc0000ul /* below the stack, as Linux without ASLR */
#define IMAGE_SIZE 8192            /* two pages of ELF */
#define MSR_TSC_AUX 0xc0000103

struct elf_dyn {
	int64_t tag;
	uint64_t val;
};
struct elf_sym {
	uint32_t name;
	uint8_t info, other;
	uint16_t shndx;
	uint64_t value, size;
};
struct elf_verdef {
	uint16_t version, flags, ndx, cnt;
	uint32_t hash, aux, next;
};
struct elf_verdaux {
	uint32_t name, next;
};

/* Exported names: each function under its __vdso_ name and its plain one (weak). */
static const struct {
	const char *name;
	const void *fn;
} syms[] = {
	{ "__vdso_clock_gettime", vdso_clock_gettime }, { "__vdso_gettimeofday", vdso_gettimeofday },
	{ "__vdso_time", vdso_time },                   { "__vdso_getcpu", vdso_getcpu },
	{ "__vdso_clock_getres", vdso_clock_getres },   { "clock_gettime", vdso_clock_gettime },
	{ "gettimeofday", vdso_gettimeofday },          { "time", vdso_time },
	{ "getcpu", vdso_getcpu },                      { "clock_getres", vdso_clock_getres },
};
#define NSYMS (1 + ARRAY_SIZE(syms))

static uint8_t *blob; /* [vvar page][ELF image] */
static struct file *blob_file;

static uint32_t elf_hash(const char *s)
{
	uint32_t h = 0;
	for (; *s; s++) {
		h = (h << 4) + (uint8_t)*s;
		uint32_t g = h & 0xf0000000;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

/* Lay out the ELF image in img (IMAGE_SIZE bytes, zeroed). */
static void build_image(uint8_t *img)
{
	size_t text = vdso_text_end - vdso_text_start;
	if (VDSO_TEXT_OFFSET + text > IMAGE_SIZE)
		panic("vdso: %lu bytes of code do not fit", (unsigned long)text);
	memcpy(img + VDSO_TEXT_OFFSET, vdso_text_start, text);

	size_t at = 64 + 2 * sizeof(struct elf64_phdr);
#define TAKE(n, align) ({ at = (at + (align) - 1) & ~(size_t)((align) - 1); size_t o_ = at; at += (n); o_; })
	size_t dyn_off = TAKE(10 * sizeof(struct elf_dyn), 8);
	size_t sym_off = TAKE(NSYMS * sizeof(struct elf_sym), 8);
	size_t hash_off = TAKE((2 + 1 + NSYMS) * 4, 4);
	size_t versym_off = TAKE(NSYMS * 2, 2);
	size_t verdef_off = TAKE(2 * (sizeof(struct elf_verdef) + sizeof(struct elf_verdaux)), 4);
	size_t str_off = TAKE(0, 1);
	char *str = (char *)img + str_off;
	size_t strsz = 1; /* "" first */
#define STR(s) ({ size_t o_ = strsz; memcpy(str + strsz, (s), strlen(s) + 1); strsz += strlen(s) + 1; (uint32_t)o_; })
	uint32_t soname = STR("linux-vdso.so.1");
	uint32_t version = STR("LINUX_2.6");

	struct elf_sym *sym = (struct elf_sym *)(img + sym_off);
	uint16_t *versym = (uint16_t *)(img + versym_off);
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		struct elf_sym *s = &sym[i + 1];
		s->name = STR(syms[i].name);
		s->info = (i < 5 ? 1 /* STB_GLOBAL */ : 2 /* STB_WEAK */) << 4 | 2 /* STT_FUNC */;
		s->shndx = 1; /* defined (there are no section headers to name) */
		s->value = VDSO_TEXT_OFFSET + ((const char *)syms[i].fn - vdso_text_start);
		versym[i + 1] = 2; /* LINUX_2.6 */
	}
	if (str_off + strsz > VDSO_TEXT_OFFSET)
		panic("vdso: headers overflow");

	/* One bucket, a chain through every symbol. */
	uint32_t *hash = (uint32_t *)(img + hash_off);
	hash[0] = 1;
	hash[1] = NSYMS;
	hash[2] = NSYMS - 1;
	for (uint32_t i = 1; i < NSYMS; i++)
		hash[3 + i] = i - 1;

	struct elf_verdef *vd = (struct elf_verdef *)(img + verdef_off);
	size_t vsz = sizeof(struct elf_verdef) + sizeof(struct elf_verdaux);
	const uint32_t names[2] = { soname, version };
	for (int i = 0; i < 2; i++) {
		struct elf_verdef *d = (struct elf_verdef *)((uint8_t *)vd + i * vsz);
		*d = (struct elf_verdef){ .version = 1, .flags = i == 0 ? 1 /* VER_FLG_BASE */ : 0, .ndx = i + 1,
					  .cnt = 1, .hash = elf_hash(str + names[i]),
					  .aux = sizeof(struct elf_verdef), .next = i == 0 ? vsz : 0 };
		struct elf_verdaux *a = (struct elf_verdaux *)(d + 1);
		a->name = names[i];
	}

	struct elf_dyn *dyn = (struct elf_dyn *)(img + dyn_off);
	const struct elf_dyn dyns[10] = {
		{ 4, hash_off },   { 5, str_off },          { 6, sym_off },     { 10, strsz },
		{ 11, sizeof(struct elf_sym) }, { 14, soname }, { 0x6ffffff0, versym_off },
		{ 0x6ffffffc, verdef_off }, { 0x6ffffffd, 2 }, { 0, 0 },
	};
	memcpy(dyn, dyns, sizeof(dyns));

	struct elf64_ehdr *eh = (struct elf64_ehdr *)img;
	memcpy(eh->e_ident, "\177ELF\2\1\1", 7);
	eh->e_type = 3; /* ET_DYN */
	eh->e_machine = 62;
	eh->e_version = 1;
	eh->e_phoff = 64;
	eh->e_ehsize = 64;
	eh->e_phentsize = sizeof(struct elf64_phdr);
	eh->e_phnum = 2;
	eh->e_shentsize = 64;
	struct elf64_phdr *ph = (struct elf64_phdr *)(img + 64);
	ph[0] = (struct elf64_phdr){ .p_type = 1, .p_flags = 5, .p_filesz = IMAGE_SIZE, .p_memsz = IMAGE_SIZE,
				     .p_align = 4096 };
	ph[1] = (struct elf64_phdr){ .p_type = 2, .p_flags = 4, .p_offset = dyn_off, .p_vaddr = dyn_off,
				     .p_paddr = dyn_off, .p_filesz = sizeof(dyns), .p_memsz = sizeof(dyns),
				     .p_align = 8 };
#undef TAKE
#undef STR
}

static ssize_t blob_read(struct file *f, void *buf, size_t n, uint64_t *pos)
{
	(void)f;
	if (*pos >= 4096 + IMAGE_SIZE)
		return 0;
	if (n > 4096 + IMAGE_SIZE - *pos)
		n = 4096 + IMAGE_SIZE - *pos;
	memcpy(buf, blob + *pos, n);
	*pos += n;
	return n;
}

static const struct file_ops blob_ops = { .read = blob_read };

/* Every CPU's TSC_AUX holds its number, for getcpu by RDTSCP. */
static void tsc_aux_init(void)
{
	if (cpu_has(CPU_RDTSCP))
		wrmsr(MSR_TSC_AUX, this_cpu_id());
}
CPU_INIT(6, tsc_aux_init);

static int vdso_init(void)
{
	blob = kzalloc(4096 + IMAGE_SIZE);
	if (!blob)
		return -ENOMEM;
	struct vdso_data *d = (struct vdso_data *)blob;
	d->mode = clock_tsc_params(&d->tsc_base, &d->tsc_mult) ? VDSO_MODE_TSC : VDSO_MODE_SYSCALL;
	d->epoch_ns = clock_realtime_offset_ns();
	d->rdtscp = cpu_has(CPU_RDTSCP);
	tsc_aux_init();
	build_image(blob + 4096);
	blob_file = anon_file(S_IFREG, &blob_ops, NULL, O_RDONLY);
	if (!blob_file)
		return -ENOMEM;
	blob_file->inode->size = 4096 + IMAGE_SIZE;
	return 0;
}
INITCALL(INIT_LATE, vdso_init);

uint64_t vdso_map(void)
{
	if (!blob_file)
		return 0;
	long r = uvm_map(VVAR_ADDR, 4096, PROT_READ, MAP_PRIVATE | MAP_FIXED, blob_file, 0, 4096, "[vvar]");
	if (r >= 0)
		r = uvm_map(VVAR_ADDR + 4096, IMAGE_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, blob_file,
			    4096, IMAGE_SIZE, "[vdso]");
	return r < 0 ? 0 : VVAR_ADDR + 4096;
}
