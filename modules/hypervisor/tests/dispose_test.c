/* Runtime disposal: the freed sections are unmapped from the kernel image and
 * their pages come back from the page allocator. */
#include <hypervisor/hypervisor.h>
#include <console/printk.h>
#include <mm/page.h>
#include <mm/vm.h>
#include <selftest/selftest.h>

static bool in_disposed(paddr_t pa)
{
	const struct platform_sections *p;
	size_t n = hypervisor_platforms(&p);

	for (size_t i = 0; i < n; i++)
		for (int s = 0; p[i].disposed && s < 4; s++)
			if (pa >= virt_to_phys((void *)p[i].start[s]) && pa < virt_to_phys((void *)p[i].end[s]))
				return true;
	return false;
}

/* Every disposed page went to the allocator (its free count rose by as many),
 * none is mapped in the kernel image any more, and the pages are handed out
 * again: allocate every free page below 4 GiB (the kernel image is there),
 * writing a list link into each through the direct map, until every disposed
 * page has been seen or memory runs out; then free them all. The kernel's own
 * allocations since boot (stacks, page tables) hold the ones not seen. */
SELFTEST(dispose_reuse, "hypervisor.dispose_reuse")
{
	const struct platform_sections *p;
	size_t n = hypervisor_platforms(&p), want = 0, seen = 0, got = 0, released = 0;

	for (size_t i = 0; i < n; i++) {
		released += p[i].released;
		for (int s = 0; p[i].disposed && s < 4; s++) {
			want += (p[i].end[s] - p[i].start[s]) / PAGE_SIZE;
			for (uintptr_t va = p[i].start[s]; va < p[i].end[s]; va += PAGE_SIZE)
				ST_EXPECT(!vm_translate(vm_kernel_root(), va, NULL, NULL));
		}
	}
	paddr_t head = 0;
	while (seen < want) {
		paddr_t pa = page_alloc_phys(0, PAGE_DMA32);
		if (!pa)
			break;
		*(volatile paddr_t *)phys_to_virt(pa) = head; /* the direct map is writable now */
		head = pa;
		got++;
		if (in_disposed(pa))
			seen++;
	}
	while (head) {
		paddr_t next = *(volatile paddr_t *)phys_to_virt(head);
		page_free_phys(head, 0);
		head = next;
	}
	printk(LOG_EMERG,
	       "hypervisor: %lu disposed pages released, %lu allocated here again, %lu held by the kernel (%lu "
	       "allocations)\n",
	       (unsigned long)released, (unsigned long)seen, (unsigned long)(want - seen), (unsigned long)got);
	ST_EXPECT_EQ(released, want);
}

/* Explicit: runs the freed code's first byte as data; must fault (panic). */
SELFTEST_FLAGS(dispose_fault, "hypervisor.dispose_fault", SELFTEST_EXPLICIT)
{
	const struct platform_sections *p;
	size_t n = hypervisor_platforms(&p);

	for (size_t i = 0; i < n; i++) {
		if (p[i].disposed && p[i].end[0] > p[i].start[0]) {
			printk(LOG_EMERG, "hypervisor: reading %s's freed text at %016lx\n", p[i].name,
			       (unsigned long)p[i].start[0]);
			(void)*(volatile char *)p[i].start[0];
			ST_EXPECT(!"the read of freed text did not fault");
			return;
		}
	}
	ST_EXPECT(!"no platform's text was freed");
}
