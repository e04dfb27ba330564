/* Grant table v1 entries and the free list of references. Pure C (host tests). */
#ifndef XEN_GNTTAB_H
#define XEN_GNTTAB_H

#include <stdbool.h>
#include <xen/abi.h>

/* Let domid map frame (read-only with ro): domid and frame are written
 * before the flags that make the entry valid. */
void gnttab_entry_grant(struct grant_entry_v1 *e, domid_t domid, uint32_t frame, bool ro);
/* Revoke: 0, or -1 while the peer still has it mapped (GTF_reading/writing). */
int gnttab_entry_end(struct grant_entry_v1 *e);

/* References [GNTTAB_NR_RESERVED_ENTRIES, nr) on a LIFO free list kept in
 * next[] (nr entries). */
struct gnttab_freelist {
	grant_ref_t *next;
	uint32_t nr;
	grant_ref_t head; /* nr: empty */
	uint32_t free;
};
void gnttab_freelist_init(struct gnttab_freelist *fl, grant_ref_t *next, uint32_t nr);
/* A free reference, or -1 when none is left. */
long gnttab_ref_alloc(struct gnttab_freelist *fl);
/* Returns -1 for a reserved, out-of-range or already free reference. */
int gnttab_ref_free(struct gnttab_freelist *fl, grant_ref_t ref);

#endif
