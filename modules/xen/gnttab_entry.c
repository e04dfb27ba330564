/* Grant entries and references: see <xen/gnttab.h>. */
#include <xen/gnttab.h>

void gnttab_entry_grant(struct grant_entry_v1 *e, domid_t domid, uint32_t frame, bool ro)
{
	__atomic_store_n(&e->domid, domid, __ATOMIC_RELAXED);
	__atomic_store_n(&e->frame, frame, __ATOMIC_RELAXED);
	__atomic_store_n(&e->flags, (uint16_t)(GTF_permit_access | (ro ? GTF_readonly : 0)), __ATOMIC_RELEASE);
}

int gnttab_entry_end(struct grant_entry_v1 *e)
{
	uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

	do {
		if (flags & (GTF_reading | GTF_writing))
			return -1;
	} while (!__atomic_compare_exchange_n(&e->flags, &flags, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
	return 0;
}

/* A free entry's next[] is FREE_MARK | successor, so a double free is seen. */
#define FREE_MARK 0x80000000u

void gnttab_freelist_init(struct gnttab_freelist *fl, grant_ref_t *next, uint32_t nr)
{
	fl->next = next;
	fl->nr = nr;
	fl->head = nr;
	fl->free = 0;
	for (uint32_t r = 0; r < nr; r++)
		next[r] = 0;
	for (uint32_t r = nr; r-- > GNTTAB_NR_RESERVED_ENTRIES;) {
		next[r] = FREE_MARK | fl->head;
		fl->head = r;
		fl->free++;
	}
}

long gnttab_ref_alloc(struct gnttab_freelist *fl)
{
	if (fl->head >= fl->nr)
		return -1;
	grant_ref_t r = fl->head;
	fl->head = fl->next[r] & ~FREE_MARK;
	fl->next[r] = 0;
	fl->free--;
	return r;
}

int gnttab_ref_free(struct gnttab_freelist *fl, grant_ref_t ref)
{
	if (ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= fl->nr || (fl->next[ref] & FREE_MARK))
		return -1;
	fl->next[ref] = FREE_MARK | fl->head;
	fl->head = ref;
	fl->free++;
	return 0;
}
