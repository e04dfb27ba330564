/* User address spaces (one struct mm per process): areas, page tables of the
 * lower half, demand paging, copy-on-write after fork. Every function without
 * an mm argument works on the address space loaded on the calling CPU, which
 * is the calling thread's (the linux module activates it on every switch). */
#include <uvm/uvm.h>
#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/memlayout.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <lib/list.h>
#include <lib/panic.h>
#include <lib/printf.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <mm/vm.h>
#include <vfs/errno.h>
#include <vfs/vfs.h>

/* A page kept (with its contents) but made inaccessible by PROT_NONE. */
#define PTE_SOFT_NONE (1ull << 9)

struct vma {
	struct list node;
	uintptr_t start, end;
	unsigned prot, flags;
	struct file *file;
	uint64_t off;        /* file offset of start */
	uintptr_t file_end;  /* data comes from the file below this address */
	const char *name;
};

struct mm {
	pte_t *root;
	struct list vmas;
	spinlock_t lock;
	uintptr_t brk_start, brk_cur;
	size_t resident;
	int refs;             /* processes using it (a vfork child shares its parent's) */
	uint64_t cpus;        /* CPUs that may cache its entries (bit n = CPU n) */
};

static struct mm *cur(void)
{
	return this_cpu_read(mm);
}


size_t uvm_resident_pages(void)
{
	struct mm *mm = cur();
	return mm ? mm->resident : 0;
}

/* --- page tables --- */

static const int shifts[4] = { 39, 30, 21, 12 };

static pte_t *leaf(struct mm *mm, uintptr_t va, bool alloc)
{
	pte_t *t = mm->root;

	for (int level = 0; level < 3; level++) {
		pte_t *e = &t[(va >> shifts[level]) & 511];
		if (!(*e & PTE_P)) {
			if (!alloc)
				return NULL;
			paddr_t pa = page_alloc_phys(0, PAGE_ZERO);
			if (!pa)
				return NULL;
			*e = pa | PTE_P | PTE_W | PTE_U;
		}
		t = phys_to_virt(*e & PTE_ADDR_MASK);
	}
	return &t[PT_INDEX(va)];
}

/* Calls fn for every non-empty leaf entry in [start, end), skipping missing tables. */
static void for_each_pte(struct mm *mm, uintptr_t start, uintptr_t end,
			 void (*fn)(pte_t *e, uintptr_t va, void *ctx), void *ctx)
{
	uintptr_t va = start;

	while (va < end) {
		pte_t *t = mm->root;
		bool skip = false;
		for (int level = 0; level < 3; level++) {
			pte_t e = t[(va >> shifts[level]) & 511];
			if (!(e & PTE_P)) {
				uintptr_t size = 1ul << shifts[level];
				va = (va & ~(size - 1)) + size;
				skip = true;
				break;
			}
			t = phys_to_virt(e & PTE_ADDR_MASK);
		}
		if (skip)
			continue;
		pte_t *e = &t[PT_INDEX(va)];
		if (*e)
			fn(e, va, ctx);
		va += PAGE_SIZE;
	}
}

