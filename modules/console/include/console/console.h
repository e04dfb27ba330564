/* Console input (the application's stdin). Output goes through
 * console_write() in <console/printk.h>. */
#ifndef CONSOLE_CONSOLE_H
#define CONSOLE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

/* Copy up to n received bytes; with block, wait until at least one arrived.
 * Bytes arrive once the INIT_DEVICE initcalls ran (interrupt-driven). */
size_t console_read(char *buf, size_t n, bool block);

/* Is there a serial console at all? */
bool console_has_serial(void);

#endif
