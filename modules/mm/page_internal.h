/* mm-private: per-frame descriptors shared by the page allocator and kmalloc. */
#ifndef MM_PAGE_INTERNAL_H
#define MM_PAGE_INTERNAL_H

#include <lib/list.h>
#include <mm/page.h>

#define PG_FREE (1u << 0)   /* head of a free buddy block */
#define PG_SLAB (1u << 1)   /* kmalloc small-object page */
#define PG_LARGE (1u << 2)  /* head of a kmalloc page allocation */

struct page {
	struct list node;   /* free list / slab partial list */
	uint16_t flags;
	uint8_t order;      /* PG_FREE, PG_LARGE: block order */
	uint8_t slab_class; /* PG_SLAB */
	union {
		uint32_t inuse; /* PG_SLAB: objects handed out */
		uint32_t refs;  /* user pages: mappings (page_ref_*) */
	};
	void *freelist;     /* PG_SLAB: free objects */
};

extern struct page *page_array;
extern uint64_t page_max_pfn;

static inline struct page *pa_to_page(paddr_t pa)
{
	return &page_array[pa >> PAGE_SHIFT];
}

static inline paddr_t page_to_pa(const struct page *p)
{
	return (paddr_t)(p - page_array) << PAGE_SHIFT;
}

/* During early init only memory below 4 GiB is reachable. */
void page_init(void);
void vm_init(void);
void vm_set_early(int early);

#endif
