/* Memory manager bring-up (called by init). */
#ifndef MM_MM_H
#define MM_MM_H

/* Page allocator from the boot memory map, final page tables (direct map,
 * W^X kernel image, empty lower half), heap. */
void mm_init(void);

#endif
