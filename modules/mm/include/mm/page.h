/* Physical page allocator (buddy system over the boot memory map).
 * Memory below 4 GiB is kept for callers that need it (PAGE_DMA32); others are
 * served from above 4 GiB first. Safe from interrupt context. */
#ifndef MM_PAGE_H
#define MM_PAGE_H

#include <stddef.h>
#include <stdint.h>
#include <arch/mmu.h>
#include <arch/memlayout.h>

#define PAGE_MAX_ORDER 10           /* largest block: 2^10 pages = 4 MiB */

#define PAGE_ZERO (1u << 0)         /* zero the block */
#define PAGE_DMA32 (1u << 1)        /* physical address below 4 GiB */

/* 2^order contiguous pages; direct-map address, or NULL when out of memory. */
void *page_alloc(unsigned order, unsigned flags);
void page_free(void *va, unsigned order);

/* Physical-address variants; 0 means failure. */
paddr_t page_alloc_phys(unsigned order, unsigned flags);
void page_free_phys(paddr_t pa, unsigned order);

/* Give boot-reserved memory (e.g. the initrd once unpacked) to the allocator. */
void page_release_range(paddr_t pa, size_t len);

/* Reference counts of single pages mapped into user address spaces (uvm):
 * a page shared copy-on-write or MAP_SHARED by several processes is freed
 * when the last mapping goes. page_ref_init sets 1; page_ref_dec returns
 * the count left. */
void page_ref_init(paddr_t pa);
void page_ref_inc(paddr_t pa);
unsigned page_ref_dec(paddr_t pa);
unsigned page_ref_count(paddr_t pa);

size_t page_free_count(void);   /* free pages */
size_t page_total_count(void);  /* pages managed by the allocator */

/* The smallest order whose block holds size bytes. */
static inline unsigned page_order_for(size_t size)
{
	unsigned order = 0;
	while ((PAGE_SIZE << order) < size)
		order++;
	return order;
}

#endif
