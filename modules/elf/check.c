/* ELF header validation: every field of an untrusted file is range-checked
 * before the loader uses it. Freestanding, no kernel headers: the host unit
 * tests compile this file as is. */
#include <elf/elf.h>

#define PAGE 4096ull

static bool add_ok(uint64_t a, uint64_t b, uint64_t limit)
{
	return a <= limit && b <= limit - a;
}

int elf_check_header(const struct elf64_ehdr *eh, uint64_t filesize, const char **why)
{
	const unsigned char *id = eh->e_ident;

	if (filesize < sizeof(*eh) || id[0] != 0x7f || id[1] != 'E' || id[2] != 'L' || id[3] != 'F')
		return *why = "not an ELF file", -1;
	if (id[4] != 2)
		return *why = "not a 64-bit ELF file", -1;
	if (id[5] != 1)
		return *why = "not little-endian", -1;
	if (id[6] != 1 || eh->e_version != 1)
		return *why = "unknown ELF version", -1;
	if (eh->e_machine != 62)
		return *why = "not an x86-64 program", -1;
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return *why = "not an executable (ELF type is neither EXEC nor DYN)", -1;
	if (eh->e_phentsize != sizeof(struct elf64_phdr))
		return *why = "bad program header entry size", -1;
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHNUM)
		return *why = "bad number of program headers", -1;
	if (!add_ok(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr), filesize))
		return *why = "program headers lie outside the file", -1;
	return 0;
}

int elf_check_phdrs(const struct elf64_ehdr *eh, const struct elf64_phdr *ph, uint64_t filesize,
		    uint64_t user_top, struct elf_info *out, const char **why)
{
	uint64_t prev_end = 0;
	bool any = false;
	uint64_t phdr_vaddr = 0;

	*out = (struct elf_info){ .type = eh->e_type, .entry = eh->e_entry, .phnum = eh->e_phnum };
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const struct elf64_phdr *p = &ph[i];
		switch (p->p_type) {
		case PT_LOAD:
			if (p->p_filesz > p->p_memsz)
				return *why = "segment file size exceeds its memory size", -1;
			if (!add_ok(p->p_offset, p->p_filesz, filesize))
				return *why = "segment lies outside the file", -1;
			if (!add_ok(p->p_vaddr, p->p_memsz, user_top) || p->p_vaddr + p->p_memsz + PAGE > user_top)
				return *why = "segment lies outside the user address space", -1;
			if (p->p_align > 1 && (p->p_align & (p->p_align - 1)))
				return *why = "segment alignment is not a power of two", -1;
			if ((p->p_vaddr - p->p_offset) % PAGE)
				return *why = "segment address and file offset disagree modulo the page size", -1;
			if (p->p_memsz == 0)
				break;
			if (any && p->p_vaddr < prev_end - (prev_end % PAGE))
				return *why = "loadable segments overlap or are not in address order", -1;
			if (!any)
				out->lo = p->p_vaddr & ~(PAGE - 1);
			any = true;
			prev_end = p->p_vaddr + p->p_memsz;
			out->hi = (prev_end + PAGE - 1) & ~(PAGE - 1);
			if (!phdr_vaddr && eh->e_phoff >= p->p_offset &&
			    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(*p) <= p->p_offset + p->p_filesz)
				phdr_vaddr = p->p_vaddr + (eh->e_phoff - p->p_offset);
			break;
		case PT_INTERP:
			if (out->has_interp)
				return *why = "more than one interpreter", -1;
			if (p->p_filesz < 2 || p->p_filesz > ELF_INTERP_MAX || !add_ok(p->p_offset, p->p_filesz, filesize))
				return *why = "bad interpreter path", -1;
			out->has_interp = true;
			out->interp_off = p->p_offset;
			out->interp_size = p->p_filesz;
			break;
		case PT_PHDR:
			phdr_vaddr = p->p_vaddr;
			break;
		case PT_GNU_STACK:
			out->exec_stack = p->p_flags & PF_X;
			break;
		default:
			break;
		}
	}
	if (!any)
		return *why = "no loadable segments", -1;
	if (out->entry < out->lo || out->entry >= out->hi)
		return *why = "entry point outside the loaded segments", -1;
	out->phdr_vaddr = phdr_vaddr;
	return 0;
}
