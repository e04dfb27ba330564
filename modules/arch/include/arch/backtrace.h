/* Frame-pointer backtraces; addresses are printed raw as "  [<addr>]" lines
 * for the host to symbolize from kernel.elf. */
#ifndef ARCH_BACKTRACE_H
#define ARCH_BACKTRACE_H

#include <stdint.h>

/* Print the call chain starting at frame pointer rbp (first printing rip if non-zero). */
void backtrace_print_from(uintptr_t rip, uintptr_t rbp);
/* Print the caller's chain. */
void backtrace_print(void);
/* Is the kernel virtual address currently mapped (walks the live page tables)? */
int arch_addr_mapped(uintptr_t va);

#endif
