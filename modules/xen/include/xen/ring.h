/* The byte rings of Xen's PV console and xenstore: a power-of-two buffer with
 * free-running 32-bit producer and consumer indices, one side writing each.
 * The peer is not trusted: indices that claim more than the ring holds are an
 * error, never a copy. Pure C (host tests). */
#ifndef XEN_RING_H
#define XEN_RING_H

#include <stddef.h>
#include <stdint.h>

/* Copy up to len bytes in at *prod (ours); cons is the peer's. The index is
 * published after the bytes (release). Returns bytes copied (0: full), or -1
 * when prod - cons > size. */
long xen_ring_put(char *ring, uint32_t size, volatile uint32_t *prod, const volatile uint32_t *cons,
		  const void *data, size_t len);

/* Copy up to len bytes out at *cons (ours); prod is the peer's. Returns bytes
 * copied (0: empty), or -1 when prod - cons > size. */
long xen_ring_get(const char *ring, uint32_t size, volatile uint32_t *cons, const volatile uint32_t *prod,
		  void *data, size_t len);

#endif
