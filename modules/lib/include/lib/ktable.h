/*
 * Link-time tables. A module adds an entry with KTABLE_ENTRY; the table owner
 * defines the start/end markers once with KTABLE_DEFINE. kernel.ld keeps every
 * .ktable.* input section sorted by name, so ".ktable.<name>.0" (start marker)
 * < ".ktable.<name>.<1-8>" (entries, ordered by priority digit) < ".ktable.<name>.9"
 * (end marker). New tables need no linker-script change.
 * Entry types must be a multiple of 8 bytes so the entries form an array.
 */
#ifndef LIB_KTABLE_H
#define LIB_KTABLE_H

#include <lib/compiler.h>

#define KTABLE_DECLARE(type, name) \
	extern const type __ktable_##name##_start[], __ktable_##name##_end[]

#define KTABLE_DEFINE(type, name)                                                            \
	STATIC_ASSERT(sizeof(type) % 8 == 0, "ktable entries must be a multiple of 8 bytes"); \
	const type __ktable_##name##_start[0] __used __aligned(8) __section(".ktable." #name ".0"); \
	const type __ktable_##name##_end[0] __used __aligned(8) __section(".ktable." #name ".9")

/* prio: a single digit 1..8; lower runs/sorts first. */
#define KTABLE_ENTRY(type, name, prio, var) \
	static const type var __used __aligned(8) __section(".ktable." #name "." #prio)

/*
 * The markers are zero-length objects, so to the compiler walking from one to
 * the other is undefined, and in the file that defines them it has been seen
 * to fold the loop. An empty asm hides where the pointers come from.
 */
#define ktable_hide(ptr)                        \
	({                                      \
		__typeof__(&(ptr)[0]) __hidden = (ptr); \
		__asm__("" : "+r"(__hidden));   \
		__hidden;                       \
	})
#define ktable_start(name) ktable_hide(__ktable_##name##_start)
#define ktable_end(name) ktable_hide(__ktable_##name##_end)

#define ktable_foreach(it, name) \
	for (it = ktable_start(name); it < ktable_end(name); it++)

#define ktable_count(name) ((size_t)(ktable_end(name) - ktable_start(name)))

#endif
