/* x86-64 4-level page table entry bits. */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096ul
#define LARGE_PAGE_SIZE (2ul << 20)

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

typedef uint64_t pte_t;

#define PML4_INDEX(va) (((va) >> 39) & 511)
#define PDPT_INDEX(va) (((va) >> 30) & 511)
#define PD_INDEX(va) (((va) >> 21) & 511)
#define PT_INDEX(va) (((va) >> 12) & 511)

#endif
