/* User address space: areas, page tables of the lower half, demand paging. */
#include <uvm/uvm.h>
#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/memlayout.h>
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

static struct list vmas = LIST_INIT(vmas);
static spinlock_t lock = SPINLOCK_INIT;
static uintptr_t brk_start, brk_cur;
static size_t resident;

size_t uvm_resident_pages(void)
{
	return resident;
}

/* --- page tables --- */

static const int shifts[4] = { 39, 30, 21, 12 };

static pte_t *leaf(uintptr_t va, bool alloc)
{
	pte_t *t = vm_kernel_root();

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
static void for_each_pte(uintptr_t start, uintptr_t end, void (*fn)(pte_t *e, uintptr_t va, void *ctx), void *ctx)
{
	uintptr_t va = start;

	while (va < end) {
		pte_t *t = vm_kernel_root();
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

/* Pages taken out of the page tables, freed only once no CPU can still reach
 * them through its TLB: every CPU shares this address space. */
#define GATHER_PAGES 64

struct gather {
	uintptr_t start, end;
	unsigned n;
	paddr_t pages[GATHER_PAGES];
};

static void gather_flush(struct gather *g)
{
	if (g->end > g->start)
		tlb_shootdown(g->start, g->end - g->start);
	for (unsigned i = 0; i < g->n; i++)
		page_free_phys(g->pages[i], 0);
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
	paddr_t pa = *e & PTE_ADDR_MASK;
	*e = 0;
	gather_add(ctx, va, pa);
	resident--;
}

/* for_each_pte(free_pte) over [start, end), then the shootdown and frees. */
static void free_range(uintptr_t start, uintptr_t end)
{
	struct gather g = { 0 };
	for_each_pte(start, end, free_pte, &g);
	gather_flush(&g);
}

static void reprot_pte(pte_t *e, uintptr_t va, void *ctx)
{
	(void)va;
	*e = (*e & PTE_ADDR_MASK) | *(uint64_t *)ctx;
}

/* --- areas --- */

static struct vma *find(uintptr_t addr)
{
	struct vma *v;
	list_for_each_entry(v, &vmas, node) {
		if (addr < v->start)
			return NULL;
		if (addr < v->end)
			return v;
	}
	return NULL;
}

static bool range_free(uintptr_t start, uintptr_t end)
{
	struct vma *v;
	list_for_each_entry(v, &vmas, node)
		if (v->start < end && start < v->end)
			return false;
	return true;
}

static void insert(struct vma *n)
{
	struct list *pos;
	list_for_each(pos, &vmas) {
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
static int carve(uintptr_t start, uintptr_t end)
{
	struct vma *v = find(start);
	if (v && v->start < start && !split(v, start))
		return -ENOMEM;
	v = find(end - 1);
	if (v && v->end > end && !split(v, end))
		return -ENOMEM;
	return 0;
}

static int unmap_locked(uintptr_t start, uintptr_t end)
{
	int r = carve(start, end);
	if (r)
		return r;
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &vmas) {
		struct vma *v = list_entry(pos, struct vma, node);
		if (v->start >= start && v->end <= end)
			vma_free(v);
	}
	free_range(start, end);
	return 0;
}

/* Highest free gap of len bytes below top. */
static uintptr_t find_free(size_t len, uintptr_t top)
{
	uintptr_t hi = top;
	struct list *pos;

	for (pos = vmas.prev; pos != &vmas; pos = pos->prev) {
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
	if (len == 0 || len > USER_TOP)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && (addr & (PAGE_SIZE - 1)))
		return -EINVAL;
	struct vma *v = kzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;

	uint64_t f = spin_lock_irqsave(&lock);
	long r = 0;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr + len > USER_TOP || addr + len < addr || addr < PAGE_SIZE)
			r = -ENOMEM;
		else if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) && !range_free(addr, addr + len))
			r = -EEXIST;
		else
			r = unmap_locked(addr, addr + len);
	} else {
		addr = ALIGN_DOWN(addr, PAGE_SIZE);
		if (!addr || addr < USER_MMAP_BOTTOM || addr + len > USER_TOP || addr + len < addr ||
		    !range_free(addr, addr + len))
			addr = find_free(len, USER_MMAP_TOP);
		if (!addr)
			addr = find_free(len, USER_STACK_TOP - USER_STACK_SIZE);
		if (!addr)
			r = -ENOMEM;
	}
	if (r) {
		spin_unlock_irqrestore(&lock, f);
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
	insert(v);
	spin_unlock_irqrestore(&lock, f);
	if (flags & MAP_POPULATE)
		uvm_populate(addr, len);
	return addr;
}

int uvm_unmap(uintptr_t addr, size_t len)
{
	if ((addr & (PAGE_SIZE - 1)) || len == 0)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (addr + len > USER_TOP || addr + len < addr)
		return -EINVAL;
	uint64_t f = spin_lock_irqsave(&lock);
	int r = unmap_locked(addr, addr + len);
	spin_unlock_irqrestore(&lock, f);
	return r;
}

bool uvm_range_mapped(uintptr_t addr, size_t len)
{
	uintptr_t end = addr + len;
	bool ok = true;
	uint64_t f = spin_lock_irqsave(&lock);
	while (addr < end) {
		struct vma *v = find(addr);
		if (!v) {
			ok = false;
			break;
		}
		addr = v->end;
	}
	spin_unlock_irqrestore(&lock, f);
	return ok;
}

int uvm_protect(uintptr_t addr, size_t len, unsigned prot)
{
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
	uint64_t f = spin_lock_irqsave(&lock);
	int r = carve(addr, end);
	if (!r) {
		struct vma *v;
		list_for_each_entry(v, &vmas, node)
			if (v->start >= addr && v->end <= end)
				v->prot = prot;
		uint64_t bits = prot_bits(prot);
		for_each_pte(addr, end, reprot_pte, &bits);
		tlb_shootdown(addr, len);
	}
	spin_unlock_irqrestore(&lock, f);
	return r;
}

struct move_ctx {
	intptr_t delta;
	int err;
};

static void move_pte(pte_t *e, uintptr_t va, void *ctx)
{
	struct move_ctx *m = ctx;
	pte_t *n = leaf(va + m->delta, true);
	if (!n) {
		m->err = -ENOMEM;
		return;
	}
	*n = *e;
	*e = 0;
}

long uvm_remap(uintptr_t old, size_t oldlen, size_t newlen, unsigned flags, uintptr_t newaddr)
{
	if ((old & (PAGE_SIZE - 1)) || newlen == 0 || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	oldlen = ALIGN_UP(oldlen, PAGE_SIZE);
	newlen = ALIGN_UP(newlen, PAGE_SIZE);
	if (newlen > USER_TOP || oldlen > USER_TOP)
		return -ENOMEM;

	uint64_t f = spin_lock_irqsave(&lock);
	long r;
	struct vma *v = find(old);
	if (!v || old + oldlen > v->end || oldlen == 0) {
		r = -EFAULT;
		goto out;
	}
	if (!(flags & MREMAP_FIXED)) {
		if (newlen <= oldlen) {
			r = unmap_locked(old + newlen, old + oldlen);
			r = r ? r : (long)old;
			goto out;
		}
		if (old + oldlen == v->end && old + newlen <= USER_TOP && range_free(v->end, old + newlen)) {
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
		newaddr = find_free(newlen, USER_MMAP_TOP);
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
		if ((r = unmap_locked(newaddr, newaddr + newlen)))
			goto out;
		v = find(old);
	}
	/* Move: isolate [old, old+oldlen) as one area, then shift it and its pages. */
	if ((r = carve(old, old + oldlen)))
		goto out;
	v = find(old);
	struct move_ctx m = { (intptr_t)(newaddr - old), 0 };
	size_t keep = MIN(oldlen, newlen);
	for_each_pte(old, old + keep, move_pte, &m);
	tlb_shootdown(old, keep);
	if (m.err) {
		r = m.err;
		goto out;
	}
	free_range(old + keep, old + oldlen);
	list_remove(&v->node);
	v->file_end = v->file ? v->file_end - old + newaddr : newaddr + newlen;
	v->start = newaddr;
	v->end = newaddr + newlen;
	insert(v);
	r = newaddr;
out:
	spin_unlock_irqrestore(&lock, f);
	return r;
}

int uvm_discard(uintptr_t addr, size_t len)
{
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	uint64_t f = spin_lock_irqsave(&lock);
	free_range(addr, addr + len);
	spin_unlock_irqrestore(&lock, f);
	return 0;
}

void uvm_reset(void)
{
	uint64_t f = spin_lock_irqsave(&lock);
	unmap_locked(0, USER_TOP);
	brk_start = brk_cur = 0;
	spin_unlock_irqrestore(&lock, f);
}

void uvm_brk_init(uintptr_t start)
{
	brk_start = brk_cur = start;
}

uintptr_t uvm_brk(uintptr_t newbrk)
{
	uint64_t f = spin_lock_irqsave(&lock);
	if (newbrk < brk_start || newbrk > USER_MMAP_TOP) {
		uintptr_t cur = brk_cur;
		spin_unlock_irqrestore(&lock, f);
		return cur;
	}
	uintptr_t oldend = ALIGN_UP(brk_cur, PAGE_SIZE), newend = ALIGN_UP(newbrk, PAGE_SIZE);
	if (newend > oldend) {
		if (!range_free(oldend, newend))
			goto out;
		struct vma *v = oldend > brk_start ? find(oldend - 1) : NULL;
		if (v && v->name && !strcmp(v->name, "[heap]") && v->end == oldend) {
			v->end = newend;
		} else {
			v = kzalloc(sizeof(*v));
			if (!v)
				goto out;
			*v = (struct vma){ .start = oldend, .end = newend, .prot = PROT_READ | PROT_WRITE,
					   .flags = MAP_PRIVATE | MAP_ANONYMOUS, .name = "[heap]" };
			insert(v);
		}
	} else if (newend < oldend) {
		unmap_locked(newend, oldend);
	}
	brk_cur = newbrk;
out:;
	uintptr_t cur = brk_cur;
	spin_unlock_irqrestore(&lock, f);
	return cur;
}

/* --- faults --- */

#define PF_PRESENT 1
#define PF_WRITE 2
#define PF_USER 4
#define PF_FETCH 16

/* Fill a fresh page for va of area v; lock held, its saved flags in *f.
 * Reading a file may sleep (9p, a disk), so the lock is dropped around the
 * read and the area looked up again afterwards: it may have been unmapped or
 * replaced, or another thread may have filled the page. Returns 0 when the
 * caller should look at the entry again (normally: filled), else an errno. */
static int fill(struct vma *v, uintptr_t va, uint64_t *f)
{
	void *page = page_alloc(0, PAGE_ZERO);
	if (!page) {
		static bool told;
		if (!told) {
			told = true;
			printk(LOG_ERR, "osvb: out of memory: no page for the application at %#lx (%lu KiB in use); "
			       "give the VM more memory\n", (unsigned long)va, (unsigned long)(resident * 4));
		}
		return -ENOMEM;
	}
	if (v->file && va < v->file_end) {
		struct file *file = file_get(v->file);
		uint64_t off = v->off + (va - v->start);
		size_t n = MIN(PAGE_SIZE, v->file_end - va);
		spin_unlock_irqrestore(&lock, *f);
		ssize_t got = vfs_pread_full(file, page, n, off);
		*f = spin_lock_irqsave(&lock);
		v = find(va);
		bool same = v && v->file == file && v->off + (va - v->start) == off;
		file_put(file);
		if (got < 0 || !same) {
			page_free(page, 0);
			return got < 0 && same ? (int)got : 0;
		}
	}
	pte_t *e = leaf(va, true);
	if (!e) {
		page_free(page, 0);
		return -ENOMEM;
	}
	if (*e & (PTE_P | PTE_SOFT_NONE)) {
		page_free(page, 0); /* another thread filled it meanwhile */
		return 0;
	}
	*e = virt_to_phys(page) | prot_bits(v->prot);
	resident++;
	return 0;
}

bool uvm_handle_fault(uintptr_t addr, uint64_t error)
{
	uintptr_t va = ALIGN_DOWN(addr, PAGE_SIZE);
	bool ok = false;

	if (addr >= USER_TOP)
		return false;
	uint64_t f = spin_lock_irqsave(&lock);
	struct vma *v = find(addr);
	if (!v)
		goto out;
	if ((error & PF_WRITE) && !(v->prot & PROT_WRITE))
		goto out;
	if ((error & PF_FETCH) && !(v->prot & PROT_EXEC))
		goto out;
	if (!(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
		goto out;
	pte_t *e = leaf(va, true);
	if (!e)
		goto out;
	if (*e & PTE_P) {
		/* Present and allowed by the area: a stale entry was fixed already
		 * (another CPU may have filled the page while we waited for the
		 * lock), or this is a kernel access that must not be retried (e.g.
		 * SMAP). Only a protection fault from kernel mode is the latter. */
		uint64_t want = prot_bits(v->prot);
		if ((*e & ~PTE_ADDR_MASK) != want) {
			*e = (*e & PTE_ADDR_MASK) | want;
			invlpg(va);
			ok = true;
		} else {
			invlpg(va);
			ok = (error & PF_USER) || !(error & PF_PRESENT);
		}
		goto out;
	}
	if (*e & PTE_SOFT_NONE) {
		*e = (*e & PTE_ADDR_MASK) | prot_bits(v->prot);
		invlpg(va);
		ok = true;
		goto out;
	}
	ok = fill(v, va, &f) == 0; /* on a changed area the access retries */
out:
	spin_unlock_irqrestore(&lock, f);
	return ok;
}

int uvm_populate(uintptr_t addr, size_t len)
{
	for (uintptr_t va = ALIGN_DOWN(addr, PAGE_SIZE); va < addr + len; va += PAGE_SIZE) {
		uint64_t f = spin_lock_irqsave(&lock);
		int r = 0;
		for (;;) {
			struct vma *v = find(va);
			pte_t *e = v ? leaf(va, true) : NULL;
			if (v && !e)
				r = -ENOMEM;
			if (!e || r || (*e & (PTE_P | PTE_SOFT_NONE)))
				break;
			r = fill(v, va, &f);
		}
		spin_unlock_irqrestore(&lock, f);
		if (r)
			return r;
	}
	return 0;
}

size_t uvm_format_maps(char *buf, size_t size)
{
	size_t n = 0;
	struct vma *v;

	uint64_t f = spin_lock_irqsave(&lock);
	list_for_each_entry(v, &vmas, node) {
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
	spin_unlock_irqrestore(&lock, f);
	return n < size ? n : size;
}

/* --- snapshots (fork emulation) --- */

struct saved_page {
	uintptr_t va;
	pte_t pte; /* the copy's physical address with the original flags */
};

struct uvm_snapshot {
	struct list vmas;
	uintptr_t brk_start, brk_cur;
	struct saved_page *pages;
	size_t n, cap;
	bool failed;
};

static void save_pte(pte_t *e, uintptr_t va, void *ctx)
{
	struct uvm_snapshot *s = ctx;
	if (s->failed)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct saved_page *p = kmalloc(cap * sizeof(*p));
		if (!p) {
			s->failed = true;
			return;
		}
		if (s->pages)
			memcpy(p, s->pages, s->n * sizeof(*p));
		kfree(s->pages);
		s->pages = p;
		s->cap = cap;
	}
	void *copy = page_alloc(0, 0);
	if (!copy) {
		s->failed = true;
		return;
	}
	memcpy(copy, phys_to_virt(*e & PTE_ADDR_MASK), PAGE_SIZE);
	s->pages[s->n++] = (struct saved_page){ va, virt_to_phys(copy) | (*e & ~PTE_ADDR_MASK) };
}

static void snapshot_free(struct uvm_snapshot *s, bool pages)
{
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &s->vmas)
		vma_free(list_entry(pos, struct vma, node));
	if (pages)
		for (size_t i = 0; i < s->n; i++)
			page_free_phys(s->pages[i].pte & PTE_ADDR_MASK, 0);
	kfree(s->pages);
	kfree(s);
}

struct uvm_snapshot *uvm_snapshot(void)
{
	struct uvm_snapshot *s = kzalloc(sizeof(*s));
	if (!s)
		return NULL;
	list_init(&s->vmas);
	uint64_t f = spin_lock_irqsave(&lock);
	struct vma *v;
	list_for_each_entry(v, &vmas, node) {
		struct vma *c = kmalloc(sizeof(*c));
		if (!c) {
			s->failed = true;
			break;
		}
		*c = *v;
		if (c->file)
			file_get(c->file);
		list_push_back(&s->vmas, &c->node);
	}
	s->brk_start = brk_start;
	s->brk_cur = brk_cur;
	if (!s->failed)
		for_each_pte(0, USER_TOP, save_pte, s);
	spin_unlock_irqrestore(&lock, f);
	if (s->failed) {
		snapshot_free(s, true);
		return NULL;
	}
	return s;
}

void uvm_restore(struct uvm_snapshot *s)
{
	uint64_t f = spin_lock_irqsave(&lock);
	unmap_locked(0, USER_TOP);
	while (!list_empty(&s->vmas)) {
		struct vma *v = list_entry(list_pop_front(&s->vmas), struct vma, node);
		insert(v);
	}
	for (size_t i = 0; i < s->n; i++) {
		pte_t *e = leaf(s->pages[i].va, true);
		if (!e)
			panic("uvm: out of memory for page tables restoring an address space");
		*e = s->pages[i].pte;
		resident++;
	}
	tlb_shootdown(0, 0);
	brk_start = s->brk_start;
	brk_cur = s->brk_cur;
	spin_unlock_irqrestore(&lock, f);
	snapshot_free(s, false);
}
