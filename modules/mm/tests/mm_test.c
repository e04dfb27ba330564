#include <selftest/selftest.h>
#include <arch/cpu.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <mm/vm.h>
#include <mm/vmap.h>

SELFTEST(page_alloc, "mm.page_alloc")
{
	void *blocks[PAGE_MAX_ORDER + 1];
	size_t before = page_free_count();

	for (unsigned o = 0; o <= PAGE_MAX_ORDER; o++) {
		blocks[o] = page_alloc(o, PAGE_ZERO);
		ST_ASSERT(blocks[o] != NULL);
		ST_EXPECT(IS_ALIGNED(virt_to_phys(blocks[o]), PAGE_SIZE << o));
		const uint64_t *w = blocks[o];
		ST_EXPECT(w[0] == 0 && w[(PAGE_SIZE << o) / 8 - 1] == 0);
		memset(blocks[o], 0xa0 + o, PAGE_SIZE << o);
	}
	/* No block overlaps another: each still holds its own pattern. */
	for (unsigned o = 0; o <= PAGE_MAX_ORDER; o++) {
		const uint8_t *b = blocks[o];
		ST_EXPECT(b[0] == 0xa0 + o && b[(PAGE_SIZE << o) - 1] == 0xa0 + o);
	}
	ST_EXPECT_EQ(page_free_count(), before - ((2ul << PAGE_MAX_ORDER) - 1));
	for (unsigned o = 0; o <= PAGE_MAX_ORDER; o++)
		page_free(blocks[o], o);
	ST_EXPECT_EQ(page_free_count(), before);

	paddr_t low = page_alloc_phys(0, PAGE_DMA32);
	ST_EXPECT(low != 0 && low < (4ull << 30));
	page_free_phys(low, 0);
	ST_EXPECT(page_alloc(PAGE_MAX_ORDER + 1, 0) == NULL);
}

/* Take every free page (chained through the pages themselves), check the count
 * matches the allocator's own, then give them all back. */
SELFTEST(page_exhaust, "mm.page_exhaust")
{
	size_t before = page_free_count(), n = 0;
	void *head = NULL, *p;

	while ((p = page_alloc(0, 0))) {
		*(void **)p = head;
		head = p;
		n++;
	}
	ST_EXPECT_EQ(n, before);
	ST_EXPECT_EQ(page_free_count(), 0);
	while (head) {
		p = *(void **)head;
		page_free(head, 0);
		head = p;
	}
	ST_EXPECT_EQ(page_free_count(), before);
	/* Buddies merged again: a large block is available. */
	p = page_alloc(PAGE_MAX_ORDER, 0);
	ST_EXPECT(p != NULL);
	page_free(p, PAGE_MAX_ORDER);
}

SELFTEST(kmalloc, "mm.kmalloc")
{
	static void *ptrs[512];
	static size_t sizes[512];
	uint32_t seed = 12345;
	size_t before = page_free_count();

	for (int i = 0; i < 512; i++) {
		seed = seed * 1103515245 + 12345;
		size_t sz = 1 + (seed >> 8) % (i % 8 == 7 ? 20000 : 600);
		ptrs[i] = kmalloc(sz);
		sizes[i] = sz;
		ST_ASSERT(ptrs[i] != NULL);
		ST_EXPECT(kmalloc_size(ptrs[i]) >= sz);
		/* Small objects are aligned to their power-of-two class, large ones to pages. */
		size_t align = 16;
		while (align < sz)
			align <<= 1;
		if (sz > 2048)
			align = PAGE_SIZE;
		ST_EXPECT(IS_ALIGNED((uintptr_t)ptrs[i], align));
		memset(ptrs[i], i & 0xff, sz);
	}
	for (int i = 0; i < 512; i++) {
		const uint8_t *b = ptrs[i];
		if (b[0] != (i & 0xff) || b[sizes[i] - 1] != (i & 0xff)) {
			ST_EXPECT(!"allocation overwritten by another");
			break;
		}
	}
	for (int i = 0; i < 512; i += 2)
		kfree(ptrs[i]);
	for (int i = 1; i < 512; i += 2)
		kfree(ptrs[i]);
	/* Freed slabs go back to the page allocator (one empty slab per size class may stay cached). */
	ST_EXPECT_GE(page_free_count() + 8, before);
	ST_EXPECT(kzalloc(0) != NULL);
	ST_EXPECT(kcalloc(~0ul / 2, 4) == NULL);
	uint8_t *z = kzalloc(100);
	ST_EXPECT(z && z[0] == 0 && z[99] == 0);
	kfree(z);
	kfree(NULL);
}

