/* Kernel heap: power-of-two size classes of 16..2048 bytes carved from pages,
 * larger requests as whole pages. Objects are aligned to their size class
 * (pages for large ones). Safe from interrupt context. */
#ifndef MM_KMALLOC_H
#define MM_KMALLOC_H

#include <stddef.h>

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void *kcalloc(size_t n, size_t size);  /* zeroed; NULL on overflow */
void kfree(void *p);
/* The usable size of an allocation (>= the requested size). */
size_t kmalloc_size(const void *p);

#endif
