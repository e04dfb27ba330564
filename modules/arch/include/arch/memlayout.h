/* Virtual memory layout (usable from C and assembly).
 *
 *   0x0000000000000000 .. 0x00007fffffffffff  user (the application); empty after boot
 *   0xffff800000000000 .. +64 TiB             direct map of physical RAM
 *   0xffffc00000000000 .. +512 GiB            kernel stacks (with unmapped guard pages)
 *   0xffffc08000000000 .. +512 GiB            ioremap/memremap (MMIO, firmware tables)
 *   0xffffffff80000000 ..                     kernel image (physical 0 + KERNEL_PHYS)
 */
#ifndef ARCH_MEMLAYOUT_H
#define ARCH_MEMLAYOUT_H

#ifdef __ASSEMBLY__
#define _UL(x) x
#else
#define _UL(x) x##ul
#endif

#define KERNEL_VMA _UL(0xffffffff80000000)
#define KERNEL_PHYS _UL(0x100000)
#define DIRECT_MAP_BASE _UL(0xffff800000000000)
#define DIRECT_MAP_SIZE _UL(0x0000400000000000)
#define KSTACK_AREA_BASE _UL(0xffffc00000000000)
#define KSTACK_AREA_SIZE _UL(0x0000008000000000)
#define IOREMAP_BASE _UL(0xffffc08000000000)
#define IOREMAP_SIZE _UL(0x0000008000000000)
#define USER_TOP _UL(0x0000800000000000)

#define BOOT_STACK_SIZE 16384

#ifndef __ASSEMBLY__
#include <stdint.h>
#include <stdbool.h>

typedef uint64_t paddr_t;

/* Physical address <-> direct-map virtual address. */
static inline void *phys_to_virt(paddr_t pa)
{
	return (void *)(pa + DIRECT_MAP_BASE);
}

/* Works for direct-map and kernel-image addresses. */
static inline paddr_t virt_to_phys(const void *va)
{
	uintptr_t v = (uintptr_t)va;
	if (v >= KERNEL_VMA)
		return v - KERNEL_VMA;
	return v - DIRECT_MAP_BASE;
}

static inline bool is_user_addr(uintptr_t va)
{
	return va < USER_TOP;
}

/* Linker-script symbols delimiting the kernel image. */
extern char _kernel_start[], _text_end[], _rodata_end[], _edata[], _kernel_end[];
#endif

#endif
