/* The real-mode start-up code of the application processors (trampoline.S),
 * copied to a fixed page below 1 MiB: a SIPI starts a CPU at vector << 12. */
#ifndef SMP_TRAMPOLINE_H
#define SMP_TRAMPOLINE_H

#define TRAMP_PHYS 0x8000 /* SIPI vector 0x08; in the first MiB, never handed out by the page allocator */

#ifndef __ASSEMBLY__
#include <stdint.h>

extern const char ap_trampoline[], ap_trampoline_end[];

/* Filled in by the boot CPU for each AP, at the end of the copied page. */
struct ap_tramp_data {
	uint32_t cr3;     /* temporary page tables, below 4 GiB */
	uint32_t efer;    /* bits to set in EFER: LME, NXE */
	uint64_t stack;   /* top of the AP's first (idle) stack */
	uint64_t arg;     /* ap_main's argument */
	uint64_t entry;   /* ap_main, in the kernel's higher half */
};
extern const char ap_tramp_data[];
#endif

#endif
