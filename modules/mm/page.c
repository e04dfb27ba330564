/* Buddy allocator. Free blocks are tracked in struct page (never inside the
 * free memory itself), so memory that is not yet mapped can be managed. */
#include "page_internal.h"
#include <arch/spinlock.h>
#include <boot/boot_info.h>
#include <console/printk.h>
#include <lib/panic.h>
#include <lib/string.h>

#define ZONE_DMA32 0
#define ZONE_HIGH 1
#define NZONES 2
#define DMA32_LIMIT (4ull << 30)
#define LOW_RESERVED (1ull << 20) /* firmware areas and the SMP trampoline page (0x8000) */

struct page *page_array;
uint64_t page_max_pfn;

static struct list free_lists[NZONES][PAGE_MAX_ORDER + 1];
static size_t nfree, ntotal;
static spinlock_t lock = SPINLOCK_INIT;

static int zone_of(paddr_t pa)
{
	return pa < DMA32_LIMIT ? ZONE_DMA32 : ZONE_HIGH;
}

static void free_block(paddr_t pa, unsigned order)
{
	uint64_t pfn = pa >> PAGE_SHIFT;
	int zone = zone_of(pa);

	while (order < PAGE_MAX_ORDER) {
		uint64_t buddy = pfn ^ (1ull << order);
		if (buddy >= page_max_pfn)
			break;
		struct page *b = &page_array[buddy];
		if (!(b->flags & PG_FREE) || b->order != order || zone_of(buddy << PAGE_SHIFT) != zone)
			break;
		list_remove(&b->node);
		b->flags = 0;
		pfn &= ~(1ull << order);
		order++;
	}
	struct page *p = &page_array[pfn];
	p->flags = PG_FREE;
	p->order = order;
	list_push_front(&free_lists[zone][order], &p->node);
}

static paddr_t alloc_block(int zone, unsigned order)
{
	unsigned o = order;

	while (o <= PAGE_MAX_ORDER && list_empty(&free_lists[zone][o]))
		o++;
	if (o > PAGE_MAX_ORDER)
		return 0;
	struct page *p = list_entry(list_pop_front(&free_lists[zone][o]), struct page, node);
	paddr_t pa = page_to_pa(p);
	p->flags = 0;
	/* Split: return the upper halves to the free lists. */
	while (o > order) {
		o--;
		struct page *half = pa_to_page(pa + (PAGE_SIZE << o));
		half->flags = PG_FREE;
		half->order = o;
		list_push_front(&free_lists[zone][o], &half->node);
	}
	return pa;
}

paddr_t page_alloc_phys(unsigned order, unsigned flags)
{
	paddr_t pa = 0;

	if (order > PAGE_MAX_ORDER)
		return 0;
	uint64_t f = spin_lock_irqsave(&lock);
	if (!(flags & PAGE_DMA32))
		pa = alloc_block(ZONE_HIGH, order);
	if (!pa)
		pa = alloc_block(ZONE_DMA32, order);
	if (pa)
		nfree -= 1ul << order;
	spin_unlock_irqrestore(&lock, f);
	if (pa && (flags & PAGE_ZERO))
		memset(phys_to_virt(pa), 0, PAGE_SIZE << order);
	return pa;
}

void page_free_phys(paddr_t pa, unsigned order)
{
	if (!pa)
		return;
	if ((pa & ((PAGE_SIZE << order) - 1)) || (pa >> PAGE_SHIFT) + (1ull << order) > page_max_pfn)
		panic("page_free: bad block %#lx order %u", (unsigned long)pa, order);
	uint64_t f = spin_lock_irqsave(&lock);
	if (pa_to_page(pa)->flags & PG_FREE)
		panic("page_free: double free of %#lx", (unsigned long)pa);
	free_block(pa, order);
	nfree += 1ul << order;
	spin_unlock_irqrestore(&lock, f);
}

void *page_alloc(unsigned order, unsigned flags)
{
	paddr_t pa = page_alloc_phys(order, flags);
	return pa ? phys_to_virt(pa) : NULL;
}

void page_free(void *va, unsigned order)
{
	if (va)
		page_free_phys(virt_to_phys(va), order);
}

void page_ref_init(paddr_t pa)
{
	__atomic_store_n(&pa_to_page(pa)->refs, 1, __ATOMIC_RELAXED);
}

void page_ref_inc(paddr_t pa)
{
	__atomic_fetch_add(&pa_to_page(pa)->refs, 1, __ATOMIC_RELAXED);
}

unsigned page_ref_dec(paddr_t pa)
{
	return __atomic_sub_fetch(&pa_to_page(pa)->refs, 1, __ATOMIC_ACQ_REL);
}

unsigned page_ref_count(paddr_t pa)
{
	return __atomic_load_n(&pa_to_page(pa)->refs, __ATOMIC_ACQUIRE);
}

size_t page_free_count(void)
{
	return nfree;
}

size_t page_total_count(void)
{
	return ntotal;
}

