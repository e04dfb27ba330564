#include "page_internal.h"
#include <mm/mm.h>
#include <console/printk.h>

void mm_init(void)
{
	page_init();
	vm_init();
	printk(LOG_INFO, "mm: %lu KiB free\n", (unsigned long)(page_free_count() * 4));
}
