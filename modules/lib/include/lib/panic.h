/* Fatal errors: print, backtrace, then leave the VM with the panic status
 * ("osvb-panic" on COM2, 0x7f to isa-debug-exit). */
#ifndef LIB_PANIC_H
#define LIB_PANIC_H

#include <lib/compiler.h>

void panic(const char *fmt, ...) __noreturn __printf(1, 2);

/* For fault handlers that print their own report: panic_begin() stops
 * interrupts and catches recursive panics; panic_end() prints the panic line
 * and shuts down. */
void panic_begin(void);
void panic_end(const char *fmt, ...) __noreturn __printf(1, 2);

#define assert(cond)                                                                    \
	do {                                                                            \
		if (unlikely(!(cond)))                                                  \
			panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)

#define BUG() panic("BUG at %s:%d", __FILE__, __LINE__)

#endif