static uint64_t prot_bits(unsigned prot)
{
	if (!(prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
		return PTE_SOFT_NONE;
	uint64_t b = PTE_P | PTE_U;
	if (prot & PROT_WRITE)
		b |= PTE_W;
	if (!(prot & PROT_EXEC) && cpu_has(CPU_NX))
		b |= PTE_NX;
	return b;
}

static void flush(struct mm *mm, uintptr_t va, size_t len)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the entries change before the mask is read */
	tlb_shootdown_cpus(__atomic_load_n(&mm->cpus, __ATOMIC_RELAXED), va, len);
}

/* Drop one mapping of a user page; the last one frees it. */
static void page_unref(paddr_t pa)
{
	if (page_ref_dec(pa) == 0)
		page_free_phys(pa, 0);
}

/* Is v shared between the processes that map it (writes seen by all)? */
static bool shared(const struct vma *v)
{
	return (v->flags & MAP_TYPE) == MAP_SHARED || (v->flags & MAP_TYPE) == MAP_SHARED_VALIDATE;
}

/* The entry bits for page pa of area v: a private page that other address
 * spaces still map stays read-only until a write fault copies it. */
static uint64_t pte_bits(const struct vma *v, paddr_t pa)
{
	uint64_t b = prot_bits(v->prot);
	if ((b & PTE_W) && !shared(v) && page_ref_count(pa) > 1)
		b &= ~PTE_W;
	return b;
}

/* Pages taken out of the page tables, released only once no CPU can still
 * reach them through its TLB. */
#define GATHER_PAGES 64

struct gather {
	struct mm *mm;
	uintptr_t start, end;
	unsigned n;
	paddr_t pages[GATHER_PAGES];
};

static void gather_flush(struct gather *g)
{
	if (g->end > g->start)
		flush(g->mm, g->start, g->end - g->start);
	for (unsigned i = 0; i < g->n; i++)
		page_unref(g->pages[i]);
	g->n = 0;
	g->start = g->end = 0;
}

static void gather_add(struct gather *g, uintptr_t va, paddr_t pa)
{
	if (g->end == g->start)
		g->start = va;
	g->end = va + PAGE_SIZE;
	if (pa)
		g->pages[g->n++] = pa;
	if (g->n == GATHER_PAGES)
		gather_flush(g);
}

static void free_pte(pte_t *e, uintptr_t va, void *ctx)
{
	struct gather *g = ctx;
	paddr_t pa = *e & PTE_ADDR_MASK;
	*e = 0;
	gather_add(g, va, pa);
	g->mm->resident--;
}

/* for_each_pte(free_pte) over [start, end), then the shootdown and frees. */
static void free_range(struct mm *mm, uintptr_t start, uintptr_t end)
{
	struct gather g = { .mm = mm };
	for_each_pte(mm, start, end, free_pte, &g);
	gather_flush(&g);
}

static void reprot_pte(pte_t *e, uintptr_t va, void *ctx)
{
	(void)va;
	paddr_t pa = *e & PTE_ADDR_MASK;
	*e = pa | pte_bits(ctx, pa);
}

/* --- areas --- */

static struct vma *find(struct mm *mm, uintptr_t addr)
{
	struct vma *v;
	list_for_each_entry(v, &mm->vmas, node) {
		if (addr < v->start)
			return NULL;
		if (addr < v->end)
			return v;
	}
	return NULL;
}

static bool range_free(struct mm *mm, uintptr_t start, uintptr_t end)
{
	struct vma *v;
	list_for_each_entry(v, &mm->vmas, node)
		if (v->start < end && start < v->end)
			return false;
	return true;
}

static void insert(struct mm *mm, struct vma *n)
{
	struct list *pos;
	list_for_each(pos, &mm->vmas) {
		if (list_entry(pos, struct vma, node)->start > n->start)
			break;
	}
	list_insert_before(pos, &n->node);
}

static void vma_free(struct vma *v)
{
	list_remove(&v->node);
	if (v->file)
		file_put(v->file);
	kfree(v);
}

/* Split v at addr (strictly inside); returns the upper part (or NULL: out of memory). */
static struct vma *split(struct vma *v, uintptr_t addr)
{
	struct vma *n = kmalloc(sizeof(*n));
	if (!n)
		return NULL;
	*n = *v;
	n->start = addr;
	n->off = v->off + (addr - v->start);
	if (n->file)
		file_get(n->file);
	v->end = addr;
	list_insert_between(&n->node, &v->node, v->node.next);
	return n;
}

/* Make area boundaries fall on start and end. */
static int carve(struct mm *mm, uintptr_t start, uintptr_t end)
{
	struct vma *v = find(mm, start);
	if (v && v->start < start && !split(v, start))
		return -ENOMEM;
	v = find(mm, end - 1);
	if (v && v->end > end && !split(v, end))
		return -ENOMEM;
	return 0;
}

static int unmap_locked(struct mm *mm, uintptr_t start, uintptr_t end)
{
	int r = carve(mm, start, end);
	if (r)
		return r;
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &mm->vmas) {
		struct vma *v = list_entry(pos, struct vma, node);
		if (v->start >= start && v->end <= end)
			vma_free(v);
	}
	free_range(mm, start, end);
	return 0;
}

/* Highest free gap of len bytes below top. */
static uintptr_t find_free(struct mm *mm, size_t len, uintptr_t top)
{
	uintptr_t hi = top;
	struct list *pos;

	for (pos = mm->vmas.prev; pos != &mm->vmas; pos = pos->prev) {
		struct vma *v = list_entry(pos, struct vma, node);
		if (v->start >= hi)
			continue;
		if (v->end <= hi && hi - v->end >= len)
			return hi - len;
		hi = v->start < hi ? v->start : hi;
	}
	if (hi >= USER_MMAP_BOTTOM + len)
		return hi - len;
	return 0;
}

