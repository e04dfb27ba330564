/* Kernel virtual areas: thread stacks with an unmapped guard page below, and
 * mappings of device memory and firmware tables. */
#ifndef MM_VMAP_H
#define MM_VMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arch/memlayout.h>

#ifndef CONFIG_KSTACK_PAGES
#define CONFIG_KSTACK_PAGES 4
#endif
#define KSTACK_SIZE (CONFIG_KSTACK_PAGES * 4096ul)

/* A kernel stack of KSTACK_SIZE bytes; returns its lowest address (the guard
 * page is just below) or NULL. The top is the result + KSTACK_SIZE. */
void *kstack_alloc(void);
void kstack_free(void *bottom);
/* Is addr in the guard page of some kernel stack? */
bool kstack_is_guard(uintptr_t addr);

/* Map device memory uncached / firmware memory cached. len may be unaligned;
 * the result points at pa. NULL when out of memory. */
void *ioremap(paddr_t pa, size_t len);
void *memremap(paddr_t pa, size_t len);
void iounmap(void *va, size_t len);

#endif
