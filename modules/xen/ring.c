/* Byte rings (console, xenstore): see <xen/ring.h>. */
#include <xen/ring.h>

long xen_ring_put(char *ring, uint32_t size, volatile uint32_t *prod, const volatile uint32_t *cons,
		  const void *data, size_t len)
{
	uint32_t c = __atomic_load_n(cons, __ATOMIC_ACQUIRE), p = *prod;
	uint32_t used = p - c;
	const char *d = data;

	if (used > size)
		return -1;
	size_t n = size - used < len ? size - used : len;
	for (size_t i = 0; i < n; i++)
		ring[(p + i) & (size - 1)] = d[i];
	__atomic_store_n(prod, p + (uint32_t)n, __ATOMIC_RELEASE);
	return (long)n;
}

long xen_ring_get(const char *ring, uint32_t size, volatile uint32_t *cons, const volatile uint32_t *prod,
		  void *data, size_t len)
{
	uint32_t p = __atomic_load_n(prod, __ATOMIC_ACQUIRE), c = *cons;
	uint32_t avail = p - c;
	char *d = data;

	if (avail > size)
		return -1;
	size_t n = avail < len ? avail : len;
	for (size_t i = 0; i < n; i++)
		d[i] = ring[(c + i) & (size - 1)];
	/* The bytes are read before the slot is handed back. */
	__atomic_store_n(cons, c + (uint32_t)n, __ATOMIC_RELEASE);
	return (long)n;
}