long uvm_map(uintptr_t addr, size_t len, unsigned prot, unsigned flags, struct file *file, uint64_t off,
	     uint64_t file_limit, const char *name)
{
	struct mm *mm = cur();
	if (!mm)
		return -ENOMEM;
	if (len == 0 || len > USER_TOP)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && (addr & (PAGE_SIZE - 1)))
		return -EINVAL;
	struct vma *v = kzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;

	uint64_t f = spin_lock_irqsave(&mm->lock);
	long r = 0;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr + len > USER_TOP || addr + len < addr || addr < PAGE_SIZE)
			r = -ENOMEM;
		else if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) && !range_free(mm, addr, addr + len))
			r = -EEXIST;
		else
			r = unmap_locked(mm, addr, addr + len);
	} else {
		addr = ALIGN_DOWN(addr, PAGE_SIZE);
		if (!addr || addr < USER_MMAP_BOTTOM || addr + len > USER_TOP || addr + len < addr ||
		    !range_free(mm, addr, addr + len))
			addr = find_free(mm, len, USER_MMAP_TOP);
		if (!addr)
			addr = find_free(mm, len, USER_STACK_TOP - USER_STACK_SIZE);
		if (!addr)
			r = -ENOMEM;
	}
	if (r) {
		spin_unlock_irqrestore(&mm->lock, f);
		kfree(v);
		return r;
	}
	v->start = addr;
	v->end = addr + len;
	v->prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
	v->flags = flags;
	v->name = name;
	if (file) {
		v->file = file_get(file);
		v->off = off;
		v->file_end = file_limit < len ? addr + file_limit : addr + len;
	}
	insert(mm, v);
	spin_unlock_irqrestore(&mm->lock, f);
	if (flags & MAP_POPULATE)
		uvm_populate(addr, len);
	return addr;
}

int uvm_unmap(uintptr_t addr, size_t len)
{
	struct mm *mm = cur();
	if ((addr & (PAGE_SIZE - 1)) || len == 0)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (addr + len > USER_TOP || addr + len < addr)
		return -EINVAL;
	uint64_t f = spin_lock_irqsave(&mm->lock);
	int r = unmap_locked(mm, addr, addr + len);
	spin_unlock_irqrestore(&mm->lock, f);
	return r;
}

bool uvm_range_mapped(uintptr_t addr, size_t len)
{
	struct mm *mm = cur();
	if (!mm)
		return false;
	uintptr_t end = addr + len;
	bool ok = true;
	uint64_t f = spin_lock_irqsave(&mm->lock);
	while (addr < end) {
		struct vma *v = find(mm, addr);
		if (!v) {
			ok = false;
			break;
		}
		addr = v->end;
	}
	spin_unlock_irqrestore(&mm->lock, f);
	return ok;
}

int uvm_protect(uintptr_t addr, size_t len, unsigned prot)
{
	struct mm *mm = cur();
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN))
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (len == 0)
		return 0;
	uintptr_t end = addr + len;
	if (end > USER_TOP || end < addr)
		return -ENOMEM;
	prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
	if (!uvm_range_mapped(addr, len))
		return -ENOMEM;
	uint64_t f = spin_lock_irqsave(&mm->lock);
	int r = carve(mm, addr, end);
	if (!r) {
		struct vma *v;
		list_for_each_entry(v, &mm->vmas, node)
			if (v->start >= addr && v->end <= end) {
				v->prot = prot;
				for_each_pte(mm, v->start, v->end, reprot_pte, v);
			}
		flush(mm, addr, len);
	}
	spin_unlock_irqrestore(&mm->lock, f);
	return r;
}

struct move_ctx {
	struct mm *mm;
	intptr_t delta;
	int err;
};

static void move_pte(pte_t *e, uintptr_t va, void *ctx)
{
	struct move_ctx *m = ctx;
	pte_t *n = leaf(m->mm, va + m->delta, true);
	if (!n) {
		m->err = -ENOMEM;
		return;
	}
	*n = *e;
	*e = 0;
}

