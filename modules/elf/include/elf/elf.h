/* ELF64 x86-64 executables: header validation (pure, host-testable), loading
 * into the application's address space, and the initial process stack. */
#ifndef ELF_ELF_H
#define ELF_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ET_EXEC 2
#define ET_DYN 3
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_PHDR 6
#define PT_TLS 7
#define PT_GNU_STACK 0x6474e551
#define PF_X 1
#define PF_W 2
#define PF_R 4

struct elf64_ehdr {
	unsigned char e_ident[16];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

#define ELF_MAX_PHNUM 256
#define ELF_INTERP_MAX 4096

/* What validation learned; addresses are unrelocated (add the load bias for ET_DYN). */
struct elf_info {
	uint16_t type;
	uint64_t entry;
	uint64_t lo, hi;            /* page-aligned span of the PT_LOAD segments */
	uint64_t phdr_vaddr;        /* where the program headers are in memory (0: not loaded) */
	uint16_t phnum;
	bool has_interp;
	uint64_t interp_off, interp_size;
	bool exec_stack;
};

/* Check an ELF header and its program headers (phdrs: e_phnum entries read
 * from e_phoff) against a file of filesize bytes. 0, or -1 with *why set. */
int elf_check_header(const struct elf64_ehdr *eh, uint64_t filesize, const char **why);
int elf_check_phdrs(const struct elf64_ehdr *eh, const struct elf64_phdr *ph, uint64_t filesize,
		    uint64_t user_top, struct elf_info *out, const char **why);

struct file;

struct elf_loaded {
	uint64_t entry;   /* relocated */
	uint64_t base;    /* load bias (0 for ET_EXEC) */
	uint64_t phdr;    /* relocated program header address */
	uint16_t phnum;
	uint64_t end;     /* end of the highest segment (the program break starts here) */
	bool exec_stack;
	char *interp;     /* PT_INTERP path (kmalloc'd) or NULL */
};

/* Map f's segments. main: ET_DYN executables go to USER_PIE_BASE; others
 * (the interpreter) wherever there is room. Prints one line naming path and
 * the problem on malformed input. Returns 0 or a negative errno (-ENOEXEC). */
int elf_load(struct file *f, const char *path, bool main, struct elf_loaded *out);

/* Auxiliary vector inputs for the initial stack. */
struct exec_params {
	const char *const *argv;
	int argc;
	const char *const *envp;
	int envc;
	const char *execfn;
	struct elf_loaded *exe;
	struct elf_loaded *interp;  /* NULL for static executables */
	uint64_t hwcap, hwcap2;
	uint64_t minsigstksz;
	uint64_t sysinfo_ehdr;      /* the vDSO's address, or 0 */
};

/* Map the stack and lay out argc, argv, envp and auxv on it; returns the
 * initial stack pointer or a negative errno. */
long elf_build_stack(const struct exec_params *p);

#endif
