/* VMBus ring buffers: a header page the two sides share (write index,
 * read index, interrupt mask, pending send size) and a data area packets
 * wrap around in. The guest writes its outbound ring and reads its inbound
 * one; the indices the other side owns are read once, checked (inside the
 * ring, 8-byte aligned) and never trusted beyond what they can name. */
#include <vmbus/vmbus.h>
#include <lib/errno.h>

#define LOAD(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

int vmbus_ring_init(struct vmbus_ring *r, void *mem, size_t bytes)
{
	if (bytes < 2 * sizeof(struct hv_ring_buffer) || bytes % sizeof(struct hv_ring_buffer) ||
	    bytes - sizeof(struct hv_ring_buffer) > 0x80000000u)
		return -EINVAL;
	r->hdr = mem;
	r->data = r->hdr->data;
	r->size = (uint32_t)(bytes - sizeof(struct hv_ring_buffer));
	r->hdr->feature_bits = HV_RING_FEAT_PENDING_SEND_SZ;
	return 0;
}

static bool index_ok(const struct vmbus_ring *r, uint32_t i)
{
	return i < r->size && (i & 7) == 0;
}

static void copy_in(struct vmbus_ring *r, uint32_t at, const void *src, uint32_t len)
{
	uint32_t first = r->size - at < len ? r->size - at : len;
	__builtin_memcpy(r->data + at, src, first);
	__builtin_memcpy(r->data, (const uint8_t *)src + first, len - first);
}

static void copy_out(const struct vmbus_ring *r, uint32_t at, void *dst, uint32_t len)
{
	uint32_t first = r->size - at < len ? r->size - at : len;
	__builtin_memcpy(dst, r->data + at, first);
	__builtin_memcpy((uint8_t *)dst + first, r->data, len - first);
}

static uint32_t wrap(const struct vmbus_ring *r, uint64_t i)
{
	return (uint32_t)(i % r->size);
}

uint32_t vmbus_ring_avail_read(const struct vmbus_ring *r)
{
	uint32_t w = LOAD(r->hdr->write_index), rd = LOAD(r->hdr->read_index);
	if (!index_ok(r, w) || !index_ok(r, rd))
		return 0;
	return w >= rd ? w - rd : r->size - (rd - w);
}

int vmbus_ring_write(struct vmbus_ring *r, const struct vmbus_iov *iov, unsigned n, bool *signal)
{
	static const uint8_t zeros[8];
	uint64_t total = 0;

	*signal = false;
	for (unsigned i = 0; i < n; i++)
		total += iov[i].len;
	uint64_t padded = (total + 7) & ~7ull, need = padded + VMBUS_PKT_TRAILER;
	uint32_t w = r->hdr->write_index, rd = LOAD(r->hdr->read_index);
	if (!index_ok(r, w) || !index_ok(r, rd))
		return -EIO;
	uint32_t room = w >= rd ? r->size - (w - rd) : rd - w;
	if (need >= r->size)
		return -EMSGSIZE;
	if (room <= need) /* never fill completely: equal indices mean empty */
		return -EAGAIN;

	uint32_t at = w;
	for (unsigned i = 0; i < n; i++) {
		copy_in(r, at, iov[i].base, (uint32_t)iov[i].len);
		at = wrap(r, (uint64_t)at + iov[i].len);
	}
	copy_in(r, at, zeros, (uint32_t)(padded - total));
	at = wrap(r, (uint64_t)at + (padded - total));
	uint64_t trailer = (uint64_t)w << 32;
	copy_in(r, at, &trailer, 8);
	at = wrap(r, (uint64_t)at + 8);
	STORE(r->hdr->write_index, at);

	/* The reader wants a signal when it had caught up with us and has not
	 * masked interrupts (it is not polling). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (LOAD(r->hdr->interrupt_mask) == 0 && LOAD(r->hdr->read_index) == w)
		*signal = true;
	return 0;
}

int vmbus_ring_read(struct vmbus_ring *r, void *buf, size_t buflen, bool *signal)
{
	struct vmpacket_descriptor d;

	*signal = false;
	uint32_t rd = r->hdr->read_index, w = LOAD(r->hdr->write_index);
	if (!index_ok(r, w) || !index_ok(r, rd))
		return -EIO;
	uint32_t avail = w >= rd ? w - rd : r->size - (rd - w);
	if (avail == 0)
		return 0;
	if (avail < sizeof(d) + VMBUS_PKT_TRAILER)
		return -EIO;
	copy_out(r, rd, &d, sizeof(d));
	uint32_t len = (uint32_t)d.len8 * 8, off = (uint32_t)d.offset8 * 8;
	if (len < sizeof(d) || off < sizeof(d) || off > len || (uint64_t)len + VMBUS_PKT_TRAILER > avail)
		return -EIO; /* no way to find the next packet: stop here */
	int ret = -EMSGSIZE;
	if (len <= buflen) {
		copy_out(r, rd, buf, len);
		ret = (int)len;
	} else if (buflen >= sizeof(d)) {
		__builtin_memcpy(buf, &d, sizeof(d)); /* the caller may still answer it */
	}
	uint32_t consumed = len + VMBUS_PKT_TRAILER;
	STORE(r->hdr->read_index, wrap(r, (uint64_t)rd + consumed));

	/* A writer waiting for room (pending_send_sz) gets a signal when this
	 * read moved the free space across its mark. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint32_t pending = LOAD(r->hdr->pending_send_sz);
	if (pending) {
		uint32_t room = r->size - (avail - consumed);
		if (room > pending && room - consumed <= pending)
			*signal = true;
	}
	return ret;
}
