/* TLFS encoders and checks that need no hardware: the hypercall input word,
 * the guest OS identity, HvPostMessage/HvSignalEvent inputs, SynIC message
 * slots and the reference TSC arithmetic. Also compiled on the host. */
#include <hyperv/tlfs.h>
#include <lib/errno.h>

bool hv_vendor_is_microsoft(uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	/* "Micr" "osof" "t Hv" as three little-endian words. */
	return ebx == 0x7263694d && ecx == 0x666f736f && edx == 0x76482074;
}

uint64_t hv_guest_os_id(uint8_t os_type, uint8_t os_id, uint32_t version, uint16_t build)
{
	return (1ull << 63) | ((uint64_t)(os_type & 0x7f) << 56) | ((uint64_t)os_id << 48) |
	       ((uint64_t)version << 16) | build;
}

uint64_t hv_hypercall_input(uint16_t code, bool fast, uint16_t rep_count)
{
	return (uint64_t)code | (fast ? HV_HYPERCALL_FAST : 0) |
	       ((uint64_t)(rep_count & 0xfff) << HV_HYPERCALL_REP_COUNT_SHIFT);
}

int hv_status_errno(uint64_t result)
{
	switch (result & 0xffff) {
	case HV_STATUS_SUCCESS:
		return 0;
	case HV_STATUS_INSUFFICIENT_BUFFERS:
	case HV_STATUS_INSUFFICIENT_MEMORY:
		return -EAGAIN; /* the host's message queue is full: retry later */
	case HV_STATUS_INVALID_CONNECTION_ID:
	case HV_STATUS_INVALID_PORT_ID:
		return -ENOENT;
	case HV_STATUS_ACCESS_DENIED:
		return -EACCES;
	default:
		return -EINVAL;
	}
}

int hv_post_message_encode(struct hv_post_message_input *in, uint32_t conn_id, uint32_t type, const void *payload,
			   size_t len)
{
	if (len > HV_MESSAGE_PAYLOAD_BYTES)
		return -EMSGSIZE;
	__builtin_memset(in, 0, sizeof(*in));
	in->connection_id = conn_id;
	in->message_type = type;
	in->payload_size = (uint32_t)len;
	__builtin_memcpy(in->payload, payload, len);
	return 0;
}

uint64_t hv_signal_event_param(uint32_t conn_id, uint16_t flag)
{
	return (uint64_t)conn_id | ((uint64_t)flag << 32);
}

int hv_message_check(const struct hv_message *m, size_t *len)
{
	uint8_t n = m->header.payload_size;
	if (n > HV_MESSAGE_PAYLOAD_BYTES)
		return -EINVAL;
	*len = n;
	return 0;
}

uint64_t hv_ref_tsc_time(uint64_t tsc, uint64_t scale, int64_t offset)
{
	return (uint64_t)(((unsigned __int128)tsc * scale) >> 64) + (uint64_t)offset;
}

uint64_t hv_ref_tsc_hz(uint64_t scale)
{
	uint64_t q, r;
	/* 10^7 * 2^64 / scale with one divq (no 128-bit division helper in
	 * the kernel); the quotient fits while scale > 10^7 (a TSC slower
	 * than 2^64 Hz). */
	if (scale <= 10000000u)
		return 0;
	__asm__("divq %4" : "=a"(q), "=d"(r) : "a"(0ull), "d"(10000000ull), "rm"(scale));
	(void)r;
	return q;
}
