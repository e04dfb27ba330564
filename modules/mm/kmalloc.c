/* Small objects come from one-page slabs per size class; the slab's state lives
 * in its struct page, so objects need no header and kfree finds the class
 * from the address. Larger requests get whole pages (PG_LARGE). */
#include "page_internal.h"
#include <mm/kmalloc.h>
#include <arch/spinlock.h>
#include <lib/panic.h>
#include <lib/string.h>

#define MIN_SHIFT 4  /* 16 bytes */
#define MAX_SHIFT 11 /* 2048 bytes */
#define NCLASSES (MAX_SHIFT - MIN_SHIFT + 1)

struct size_class {
	struct list partial; /* slabs with free objects */
	struct page *empty;  /* one fully free slab kept to avoid churn */
	spinlock_t lock;
};

static struct size_class classes[NCLASSES] = {
#define C(i) [i] = { { &classes[i].partial, &classes[i].partial }, NULL, SPINLOCK_INIT }
	C(0), C(1), C(2), C(3), C(4), C(5), C(6), C(7),
#undef C
};

static unsigned class_for(size_t size)
{
	unsigned c = 0;
	while ((1ul << (c + MIN_SHIFT)) < size)
		c++;
	return c;
}

static struct page *new_slab(unsigned c)
{
	paddr_t pa = page_alloc_phys(0, 0);
	if (!pa)
		return NULL;
	struct page *p = pa_to_page(pa);
	size_t osize = 1ul << (c + MIN_SHIFT);
	char *base = phys_to_virt(pa);

	p->flags = PG_SLAB;
	p->slab_class = c;
	p->inuse = 0;
	p->freelist = NULL;
	/* Thread the free list so objects are handed out in address order. */
	for (size_t off = PAGE_SIZE; off >= osize; off -= osize) {
		void **obj = (void **)(base + off - osize);
		*obj = p->freelist;
		p->freelist = obj;
	}
	return p;
}

void *kmalloc(size_t size)
{
	if (size == 0)
		size = 1;
	if (size > (1ul << MAX_SHIFT)) {
		if (size > (PAGE_SIZE << PAGE_MAX_ORDER))
			return NULL;
		unsigned order = page_order_for(size);
		paddr_t pa = page_alloc_phys(order, 0);
		if (!pa)
			return NULL;
		struct page *p = pa_to_page(pa);
		p->flags = PG_LARGE;
		p->order = order;
		return phys_to_virt(pa);
	}

	unsigned c = class_for(size);
	struct size_class *sc = &classes[c];
	uint64_t f = spin_lock_irqsave(&sc->lock);
	struct page *p;
	if (!list_empty(&sc->partial)) {
		p = list_first_entry(&sc->partial, struct page, node);
	} else {
		p = sc->empty;
		sc->empty = NULL;
		if (!p) {
			spin_unlock_irqrestore(&sc->lock, f);
			p = new_slab(c);
			if (!p)
				return NULL;
			f = spin_lock_irqsave(&sc->lock);
		}
		list_push_front(&sc->partial, &p->node);
	}
	void **obj = p->freelist;
	p->freelist = *obj;
	p->inuse++;
	if (!p->freelist)
		list_remove(&p->node); /* full */
	spin_unlock_irqrestore(&sc->lock, f);
	return obj;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void *kcalloc(size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	return kzalloc(total);
}

static struct page *page_of(const void *ptr)
{
	uintptr_t va = (uintptr_t)ptr;
	if (va < DIRECT_MAP_BASE || va >= DIRECT_MAP_BASE + (page_max_pfn << PAGE_SHIFT))
		panic("kfree: %p is not a heap address", ptr);
	return pa_to_page(virt_to_phys(ptr));
}

size_t kmalloc_size(const void *ptr)
{
	struct page *p = page_of(ptr);
	if (p->flags & PG_LARGE)
		return PAGE_SIZE << p->order;
	if (p->flags & PG_SLAB)
		return 1ul << (p->slab_class + MIN_SHIFT);
	panic("kmalloc_size: %p was not allocated by kmalloc", ptr);
}

void kfree(void *ptr)
{
	if (!ptr)
		return;
	struct page *p = page_of(ptr);
	if (p->flags & PG_LARGE) {
		if (!IS_ALIGNED((uintptr_t)ptr, PAGE_SIZE))
			panic("kfree: %p is not the start of an allocation", ptr);
		p->flags = 0;
		page_free(ptr, p->order);
		return;
	}
	if (!(p->flags & PG_SLAB))
		panic("kfree: %p was not allocated by kmalloc (or is freed twice)", ptr);

	unsigned c = p->slab_class;
	struct size_class *sc = &classes[c];
	if (!IS_ALIGNED((uintptr_t)ptr, 1ul << (c + MIN_SHIFT)))
		panic("kfree: %p is not the start of an object", ptr);
	uint64_t f = spin_lock_irqsave(&sc->lock);
	bool was_full = p->freelist == NULL;
	*(void **)ptr = p->freelist;
	p->freelist = ptr;
	p->inuse--;
	if (was_full)
		list_push_front(&sc->partial, &p->node);
	struct page *release = NULL;
	if (p->inuse == 0) {
		list_remove(&p->node);
		if (sc->empty)
			release = p;
		else
			sc->empty = p;
	}
	spin_unlock_irqrestore(&sc->lock, f);
	if (release) {
		release->flags = 0;
		page_free_phys(page_to_pa(release), 0);
	}
}
