/* Mapping an ELF executable's segments into the application's address space. */
#include <elf/elf.h>
#include <uvm/uvm.h>
#include <arch/memlayout.h>
#include <vfs/vfs.h>
#include <vfs/errno.h>
#include <console/printk.h>
#include <lib/string.h>
#include <mm/kmalloc.h>

#define PAGE 4096ul

static int bad(const char *path, const char *why)
{
	printk(LOG_ERR, "osvb: %s: cannot execute: %s\n", path, why);
	return -ENOEXEC;
}

static unsigned prot_of(uint32_t flags)
{
	return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) | ((flags & PF_X) ? PROT_EXEC : 0);
}

int elf_load(struct file *f, const char *path, bool main, struct elf_loaded *out)
{
	struct elf64_ehdr eh;
	struct elf_info info;
	const char *why;
	uint64_t size = f->inode->size;

	memset(out, 0, sizeof(*out));
	if (!S_ISREG(f->inode->mode))
		return -EACCES;
	ssize_t n = vfs_pread_full(f, &eh, sizeof(eh), 0);
	if (n < 0)
		return n;
	if ((size_t)n < sizeof(eh) || elf_check_header(&eh, size, &why))
		return bad(path, (size_t)n < sizeof(eh) ? "file too short for an ELF header" : why);
	size_t phsize = (size_t)eh.e_phnum * sizeof(struct elf64_phdr);
	struct elf64_phdr *ph = kmalloc(phsize);
	if (!ph)
		return -ENOMEM;
	n = vfs_pread_full(f, ph, phsize, eh.e_phoff);
	if (n != (ssize_t)phsize) {
		kfree(ph);
		return n < 0 ? n : bad(path, "program headers truncated");
	}
	if (elf_check_phdrs(&eh, ph, size, USER_TOP, &info, &why)) {
		kfree(ph);
		return bad(path, why);
	}

	/* Load bias: ET_EXEC at its linked address; a PIE at the usual base; the
	 * interpreter wherever the whole span fits. */
	uint64_t bias = 0, span = info.hi - info.lo;
	if (info.type == ET_DYN) {
		if (main && info.lo == 0) {
			bias = USER_PIE_BASE;
		} else {
			long at = uvm_map(0, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, 0, NULL);
			if (at < 0) {
				kfree(ph);
				return at;
			}
			bias = at - info.lo;
		}
	}
	if (info.hi + bias > USER_TOP || info.hi + bias < info.hi) {
		kfree(ph);
		return bad(path, "does not fit in the user address space");
	}

	uint64_t end = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		const struct elf64_phdr *p = &ph[i];
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		uint64_t start = (p->p_vaddr + bias) & ~(PAGE - 1);
		uint64_t map_end = (p->p_vaddr + bias + p->p_memsz + PAGE - 1) & ~(PAGE - 1);
		uint64_t off = p->p_offset & ~(PAGE - 1);
		uint64_t file_limit = p->p_vaddr + bias + p->p_filesz - start;
		long at = uvm_map(start, map_end - start, prot_of(p->p_flags), MAP_PRIVATE | MAP_FIXED, f, off,
				  p->p_filesz ? file_limit : 0, NULL);
		if (at < 0) {
			kfree(ph);
			return at;
		}
		if (p->p_vaddr + bias + p->p_memsz > end)
			end = p->p_vaddr + bias + p->p_memsz;
	}

	if (info.has_interp) {
#ifndef CONFIG_ELF_DYNAMIC
		kfree(ph);
		return bad(path, "a dynamically linked program needs ELF_DYNAMIC=y in the kernel configuration");
#endif
		out->interp = kmalloc(info.interp_size + 1);
		if (!out->interp) {
			kfree(ph);
			return -ENOMEM;
		}
		n = vfs_pread_full(f, out->interp, info.interp_size, info.interp_off);
		out->interp[n > 0 ? n : 0] = 0;
		if (n != (ssize_t)info.interp_size || out->interp[info.interp_size - 1] != 0 ||
		    strlen(out->interp) != info.interp_size - 1) {
			kfree(out->interp);
			out->interp = NULL;
			kfree(ph);
			return bad(path, "interpreter path is not a NUL-terminated string");
		}
	}
	kfree(ph);
	out->entry = info.entry + bias;
	out->base = bias;
	out->phdr = info.phdr_vaddr ? info.phdr_vaddr + bias : 0;
	out->phnum = info.phnum;
	out->end = end;
	out->exec_stack = info.exec_stack;
	return 0;
}
