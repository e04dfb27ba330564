/* Host harness for modules/elf/check.c: validates an ELF file the way the
 * kernel's loader does and prints "ok type entry lo hi interp" or "bad: <why>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf/elf.h>

int main(int argc, char **argv)
{
	FILE *f = fopen(argv[1], "rb");
	if (!f || argc != 2)
		return 2;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	unsigned char *buf = malloc(len ? len : 1);
	if (len && fread(buf, 1, len, f) != (size_t)len)
		return 2;
	struct elf64_ehdr eh;
	const char *why;
	if ((size_t)len < sizeof(eh)) {
		printf("bad: file too short for an ELF header\n");
		return 0;
	}
	memcpy(&eh, buf, sizeof(eh));
	if (elf_check_header(&eh, len, &why)) {
		printf("bad: %s\n", why);
		return 0;
	}
	/* The checked header guarantees the program headers are inside the file. */
	struct elf64_phdr *ph = malloc(eh.e_phnum * sizeof(*ph));
	memcpy(ph, buf + eh.e_phoff, eh.e_phnum * sizeof(*ph));
	struct elf_info info;
	if (elf_check_phdrs(&eh, ph, len, 0x00007ffffffff000ull, &info, &why)) {
		printf("bad: %s\n", why);
		return 0;
	}
	printf("ok %u %#llx %#llx %#llx %s\n", info.type, (unsigned long long)info.entry,
	       (unsigned long long)info.lo, (unsigned long long)info.hi, info.has_interp ? "interp" : "static");
	free(ph);
	free(buf);
	return 0;
}
