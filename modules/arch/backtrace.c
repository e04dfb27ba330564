/* Frame-pointer backtraces (the kernel is built with -fno-omit-frame-pointer). */
#include <arch/backtrace.h>
#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/memlayout.h>
#include <console/printk.h>

#define MAX_FRAMES 32

int arch_addr_mapped(uintptr_t va)
{
	pte_t *table = phys_to_virt(read_cr3() & PTE_ADDR_MASK);
	int shifts[4] = { 39, 30, 21, 12 };

	for (int level = 0; level < 4; level++) {
		pte_t e = table[(va >> shifts[level]) & 511];
		if (!(e & PTE_P))
			return 0;
		if (level == 3 || (level > 0 && (e & PTE_PS)))
			return 1;
		table = phys_to_virt(e & PTE_ADDR_MASK);
	}
	return 0;
}

void backtrace_print_from(uintptr_t rip, uintptr_t rbp)
{
	if (rip)
		printk_raw("  [<%016lx>]\n", rip);
	for (int i = 0; i < MAX_FRAMES && rbp; i++) {
		/* Only follow sane, mapped kernel frames; a corrupt chain must not fault. */
		if ((rbp & 7) || rbp < DIRECT_MAP_BASE || !arch_addr_mapped(rbp) ||
		    !arch_addr_mapped(rbp + 15))
			break;
		uintptr_t next = ((uintptr_t *)rbp)[0];
		uintptr_t ret = ((uintptr_t *)rbp)[1];
		if (ret < KERNEL_VMA)
			break;
		printk_raw("  [<%016lx>]\n", ret);
		if (next <= rbp)
			break;
		rbp = next;
	}
}

void backtrace_print(void)
{
	backtrace_print_from(0, (uintptr_t)__builtin_frame_address(0));
}
