/* Runtime disposal: kernel.ld gives each platform (kvm, xen, hyperv, vmware)
 * four page-aligned sections holding the code and data of the sources built
 * for it (module.yaml `platform:`). Once the hypervisor is known, the
 * sections of the platforms not detected are unmapped from the kernel image
 * and their pages given to the page allocator. */
#include <hypervisor/hypervisor.h>
#include <console/printk.h>
#include <lib/printf.h>
#include <mm/page.h>
#include <mm/vm.h>

#define SECTIONS(p)                                                                                        \
	extern char __platform_##p##_text_start[], __platform_##p##_text_end[], __platform_##p##_rodata_start[], \
		__platform_##p##_rodata_end[], __platform_##p##_data_start[], __platform_##p##_data_end[],         \
		__platform_##p##_bss_start[], __platform_##p##_bss_end[]
#define ENTRY(p)                                                                                    \
	{                                                                                           \
		#p,                                                                                 \
		{ (uintptr_t)__platform_##p##_text_start, (uintptr_t)__platform_##p##_rodata_start, \
		  (uintptr_t)__platform_##p##_data_start, (uintptr_t)__platform_##p##_bss_start },  \
		{ (uintptr_t)__platform_##p##_text_end, (uintptr_t)__platform_##p##_rodata_end,     \
		  (uintptr_t)__platform_##p##_data_end, (uintptr_t)__platform_##p##_bss_end },      \
		false,                                                                              \
		0,                                                                                  \
	}

SECTIONS(kvm);
SECTIONS(xen);
SECTIONS(hyperv);
SECTIONS(vmware);

static struct platform_sections platforms[] = { ENTRY(kvm), ENTRY(xen), ENTRY(hyperv), ENTRY(vmware) };
#define NPLAT (sizeof(platforms) / sizeof(platforms[0]))

size_t hypervisor_platforms(const struct platform_sections **out)
{
	*out = platforms;
	return NPLAT;
}

bool hypervisor_code_present(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	for (size_t i = 0; i < NPLAT; i++) {
		if (!platforms[i].disposed)
			continue;
		for (int s = 0; s < 4; s++)
			if (a >= platforms[i].start[s] && a < platforms[i].end[s])
				return false;
	}
	return true;
}

static size_t platform_size(const struct platform_sections *p)
{
	size_t n = 0;
	for (int s = 0; s < 4; s++)
		n += p->end[s] - p->start[s];
	return n;
}

void hypervisor_dispose_unused(void)
{
	char list[160];
	size_t len = 0, freed = 0;

	list[0] = 0;
	for (size_t i = 0; i < NPLAT; i++) {
		struct platform_sections *p = &platforms[i];
		size_t size = platform_size(p);
		if (hypervisor_detected(p->name)) {
			printk(LOG_INFO, "hypervisor: %s detected (%lu KiB of its code kept)\n", p->name,
			       (unsigned long)(size >> 10));
			continue;
		}
		size_t before = page_free_count(); /* exact: the other CPUs are not started yet */
		for (int s = 0; s < 4; s++)
			vm_release_kernel_range(p->start[s], p->end[s]);
		p->released = page_free_count() - before;
		p->disposed = true;
		freed += size;
		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s %lu", len ? ", " : "", p->name,
						 (unsigned long)size);
	}
	printk(LOG_NOTICE, "hypervisor: disposed %s: %lu bytes freed\n", len ? list : "nothing",
	       (unsigned long)freed);
}
