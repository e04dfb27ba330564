/* Kernel stacks in fixed 64 KiB slots of the stack area: the lowest page of a
 * slot is never mapped, so running off the bottom of a stack faults (and the
 * double-fault handler reports it) instead of corrupting memory. */
#include "page_internal.h"
#include <mm/vmap.h>
#include <mm/vm.h>
#include <arch/spinlock.h>
#include <lib/panic.h>

#define SLOT_SIZE (64ul << 10)
#define NSLOTS 16384
STATIC_ASSERT(KSTACK_SIZE + PAGE_SIZE <= SLOT_SIZE, "kernel stack too large for its slot");

static uint64_t slot_bitmap[NSLOTS / 64];
static unsigned slot_hint;
static spinlock_t lock = SPINLOCK_INIT;
static uintptr_t ioremap_next = IOREMAP_BASE;

static uintptr_t slot_bottom(unsigned slot)
{
	/* Guard page first, then the stack. */
	return KSTACK_AREA_BASE + slot * SLOT_SIZE + SLOT_SIZE - KSTACK_SIZE;
}

void *kstack_alloc(void)
{
	uint64_t f = spin_lock_irqsave(&lock);
	unsigned slot = NSLOTS;
	for (unsigned i = 0; i < NSLOTS; i++) {
		unsigned s = (slot_hint + i) % NSLOTS;
		if (!(slot_bitmap[s / 64] & (1ull << (s % 64)))) {
			slot = s;
			slot_bitmap[s / 64] |= 1ull << (s % 64);
			slot_hint = s + 1;
			break;
		}
	}
	spin_unlock_irqrestore(&lock, f);
	if (slot == NSLOTS)
		return NULL;

	uintptr_t bottom = slot_bottom(slot);
	for (size_t off = 0; off < KSTACK_SIZE; off += PAGE_SIZE) {
		paddr_t pa = page_alloc_phys(0, 0);
		if (!pa || vm_map(vm_kernel_root(), bottom + off, pa, PAGE_SIZE, VM_WRITE | VM_GLOBAL)) {
			if (pa)
				page_free_phys(pa, 0);
			/* Undo what was mapped. */
			for (size_t o = 0; o < off; o += PAGE_SIZE) {
				paddr_t p;
				if (vm_translate(vm_kernel_root(), bottom + o, &p, NULL))
					page_free_phys(p, 0);
			}
			vm_unmap(vm_kernel_root(), bottom, off);
			f = spin_lock_irqsave(&lock);
			slot_bitmap[slot / 64] &= ~(1ull << (slot % 64));
			spin_unlock_irqrestore(&lock, f);
			return NULL;
		}
	}
	return (void *)bottom;
}

void kstack_free(void *bottom)
{
	uintptr_t b = (uintptr_t)bottom;
	unsigned slot = (b - KSTACK_AREA_BASE) / SLOT_SIZE;

	if (b < KSTACK_AREA_BASE || slot >= NSLOTS || b != slot_bottom(slot))
		panic("kstack_free: %p is not a kernel stack", bottom);
	paddr_t pages[KSTACK_SIZE / PAGE_SIZE];
	for (size_t off = 0; off < KSTACK_SIZE; off += PAGE_SIZE)
		if (!vm_translate(vm_kernel_root(), b + off, &pages[off / PAGE_SIZE], NULL))
			pages[off / PAGE_SIZE] = 0;
	/* Unmapped (on every CPU) before the pages can be handed out again. */
	vm_unmap(vm_kernel_root(), b, KSTACK_SIZE);
	for (size_t i = 0; i < KSTACK_SIZE / PAGE_SIZE; i++)
		if (pages[i])
			page_free_phys(pages[i], 0);
	uint64_t f = spin_lock_irqsave(&lock);
	slot_bitmap[slot / 64] &= ~(1ull << (slot % 64));
	spin_unlock_irqrestore(&lock, f);
}

bool kstack_is_guard(uintptr_t addr)
{
	if (addr < KSTACK_AREA_BASE || addr >= KSTACK_AREA_BASE + NSLOTS * SLOT_SIZE)
		return false;
	return (addr - KSTACK_AREA_BASE) % SLOT_SIZE < SLOT_SIZE - KSTACK_SIZE;
}

static void *remap(paddr_t pa, size_t len, unsigned flags)
{
	paddr_t start = ALIGN_DOWN(pa, PAGE_SIZE);
	size_t size = ALIGN_UP(pa + len, PAGE_SIZE) - start;

	uint64_t f = spin_lock_irqsave(&lock);
	uintptr_t va = ioremap_next;
	if (va + size > IOREMAP_BASE + IOREMAP_SIZE || size == 0) {
		spin_unlock_irqrestore(&lock, f);
		return NULL;
	}
	ioremap_next += size + PAGE_SIZE; /* an unmapped page between areas catches overruns */
	spin_unlock_irqrestore(&lock, f);
	if (vm_map(vm_kernel_root(), va, start, size, VM_WRITE | VM_GLOBAL | flags))
		return NULL;
	return (void *)(va + (pa - start));
}

void *ioremap(paddr_t pa, size_t len)
{
	return remap(pa, len, VM_UNCACHED);
}

void *memremap(paddr_t pa, size_t len)
{
	return remap(pa, len, 0);
}

void iounmap(void *va, size_t len)
{
	uintptr_t start = ALIGN_DOWN((uintptr_t)va, PAGE_SIZE);
	vm_unmap(vm_kernel_root(), start, ALIGN_UP((uintptr_t)va + len, PAGE_SIZE) - start);
}
