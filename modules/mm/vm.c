/* Page-table construction and the switch from the boot tables to the final
 * kernel tables: direct map of RAM (no execute), the kernel image with W^X
 * section permissions, nothing in the lower half. */
#include "page_internal.h"
#include <mm/vm.h>
#include <arch/cpu.h>
#include <arch/smp.h>
#include <boot/boot_info.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/panic.h>
#include <lib/string.h>

static pte_t *kernel_root;
static uint64_t pte_nx, pte_g;
static int early = 1; /* before the switch only memory below 4 GiB is mapped */

void vm_set_early(int e)
{
	early = e;
}

pte_t *vm_kernel_root(void)
{
	return kernel_root;
}

static uint64_t leaf_bits(unsigned flags)
{
	uint64_t b = PTE_P;

	if (flags & VM_WRITE)
		b |= PTE_W;
	if (flags & VM_USER)
		b |= PTE_U;
	if (!(flags & VM_EXEC))
		b |= pte_nx;
	if (flags & VM_UNCACHED)
		b |= PTE_PCD | PTE_PWT;
	if ((flags & VM_GLOBAL) && !(flags & VM_USER))
		b |= pte_g;
	return b;
}

/* Next-level table for entry e, allocating it if needed. */
static pte_t *next_table(pte_t *e, bool user)
{
	if (*e & PTE_P) {
		if (*e & PTE_PS)
			return NULL; /* a large page is in the way */
		return phys_to_virt(*e & PTE_ADDR_MASK);
	}
	paddr_t pa = page_alloc_phys(0, PAGE_ZERO | (early ? PAGE_DMA32 : 0));
	if (!pa)
		return NULL;
	*e = pa | PTE_P | PTE_W | (user ? PTE_U : 0);
	return phys_to_virt(pa);
}

static bool is_current(pte_t *root)
{
	return (read_cr3() & PTE_ADDR_MASK) == virt_to_phys(root);
}

/* Map one page, or one 2 MiB page when large. */
static int map_one(pte_t *root, uintptr_t va, paddr_t pa, uint64_t bits, bool large)
{
	bool user = bits & PTE_U;
	pte_t *pdpt = next_table(&root[PML4_INDEX(va)], user);
	pte_t *pd = pdpt ? next_table(&pdpt[PDPT_INDEX(va)], user) : NULL;

	if (!pd)
		return -ENOMEM;
	pte_t *e = &pd[PD_INDEX(va)];
	if (!large) {
		pte_t *pt = next_table(e, user);
		if (!pt)
			return -ENOMEM;
		e = &pt[PT_INDEX(va)];
	}
	pte_t old = *e;
	*e = pa | bits | (large ? PTE_PS : 0);
	if ((old & PTE_P) && is_current(root))
		tlb_shootdown(va, large ? LARGE_PAGE_SIZE : PAGE_SIZE);
	return 0;
}

static int map_range(pte_t *root, uintptr_t va, paddr_t pa, size_t len, uint64_t bits, bool allow_large)
{
	size_t off = 0;

	while (off < len) {
		bool large = allow_large && IS_ALIGNED(va + off, LARGE_PAGE_SIZE) &&
			     IS_ALIGNED(pa + off, LARGE_PAGE_SIZE) && len - off >= LARGE_PAGE_SIZE;
		int r = map_one(root, va + off, pa + off, bits, large);
		if (r)
			return r;
		off += large ? LARGE_PAGE_SIZE : PAGE_SIZE;
	}
	return 0;
}

int vm_map(pte_t *root, uintptr_t va, paddr_t pa, size_t len, unsigned flags)
{
	if (!IS_ALIGNED(va | pa | len, PAGE_SIZE))
		return -EINVAL;
	return map_range(root, va, pa, len, leaf_bits(flags), false);
}

static pte_t *lookup(pte_t *root, uintptr_t va, bool *large)
{
	pte_t *t = root;
	int shifts[4] = { 39, 30, 21, 12 };

	for (int level = 0; level < 4; level++) {
		pte_t *e = &t[(va >> shifts[level]) & 511];
		if (!(*e & PTE_P))
			return NULL;
		if (level == 3 || (level > 0 && (*e & PTE_PS))) {
			*large = level != 3;
			return e;
		}
		t = phys_to_virt(*e & PTE_ADDR_MASK);
	}
	return NULL;
}

void vm_unmap(pte_t *root, uintptr_t va, size_t len)
{
	/* The kernel's half is in every address space, whichever is loaded. */
	bool cur = root == kernel_root || is_current(root), any = false;

	for (uintptr_t a = ALIGN_DOWN(va, PAGE_SIZE); a < va + len; a += PAGE_SIZE) {
		bool large;
		pte_t *e = lookup(root, a, &large);
		if (!e)
			continue;
		if (large)
			panic("vm_unmap: %#lx is inside a large page", (unsigned long)a);
		*e = 0;
		any = true;
	}
	/* Every CPU shares the kernel's half: all of them may have it cached. */
	if (cur && any)
		tlb_shootdown(ALIGN_DOWN(va, PAGE_SIZE), ALIGN_UP(va + len, PAGE_SIZE) - ALIGN_DOWN(va, PAGE_SIZE));
}