long uvm_remap(uintptr_t old, size_t oldlen, size_t newlen, unsigned flags, uintptr_t newaddr)
{
	struct mm *mm = cur();
	if ((old & (PAGE_SIZE - 1)) || newlen == 0 || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	oldlen = ALIGN_UP(oldlen, PAGE_SIZE);
	newlen = ALIGN_UP(newlen, PAGE_SIZE);
	if (newlen > USER_TOP || oldlen > USER_TOP)
		return -ENOMEM;

	uint64_t f = spin_lock_irqsave(&mm->lock);
	long r;
	struct vma *v = find(mm, old);
	if (!v || old + oldlen > v->end || oldlen == 0) {
		r = -EFAULT;
		goto out;
	}
	if (!(flags & MREMAP_FIXED)) {
		if (newlen <= oldlen) {
			r = unmap_locked(mm, old + newlen, old + oldlen);
			r = r ? r : (long)old;
			goto out;
		}
		if (old + oldlen == v->end && old + newlen <= USER_TOP && range_free(mm, v->end, old + newlen)) {
			v->end = old + newlen;
			if (v->file_end == old + oldlen && !v->file)
				v->file_end = v->end;
			r = old;
			goto out;
		}
		if (!(flags & MREMAP_MAYMOVE)) {
			r = -ENOMEM;
			goto out;
		}
		newaddr = find_free(mm, newlen, USER_MMAP_TOP);
		if (!newaddr) {
			r = -ENOMEM;
			goto out;
		}
	} else {
		if ((newaddr & (PAGE_SIZE - 1)) || newaddr + newlen > USER_TOP ||
		    (newaddr < old + oldlen && old < newaddr + newlen)) {
			r = -EINVAL;
			goto out;
		}
		if ((r = unmap_locked(mm, newaddr, newaddr + newlen)))
			goto out;
		v = find(mm, old);
	}
	/* Move: isolate [old, old+oldlen) as one area, then shift it and its pages. */
	if ((r = carve(mm, old, old + oldlen)))
		goto out;
	v = find(mm, old);
	struct move_ctx m = { mm, (intptr_t)(newaddr - old), 0 };
	size_t keep = MIN(oldlen, newlen);
	for_each_pte(mm, old, old + keep, move_pte, &m);
	flush(mm, old, keep);
	if (m.err) {
		r = m.err;
		goto out;
	}
	free_range(mm, old + keep, old + oldlen);
	list_remove(&v->node);
	v->file_end = v->file ? v->file_end - old + newaddr : newaddr + newlen;
	v->start = newaddr;
	v->end = newaddr + newlen;
	insert(mm, v);
	r = newaddr;
out:
	spin_unlock_irqrestore(&mm->lock, f);
	return r;
}

int uvm_discard(uintptr_t addr, size_t len)
{
	struct mm *mm = cur();
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	uint64_t f = spin_lock_irqsave(&mm->lock);
	free_range(mm, addr, addr + len);
	spin_unlock_irqrestore(&mm->lock, f);
	return 0;
}

void uvm_brk_init(uintptr_t start)
{
	struct mm *mm = cur();
	mm->brk_start = mm->brk_cur = start;
}

uintptr_t uvm_brk(uintptr_t newbrk)
{
	struct mm *mm = cur();
	uint64_t f = spin_lock_irqsave(&mm->lock);
	if (newbrk < mm->brk_start || newbrk > USER_MMAP_TOP) {
		uintptr_t now = mm->brk_cur;
		spin_unlock_irqrestore(&mm->lock, f);
		return now;
	}
	uintptr_t oldend = ALIGN_UP(mm->brk_cur, PAGE_SIZE), newend = ALIGN_UP(newbrk, PAGE_SIZE);
	if (newend > oldend) {
		if (!range_free(mm, oldend, newend))
			goto out;
		struct vma *v = oldend > mm->brk_start ? find(mm, oldend - 1) : NULL;
		if (v && v->name && !strcmp(v->name, "[heap]") && v->end == oldend) {
			v->end = newend;
		} else {
			v = kzalloc(sizeof(*v));
			if (!v)
				goto out;
			*v = (struct vma){ .start = oldend, .end = newend, .prot = PROT_READ | PROT_WRITE,
					   .flags = MAP_PRIVATE | MAP_ANONYMOUS, .name = "[heap]" };
			insert(mm, v);
		}
	} else if (newend < oldend) {
		unmap_locked(mm, newend, oldend);
	}
	mm->brk_cur = newbrk;
out:;
	uintptr_t now = mm->brk_cur;
	spin_unlock_irqrestore(&mm->lock, f);
	return now;
}

/* --- faults --- */

#define PF_PRESENT 1
#define PF_WRITE 2
#define PF_USER 4
#define PF_FETCH 16

static void out_of_memory(struct mm *mm, uintptr_t va)
{
	static bool told;
	if (!told) {
		told = true;
		printk(LOG_ERR, "osvb: out of memory: no page for the application at %#lx (%lu KiB in use); "
		       "give the VM more memory\n", (unsigned long)va, (unsigned long)(mm->resident * 4));
	}
}

/* Fill a fresh page for va of area v; mm->lock held, its saved flags in *f.
 * Reading a file may sleep (9p, a disk), so the lock is dropped around the
 * read and the area looked up again afterwards: it may have been unmapped or
 * replaced, or another thread may have filled the page. Returns 0 when the
 * caller should look at the entry again (normally: filled), else an errno. */
static int fill(struct mm *mm, struct vma *v, uintptr_t va, uint64_t *f)
{
	void *page = page_alloc(0, PAGE_ZERO);
	if (!page) {
		out_of_memory(mm, va);
		return -ENOMEM;
	}
	if (v->file && va < v->file_end) {
		struct file *file = file_get(v->file);
		uint64_t off = v->off + (va - v->start);
		size_t n = MIN(PAGE_SIZE, v->file_end - va);
		spin_unlock_irqrestore(&mm->lock, *f);
		ssize_t got = vfs_pread_full(file, page, n, off);
		*f = spin_lock_irqsave(&mm->lock);
		v = find(mm, va);
		bool same = v && v->file == file && v->off + (va - v->start) == off;
		file_put(file);
		if (got < 0 || !same) {
			page_free(page, 0);
			return got < 0 && same ? (int)got : 0;
		}
	}
	pte_t *e = leaf(mm, va, true);
	if (!e) {
		page_free(page, 0);
		return -ENOMEM;
	}
	if (*e & (PTE_P | PTE_SOFT_NONE)) {
		page_free(page, 0); /* another thread filled it meanwhile */
		return 0;
	}
	paddr_t pa = virt_to_phys(page);
	page_ref_init(pa);
	*e = pa | prot_bits(v->prot);
	mm->resident++;
	return 0;
}

/* A write to a private page that other address spaces map too: give this
 * one its own copy (the last mapping just takes the page). mm->lock held. */
static int copy_on_write(struct mm *mm, struct vma *v, uintptr_t va, pte_t *e)
{
	paddr_t old = *e & PTE_ADDR_MASK;
	if (page_ref_count(old) == 1) {
		*e = old | prot_bits(v->prot);
		flush(mm, va, PAGE_SIZE);
		return 0;
	}
	void *page = page_alloc(0, 0);
	if (!page) {
		out_of_memory(mm, va);
		return -ENOMEM;
	}
	memcpy(page, phys_to_virt(old), PAGE_SIZE);
	paddr_t pa = virt_to_phys(page);
	page_ref_init(pa);
	*e = pa | prot_bits(v->prot);
	/* Other threads of this address space must stop reading the old page
	 * before it can go. */
	flush(mm, va, PAGE_SIZE);
	page_unref(old);
	return 0;
}

bool uvm_handle_fault(uintptr_t addr, uint64_t error)
{
	uintptr_t va = ALIGN_DOWN(addr, PAGE_SIZE);
	struct mm *mm = cur();
	bool ok = false;

	if (addr >= USER_TOP || !mm)
		return false;
	uint64_t f = spin_lock_irqsave(&mm->lock);
	struct vma *v = find(mm, addr);
	if (!v)
		goto out;
	if ((error & PF_WRITE) && !(v->prot & PROT_WRITE))
		goto out;
	if ((error & PF_FETCH) && !(v->prot & PROT_EXEC))
		goto out;
	if (!(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
		goto out;
	pte_t *e = leaf(mm, va, true);
	if (!e)
		goto out;
	if ((*e & PTE_SOFT_NONE) && !(*e & PTE_P)) {
		paddr_t pa = *e & PTE_ADDR_MASK;
		*e = pa | pte_bits(v, pa);
		invlpg(va);
	}
	if (*e & PTE_P) {
		if ((error & PF_WRITE) && !(*e & PTE_W)) {
			ok = copy_on_write(mm, v, va, e) == 0;
			goto out;
		}
		/* Present and allowed by the area: a stale entry was fixed already
		 * (another CPU may have filled the page while we waited for the
		 * mm->lock), or this is a kernel access that must not be retried (e.g.
		 * SMAP). Only a protection fault from kernel mode is the latter. */
		paddr_t pa = *e & PTE_ADDR_MASK;
		uint64_t want = pte_bits(v, pa);
		if ((*e & ~PTE_ADDR_MASK & ~(PTE_A | PTE_D)) != want) {
			*e = pa | want;
			invlpg(va);
			ok = true;
		} else {
			invlpg(va);
			ok = (error & PF_USER) || !(error & PF_PRESENT);
		}
		goto out;
	}
	ok = fill(mm, v, va, &f) == 0; /* on a changed area the access retries */
out:
	spin_unlock_irqrestore(&mm->lock, f);
	return ok;
}

int uvm_populate(uintptr_t addr, size_t len)
{
	struct mm *mm = cur();
	if (!mm)
		return -EFAULT;
	for (uintptr_t va = ALIGN_DOWN(addr, PAGE_SIZE); va < addr + len; va += PAGE_SIZE) {
		uint64_t f = spin_lock_irqsave(&mm->lock);
		int r = 0;
		for (;;) {
			struct vma *v = find(mm, va);
			pte_t *e = v ? leaf(mm, va, true) : NULL;
			if (v && !e)
				r = -ENOMEM;
			if (!e || r || (*e & (PTE_P | PTE_SOFT_NONE)))
				break;
			r = fill(mm, v, va, &f);
		}
		spin_unlock_irqrestore(&mm->lock, f);
		if (r)
			return r;
	}
	return 0;
}

bool uvm_shared_phys(uintptr_t va, paddr_t *pa)
{
	struct mm *mm = cur();
	if (!mm || va >= USER_TOP)
		return false;
	uint64_t f = spin_lock_irqsave(&mm->lock);
	struct vma *v = find(mm, va);
	pte_t *e = v && shared(v) ? leaf(mm, va, false) : NULL;
	bool ok = e && (*e & PTE_P);
	if (ok)
		*pa = (*e & PTE_ADDR_MASK) | (va & (PAGE_SIZE - 1));
	spin_unlock_irqrestore(&mm->lock, f);
	return ok;
}

size_t uvm_format_maps(char *buf, size_t size)
{
	struct mm *mm = cur();
	size_t n = 0;
	if (!mm)
		return 0;
	struct vma *v;

	uint64_t f = spin_lock_irqsave(&mm->lock);
	list_for_each_entry(v, &mm->vmas, node) {
		if (n >= size)
			break;
		const char *name = v->name ? v->name : v->file && v->file->path ? v->file->path : "";
		n += snprintf(buf + n, size - n, "%012lx-%012lx %c%c%c%c %08lx %02x:%02x %-10lu %s\n",
			      (unsigned long)v->start, (unsigned long)v->end, (v->prot & PROT_READ) ? 'r' : '-',
			      (v->prot & PROT_WRITE) ? 'w' : '-', (v->prot & PROT_EXEC) ? 'x' : '-',
			      (v->flags & MAP_TYPE) == MAP_SHARED ? 's' : 'p', (unsigned long)(v->file ? v->off : 0),
			      0, v->file ? (unsigned)v->file->inode->sb->dev : 0,
			      (unsigned long)(v->file ? v->file->inode->ino : 0), name);
	}
	spin_unlock_irqrestore(&mm->lock, f);
	return n < size ? n : size;
}


/* --- address spaces --- */

struct mm *uvm_mm_new(void)
{
	struct mm *m = kzalloc(sizeof(*m));
	if (!m)
		return NULL;
	m->root = vm_user_root_new();
	if (!m->root) {
		kfree(m);
		return NULL;
	}
	list_init(&m->vmas);
	spin_init(&m->lock);
	m->refs = 1;
	return m;
}

void uvm_mm_get(struct mm *m)
{
	__atomic_fetch_add(&m->refs, 1, __ATOMIC_RELAXED);
}

void uvm_mm_activate(struct mm *m)
{
	struct percpu *c = this_cpu();
	struct mm *old = c->mm;
	if (!m || m == old)
		return;
	unsigned id = c->cpu_id;
	if (id < 64)
		__atomic_fetch_or(&m->cpus, 1ull << id, __ATOMIC_SEQ_CST);
	c->mm = m;
	vm_load_root(m->root);
	if (old && id < 64)
		__atomic_fetch_and(&old->cpus, ~(1ull << id), __ATOMIC_SEQ_CST);
}

struct mm *uvm_mm_current(void)
{
	return cur();
}

/* This CPU stops using m (it may still be loaded lazily under a kernel thread). */
static void drop_cpu(void *arg)
{
	struct mm *m = arg;
	uint64_t f = irq_save();
	struct percpu *c = this_cpu();
	if (c->mm == m) {
		c->mm = NULL;
		vm_load_root(NULL);
		if (c->cpu_id < 64)
			__atomic_fetch_and(&m->cpus, ~(1ull << c->cpu_id), __ATOMIC_SEQ_CST);
	}
	irq_restore(f);
}

void uvm_mm_put(struct mm *m)
{
	if (__atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* No thread uses it any more; CPUs that ran one may still have it in CR3. */
	drop_cpu(m);
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (c != this_cpu_id() && cpu_online(c) && (c >= 64 || (__atomic_load_n(&m->cpus, __ATOMIC_SEQ_CST) & (1ull << c))))
			smp_call_function(c, drop_cpu, m, true);
	struct mm *mm = m;
	struct gather g = { .mm = m };
	/* No CPU has it loaded: the pages can go without shootdowns. */
	g.mm->cpus = 0;
	for_each_pte(mm, 0, USER_TOP, free_pte, &g);
	gather_flush(&g);
	while (!list_empty(&mm->vmas))
		vma_free(list_entry(mm->vmas.next, struct vma, node));
	vm_user_root_free(m->root);
	kfree(m);
}

/* Share the page of e with the child (copy-on-write for private areas). */
struct fork_ctx {
	struct mm *child;
	const struct vma *v;
	int err;
};

static void fork_pte(pte_t *e, uintptr_t va, void *ctx)
{
	struct fork_ctx *fc = ctx;
	if (fc->err)
		return;
	pte_t *ne = leaf(fc->child, va, true);
	if (!ne) {
		fc->err = -ENOMEM;
		return;
	}
	if (!shared(fc->v))
		*e &= ~PTE_W;
	page_ref_inc(*e & PTE_ADDR_MASK);
	*ne = *e & ~(PTE_A | PTE_D);
	fc->child->resident++;
}

/* Every page of the current address space's MAP_SHARED areas exists after
 * this, or each side of a fork would fault in its own later. (Filling may
 * read a file and sleep, so this runs before the copy takes the lock.) */
static int populate_shared(struct mm *mm)
{
	for (uintptr_t from = 0;;) {
		uintptr_t start = 0, end = 0;
		uint64_t f = spin_lock_irqsave(&mm->lock);
		struct vma *v;
		list_for_each_entry(v, &mm->vmas, node)
			if (v->end > from && shared(v)) {
				start = MAX(v->start, from);
				end = v->end;
				break;
			}
		spin_unlock_irqrestore(&mm->lock, f);
		if (!end)
			return 0;
		int r = uvm_populate(start, end - start);
		if (r)
			return r;
		from = end;
	}
}

struct mm *uvm_mm_fork(int *err)
{
	struct mm *mm = cur();
	struct mm *child = mm ? uvm_mm_new() : NULL;
	*err = -ENOMEM;
	if (!child)
		return NULL;
	int r = populate_shared(mm);
	if (r) {
		uvm_mm_put(child);
		*err = r;
		return NULL;
	}
	uint64_t f = spin_lock_irqsave(&mm->lock);
	struct vma *v;
	list_for_each_entry(v, &mm->vmas, node) {
		struct vma *c = kmalloc(sizeof(*c));
		if (!c) {
			r = -ENOMEM;
			break;
		}
		*c = *v;
		if (c->file)
			file_get(c->file);
		list_push_back(&child->vmas, &c->node);
		struct fork_ctx fc = { child, v, 0 };
		for_each_pte(mm, v->start, v->end, fork_pte, &fc);
		if ((r = fc.err))
			break;
	}
	child->brk_start = mm->brk_start;
	child->brk_cur = mm->brk_cur;
	/* The parent's writable entries became read-only. */
	flush(mm, 0, 0);
	spin_unlock_irqrestore(&mm->lock, f);
	if (r) {
		uvm_mm_put(child);
		*err = r;
		return NULL;
	}
	return child;
}