/* Add [start, end) (page-aligned) to the allocator in maximal aligned blocks. */
static void add_range(paddr_t start, paddr_t end)
{
	while (start < end) {
		unsigned order = 0;
		while (order < PAGE_MAX_ORDER && !(start & ((PAGE_SIZE << (order + 1)) - 1)) &&
		       start + (PAGE_SIZE << (order + 1)) <= end &&
		       zone_of(start) == zone_of(start + (PAGE_SIZE << (order + 1)) - 1))
			order++;
		free_block(start, order);
		nfree += 1ul << order;
		ntotal += 1ul << order;
		start += PAGE_SIZE << order;
	}
}

void page_release_range(paddr_t pa, size_t len)
{
	paddr_t start = ALIGN_UP(pa, PAGE_SIZE), end = ALIGN_DOWN(pa + len, PAGE_SIZE);

	if (end > page_max_pfn << PAGE_SHIFT)
		end = page_max_pfn << PAGE_SHIFT;
	if (start >= end)
		return;
	uint64_t f = spin_lock_irqsave(&lock);
	add_range(start, end);
	spin_unlock_irqrestore(&lock, f);
}

/* Reserved physical ranges the allocator must never hand out. */
struct range {
	paddr_t start, end;
};

static unsigned reserved_ranges(struct range *r)
{
	unsigned n = 0;

	r[n++] = (struct range){ 0, LOW_RESERVED };
	r[n++] = (struct range){ virt_to_phys(_kernel_start), virt_to_phys(_kernel_end) };
	if (boot_info.initrd_size)
		r[n++] = (struct range){ ALIGN_DOWN(boot_info.initrd_base, PAGE_SIZE),
					 ALIGN_UP(boot_info.initrd_base + boot_info.initrd_size, PAGE_SIZE) };
	return n;
}

/* Calls fn for each usable page-aligned piece of RAM outside the reserved ranges. */
static void for_each_free_range(const struct range *res, unsigned nres,
				void (*fn)(paddr_t start, paddr_t end, void *ctx), void *ctx)
{
	for (unsigned i = 0; i < boot_info.nmem; i++) {
		const struct boot_mem_region *m = &boot_info.mem[i];
		if (m->type != BOOT_MEM_USABLE)
			continue;
		paddr_t start = ALIGN_UP(m->base, PAGE_SIZE);
		paddr_t end = ALIGN_DOWN(m->base + m->size, PAGE_SIZE);
		while (start < end) {
			/* Clip the piece at the first reserved range that intersects it. */
			paddr_t piece_end = end;
			bool skipped = false;
			for (unsigned j = 0; j < nres; j++) {
				if (res[j].start <= start && res[j].end > start) {
					start = ALIGN_UP(res[j].end, PAGE_SIZE);
					skipped = true;
					break;
				}
				if (res[j].start > start && res[j].start < piece_end)
					piece_end = ALIGN_DOWN(res[j].start, PAGE_SIZE);
			}
			if (skipped)
				continue;
			if (start < piece_end)
				fn(start, piece_end, ctx);
			start = piece_end;
		}
	}
}

struct place_ctx {
	size_t need;
	paddr_t found;
};

static void place_array(paddr_t start, paddr_t end, void *ctx)
{
	struct place_ctx *c = ctx;

	if (!c->found && end <= DMA32_LIMIT && end - start >= c->need)
		c->found = start;
}

static void add_cb(paddr_t start, paddr_t end, void *ctx)
{
	(void)ctx;
	if (end > page_max_pfn << PAGE_SHIFT)
		end = page_max_pfn << PAGE_SHIFT;
	if (start < end)
		add_range(start, end);
}

void page_init(void)
{
	struct range res[4];
	unsigned nres = reserved_ranges(res);

	for (unsigned z = 0; z < NZONES; z++)
		for (unsigned o = 0; o <= PAGE_MAX_ORDER; o++)
			list_init(&free_lists[z][o]);

	for (unsigned i = 0; i < boot_info.nmem; i++) {
		const struct boot_mem_region *m = &boot_info.mem[i];
		if (m->type == BOOT_MEM_USABLE && (m->base + m->size) >> PAGE_SHIFT > page_max_pfn)
			page_max_pfn = (m->base + m->size) >> PAGE_SHIFT;
	}
	if (page_max_pfn > (DIRECT_MAP_SIZE >> PAGE_SHIFT))
		page_max_pfn = DIRECT_MAP_SIZE >> PAGE_SHIFT;

	struct place_ctx pc = { ALIGN_UP(page_max_pfn * sizeof(struct page), PAGE_SIZE), 0 };
	for_each_free_range(res, nres, place_array, &pc);
	if (!pc.found)
		panic("mm: no room below 4 GiB for %lu KiB of page descriptors", (unsigned long)(pc.need >> 10));
	page_array = phys_to_virt(pc.found);
	memset(page_array, 0, pc.need);
	res[nres++] = (struct range){ pc.found, pc.found + pc.need };

	for_each_free_range(res, nres, add_cb, NULL);
	printk(LOG_INFO, "mm: %lu MiB managed, %lu KiB of page descriptors\n",
	       (unsigned long)(ntotal >> 8), (unsigned long)(pc.need >> 10));
}