bool vm_translate(pte_t *root, uintptr_t va, paddr_t *pa, uint64_t *pte_flags)
{
	bool large;
	pte_t *e = lookup(root, va, &large);

	if (!e)
		return false;
	uint64_t mask = large ? LARGE_PAGE_SIZE - 1 : PAGE_SIZE - 1;
	if (pa)
		*pa = ((*e & PTE_ADDR_MASK) & ~mask) | (va & mask);
	if (pte_flags)
		*pte_flags = *e & ~PTE_ADDR_MASK;
	return true;
}

void vm_release_kernel_range(uintptr_t start, uintptr_t end)
{
	if (start >= end)
		return;
	if (!IS_ALIGNED(start | end, PAGE_SIZE) || start < (uintptr_t)_kernel_start || end > (uintptr_t)_kernel_end)
		panic("vm_release_kernel_range: %#lx..%#lx is not a page-aligned part of the kernel image",
		      (unsigned long)start, (unsigned long)end);
	paddr_t pa = virt_to_phys((void *)start);
	vm_unmap(kernel_root, start, end - start);
	if (map_range(kernel_root, DIRECT_MAP_BASE + pa, pa, end - start, PTE_P | PTE_W | pte_nx | pte_g, false))
		panic("vm_release_kernel_range: out of memory remapping %#lx", (unsigned long)pa);
	page_release_range(pa, end - start);
}

/* Direct map of [start, end), keeping the kernel image's physical pages read-only. */
static void direct_map(paddr_t start, paddr_t end)
{
	paddr_t ks = virt_to_phys(_kernel_start), ke = virt_to_phys(_kernel_end);
	uint64_t rw = PTE_P | PTE_W | pte_nx | pte_g, ro = PTE_P | pte_nx | pte_g;
	int r = 0;

	if (end > DIRECT_MAP_SIZE)
		end = DIRECT_MAP_SIZE;
	if (start >= end)
		return;
	if (end <= ks || start >= ke) {
		r = map_range(kernel_root, DIRECT_MAP_BASE + start, start, end - start, rw, true);
	} else {
		paddr_t a = MAX(start, ks), b = MIN(end, ke);
		if (start < a)
			r |= map_range(kernel_root, DIRECT_MAP_BASE + start, start, a - start, rw, true);
		r |= map_range(kernel_root, DIRECT_MAP_BASE + a, a, b - a, ro, false);
		if (b < end)
			r |= map_range(kernel_root, DIRECT_MAP_BASE + b, b, end - b, rw, true);
	}
	if (r)
		panic("mm: out of memory building the direct map");
}

void vm_init(void)
{
	pte_nx = cpu_has(CPU_NX) ? PTE_NX : 0;
	pte_g = cpu_has(CPU_PGE) ? PTE_G : 0;

	kernel_root = page_alloc(0, PAGE_ZERO | PAGE_DMA32);
	if (!kernel_root)
		panic("mm: no memory for the kernel page tables");

	/* Low 1 MiB (BIOS data, EBDA, RSDP area) and every RAM-like region. */
	direct_map(0, 1ull << 20);
	for (unsigned i = 0; i < boot_info.nmem; i++) {
		const struct boot_mem_region *m = &boot_info.mem[i];
		if (m->type == BOOT_MEM_USABLE || m->type == BOOT_MEM_ACPI || m->type == BOOT_MEM_NVS)
			direct_map(ALIGN_DOWN(m->base, PAGE_SIZE), ALIGN_UP(m->base + m->size, PAGE_SIZE));
	}

	/* The kernel image: text RX, rodata R, data/bss RW (never W and X). */
	uintptr_t t0 = (uintptr_t)_kernel_start, t1 = (uintptr_t)_text_end;
	uintptr_t r1 = (uintptr_t)_rodata_end, d1 = (uintptr_t)_kernel_end;
	int r = map_range(kernel_root, t0, virt_to_phys(_kernel_start), t1 - t0, PTE_P | pte_g, false);
	r |= map_range(kernel_root, t1, virt_to_phys(_text_end), r1 - t1, PTE_P | pte_nx | pte_g, false);
	r |= map_range(kernel_root, r1, virt_to_phys(_rodata_end), d1 - r1, PTE_P | PTE_W | pte_nx | pte_g,
		       false);
	if (r)
		panic("mm: out of memory mapping the kernel");

	/* Every top-level entry of the kernel's half exists from now on, so the
	 * copies user address spaces take (vm_user_root_new) never go stale. */
	if (!next_table(&kernel_root[PML4_INDEX(KSTACK_AREA_BASE)], false) ||
	    !next_table(&kernel_root[PML4_INDEX(IOREMAP_BASE)], false))
		panic("mm: out of memory for the kernel page tables");

	write_cr3(virt_to_phys(kernel_root));
	early = 0;
}

pte_t *vm_user_root_new(void)
{
	pte_t *root = page_alloc(0, PAGE_ZERO);
	if (root)
		memcpy(root + 256, kernel_root + 256, 256 * sizeof(pte_t));
	return root;
}

static void free_tables(pte_t *t, int level)
{
	if (level < 3)
		for (int i = 0; i < 512; i++)
			if ((t[i] & PTE_P) && !(t[i] & PTE_PS))
				free_tables(phys_to_virt(t[i] & PTE_ADDR_MASK), level + 1);
	page_free(t, 0);
}

void vm_user_root_free(pte_t *root)
{
	for (int i = 0; i < 256; i++)
		if (root[i] & PTE_P)
			free_tables(phys_to_virt(root[i] & PTE_ADDR_MASK), 1);
	page_free(root, 0);
}

void vm_load_root(pte_t *root)
{
	write_cr3(virt_to_phys(root ? root : kernel_root));
}
