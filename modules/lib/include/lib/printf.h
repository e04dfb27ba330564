/* Formatted output into buffers. Supports %d %i %u %x %X %o %p %s %c %%,
 * the h/hh/l/ll/z/t length modifiers, flags "-0+ #", width and precision (also '*'). */
#ifndef LIB_PRINTF_H
#define LIB_PRINTF_H

#include <stdarg.h>
#include <stddef.h>
#include <lib/compiler.h>

/* Returns the length the full output would have (like C99); writes at most size-1 chars + NUL. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
