/* Page tables. The kernel's upper half is shared by every user address
 * space (one root per process, uvm). Mappings use 4 KiB pages. */
#ifndef MM_VM_H
#define MM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arch/mmu.h>
#include <arch/memlayout.h>

#define VM_READ 0u          /* every mapping is readable */
#define VM_WRITE (1u << 0)
#define VM_EXEC (1u << 1)
#define VM_USER (1u << 2)
#define VM_UNCACHED (1u << 3)
#define VM_GLOBAL (1u << 4) /* kernel mappings that survive address-space switches */

/* The root (PML4) of the kernel's page tables. */
pte_t *vm_kernel_root(void);

/* A user address space's root: the lower half empty, the kernel's half
 * shared (its top-level entries never change after boot). */
pte_t *vm_user_root_new(void);
/* Free the root and the lower half's page-table pages (not the pages they
 * map: their owner frees those first). Must not be loaded on any CPU. */
void vm_user_root_free(pte_t *root);
/* Load root into CR3 (NULL: the kernel's own). */
void vm_load_root(pte_t *root);

/* Map [va, va+len) to [pa, pa+len); va, pa and len page-aligned. Replaces
 * existing mappings. Returns 0 or -ENOMEM. */
int vm_map(pte_t *root, uintptr_t va, paddr_t pa, size_t len, unsigned flags);
/* Remove mappings (page tables are kept); missing pages are ignored. */
void vm_unmap(pte_t *root, uintptr_t va, size_t len);
/* Look up va: true with *pa (and *pte_flags if non-NULL) when mapped. */
bool vm_translate(pte_t *root, uintptr_t va, paddr_t *pa, uint64_t *pte_flags);

/* Give a page-aligned part of the kernel image [start, end) to the page
 * allocator: its kernel-image mapping is removed (touching it faults), its
 * direct-map pages become writable, its pages free. For code and data that
 * will never run again (runtime disposal of other platforms' sections). */
void vm_release_kernel_range(uintptr_t start, uintptr_t end);

#endif