SELFTEST(kstack_guard, "mm.kstack_guard")
{
	pte_t *root = vm_kernel_root();
	uint8_t *s = kstack_alloc();

	ST_ASSERT(s != NULL);
	ST_EXPECT(vm_translate(root, (uintptr_t)s, NULL, NULL));
	ST_EXPECT(vm_translate(root, (uintptr_t)s + KSTACK_SIZE - 1, NULL, NULL));
	ST_EXPECT(!vm_translate(root, (uintptr_t)s - 1, NULL, NULL));
	ST_EXPECT(kstack_is_guard((uintptr_t)s - 1));
	ST_EXPECT(!kstack_is_guard((uintptr_t)s));
	s[0] = 1;
	s[KSTACK_SIZE - 1] = 2;
	kstack_free(s);
	ST_EXPECT(!vm_translate(root, (uintptr_t)s, NULL, NULL));
}

SELFTEST(vm_map, "mm.vm_map")
{
	pte_t *root = vm_kernel_root();
	const uintptr_t va = 0x400000; /* where applications are linked; free in the kernel */
	paddr_t pa = page_alloc_phys(0, PAGE_ZERO), got;
	uint64_t flags;

	ST_ASSERT(pa != 0);
	ST_EXPECT(!vm_translate(root, va, NULL, NULL)); /* the lower half is empty */
	ST_ASSERT_EQ(vm_map(root, va, pa, PAGE_SIZE, VM_WRITE), 0);
	ST_EXPECT(vm_translate(root, va + 123, &got, &flags) && got == pa + 123);
	ST_EXPECT((flags & PTE_W) && !(flags & PTE_U));
	ST_EXPECT(!cpu_has(CPU_NX) || (flags & PTE_NX));
	*(volatile uint32_t *)(va + 8) = 0xdeadbeef;
	ST_EXPECT(*(uint32_t *)((char *)phys_to_virt(pa) + 8) == 0xdeadbeef);
	vm_unmap(root, va, PAGE_SIZE);
	ST_EXPECT(!vm_translate(root, va, NULL, NULL));
	ST_EXPECT(vm_map(root, va + 1, pa, PAGE_SIZE, 0) < 0); /* unaligned */
	page_free_phys(pa, 0);

	/* W^X for the kernel image: text is not writable, data is not executable.
	 * (Not _edata: the data segment may end in a freed platform section.) */
	static volatile int in_data = 1;
	ST_EXPECT(vm_translate(root, (uintptr_t)_kernel_start, NULL, &flags) && !(flags & PTE_W));
	ST_EXPECT(vm_translate(root, (uintptr_t)&in_data, NULL, &flags) && (flags & PTE_W) &&
		  (!cpu_has(CPU_NX) || (flags & PTE_NX)));
}

SELFTEST(lower_half_empty, "mm.lower_half_empty")
{
	/* Nothing of the kernel is mapped where the application will live. */
	pte_t *root = vm_kernel_root();
	int used = 0;

	for (int i = 0; i < 256; i++)
		used += (root[i] & PTE_P) != 0;
	ST_EXPECT_EQ(used, 0);
	ST_EXPECT(!vm_translate(root, 0, NULL, NULL));
	ST_EXPECT(!vm_translate(root, 0x100000, NULL, NULL)); /* the kernel's physical load address */
	ST_EXPECT(vm_translate(root, (uintptr_t)_kernel_start, NULL, NULL));
}

SELFTEST(memremap, "mm.memremap")
{
	paddr_t pa = page_alloc_phys(0, PAGE_ZERO);
	ST_ASSERT(pa != 0);
	strlcpy(phys_to_virt(pa) + 100, "through another mapping", 64);
	const char *m = memremap(pa + 100, 64);
	ST_ASSERT(m != NULL);
	ST_EXPECT_STREQ(m, "through another mapping");
	iounmap((void *)m, 64);
	page_free_phys(pa, 0);
}
