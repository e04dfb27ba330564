/* Intrusive circular doubly linked list. */
#ifndef LIB_LIST_H
#define LIB_LIST_H

#include <lib/compiler.h>

struct list {
	struct list *next, *prev;
};

#define LIST_INIT(name) { &(name), &(name) }

static inline void list_init(struct list *l)
{
	l->next = l->prev = l;
}

static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}

static inline void list_insert_between(struct list *n, struct list *prev, struct list *next)
{
	n->prev = prev;
	n->next = next;
	prev->next = n;
	next->prev = n;
}

/* Insert at the head (after l). */
static inline void list_push_front(struct list *l, struct list *n)
{
	list_insert_between(n, l, l->next);
}

/* Insert at the tail (before l). */
static inline void list_push_back(struct list *l, struct list *n)
{
	list_insert_between(n, l->prev, l);
}

/* Insert n just before pos. */
static inline void list_insert_before(struct list *pos, struct list *n)
{
	list_insert_between(n, pos->prev, pos);
}

static inline void list_remove(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

static inline struct list *list_pop_front(struct list *l)
{
	struct list *n = l->next;
	if (n == l)
		return NULL;
	list_remove(n);
	return n;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(l, type, member) list_entry((l)->next, type, member)

#define list_for_each(pos, l) for (pos = (l)->next; pos != (l); pos = pos->next)
#define list_for_each_safe(pos, tmp, l) \
	for (pos = (l)->next, tmp = pos->next; pos != (l); pos = tmp, tmp = pos->next)
#define list_for_each_entry(pos, l, member)                            \
	for (pos = list_entry((l)->next, __typeof__(*pos), member); &pos->member != (l); \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

#endif
