/* netvsc: NVSP over a VMBus channel, RNDIS inside NVSP. Setup is a series of
 * request/answer steps (each answer is a VM_PKT_COMP for the request's
 * transaction id, or an RNDIS completion in the receive buffer); data goes
 * out through send-buffer sections and comes in as transfer-page ranges of
 * the receive buffer, which are acknowledged so the host can reuse them.
 * Every offset and length the host hands back is checked before use. */
#include "netvsc_core.h"
#include <lib/errno.h>

#define TID_NVSP (1ull << 61)
#define TID_TX (1ull << 62)

static const uint32_t nvsp_versions[] = {
	NVSP_VERSION_61, NVSP_VERSION_6, NVSP_VERSION_5, NVSP_VERSION_4, NVSP_VERSION_2, NVSP_VERSION_1, 0,
};

static void lock(struct netvsc *nv)
{
	while (__atomic_exchange_n(&nv->tx_lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void unlock(struct netvsc *nv)
{
	__atomic_store_n(&nv->tx_lock, 0, __ATOMIC_RELEASE);
}

static int section_get(struct netvsc *nv)
{
	int idx = -1;
	lock(nv);
	for (uint32_t w = 0; w < (nv->nsections + 63) / 64 && idx < 0; w++) {
		uint64_t free = ~nv->tx_busy[w];
		if (w == nv->nsections / 64)
			free &= (1ull << (nv->nsections % 64)) - 1;
		if (free) {
			unsigned b = (unsigned)__builtin_ctzll(free);
			nv->tx_busy[w] |= 1ull << b;
			idx = (int)(w * 64 + b);
		}
	}
	unlock(nv);
	return idx;
}

/* False when the section was not in use: a completion the host made up. */
static bool section_put(struct netvsc *nv, uint64_t idx)
{
	bool ok = false;
	if (idx >= nv->nsections)
		return false;
	lock(nv);
	if (nv->tx_busy[idx / 64] & (1ull << (idx % 64))) {
		nv->tx_busy[idx / 64] &= ~(1ull << (idx % 64));
		ok = true;
	}
	unlock(nv);
	return ok;
}

/* --- encoders --- */

size_t netvsc_rndis_packet(void *dst, const void *frame, uint32_t len)
{
	struct rndis_packet p = { 0 };
	p.type = RNDIS_MSG_PACKET;
	p.len = (uint32_t)sizeof(p) + len;
	p.data_off = (uint32_t)sizeof(p) - RNDIS_OFFSET_BASE;
	p.data_len = len;
	__builtin_memcpy(dst, &p, sizeof(p));
	__builtin_memcpy((uint8_t *)dst + sizeof(p), frame, len);
	return sizeof(p) + len;
}

size_t netvsc_rndis_oid_req(void *dst, uint32_t type, uint32_t req_id, uint32_t oid, const void *info,
			    uint32_t info_len)
{
	struct rndis_oid_req q = { 0 };
	q.type = type;
	q.len = (uint32_t)sizeof(q) + info_len;
	q.req_id = req_id;
	q.oid = oid;
	q.info_len = info_len;
	q.info_off = info_len ? (uint32_t)sizeof(q) - RNDIS_OFFSET_BASE : 0;
	__builtin_memcpy(dst, &q, sizeof(q));
	if (info_len)
		__builtin_memcpy((uint8_t *)dst + sizeof(q), info, info_len);
	return sizeof(q) + info_len;
}

void netvsc_nvsp_rndis(struct nvsp_rndis *m, uint32_t channel_type, uint32_t section, uint32_t size)
{
	__builtin_memset(m, 0, sizeof(*m));
	m->type = NVSP_TYPE_RNDIS;
	m->channel_type = channel_type;
	m->section_index = section;
	m->section_size = size;
}

/* --- receive side (the channel callback) --- */

static void on_rndis_control(struct netvsc *nv, const uint8_t *m, uint32_t len, uint32_t type)
{
	/* Every completion starts type, len, req_id, status. */
	if (len < 16 || nv->ctl_done || type != nv->ctl_want) {
		nv->st.unexpected++;
		return;
	}
	uint32_t req_id, status;
	__builtin_memcpy(&req_id, m + 8, 4);
	__builtin_memcpy(&status, m + 12, 4);
	if (req_id != nv->ctl_req_id) {
		nv->st.unexpected++;
		return;
	}
	nv->ctl_info_len = 0;
	if (type == (RNDIS_MSG_QUERY | RNDIS_MSG_COMPLETION) && status == RNDIS_STATUS_SUCCESS) {
		struct rndis_query_comp q;
		if (len < sizeof(q))
			goto bad;
		__builtin_memcpy(&q, m, sizeof(q));
		uint64_t end = (uint64_t)RNDIS_OFFSET_BASE + q.info_off + q.info_len;
		if (q.info_len > sizeof(nv->ctl_info) || end > len ||
		    (q.info_len && q.info_off < sizeof(q) - RNDIS_OFFSET_BASE))
			goto bad;
		__builtin_memcpy(nv->ctl_info, m + RNDIS_OFFSET_BASE + q.info_off, q.info_len);
		nv->ctl_info_len = q.info_len;
	} else if (type == (RNDIS_MSG_INIT | RNDIS_MSG_COMPLETION) && len < sizeof(struct rndis_init_comp)) {
		goto bad;
	}
	nv->ctl_status = status;
	__atomic_store_n(&nv->ctl_done, true, __ATOMIC_RELEASE);
	return;
bad:
	nv->st.rx_bad++;
	nv->ctl_status = 0xffffffffu; /* answered, but unusable */
	__atomic_store_n(&nv->ctl_done, true, __ATOMIC_RELEASE);
}

/* One RNDIS message of len bytes (a receive-buffer range). */
static void on_rndis(struct netvsc *nv, const uint8_t *m, uint32_t len)
{
	struct rndis_hdr h;
	if (len < sizeof(h))
		goto bad;
	__builtin_memcpy(&h, m, sizeof(h));
	if (h.len < sizeof(h) || h.len > len)
		goto bad;
	len = h.len;
	switch (h.type) {
	case RNDIS_MSG_PACKET: {
		struct rndis_packet p;
		if (len < sizeof(p))
			goto bad;
		__builtin_memcpy(&p, m, sizeof(p));
		uint64_t start = (uint64_t)RNDIS_OFFSET_BASE + p.data_off;
		if (start < sizeof(p) || start + p.data_len > len || p.data_len < 14)
			goto bad;
		nv->st.rx_packets++;
		if (nv->rx)
			nv->rx(nv, m + start, p.data_len);
		return;
	}
	case RNDIS_MSG_INDICATE: {
		struct rndis_indicate s;
		if (len < sizeof(s))
			goto bad;
		__builtin_memcpy(&s, m, sizeof(s));
		if (s.status == RNDIS_STATUS_MEDIA_CONNECT || s.status == RNDIS_STATUS_MEDIA_DISCONNECT) {
			nv->link_up = s.status == RNDIS_STATUS_MEDIA_CONNECT;
			if (nv->link)
				nv->link(nv, nv->link_up);
		}
		return;
	}
	default:
		if (h.type & RNDIS_MSG_COMPLETION)
			on_rndis_control(nv, m, len, h.type);
		else
			nv->st.unexpected++;
		return;
	}
bad:
	nv->st.rx_bad++;
}

static void send_ack(struct netvsc *nv, uint64_t tid, uint32_t status)
{
	struct nvsp_rndis_ack a = { NVSP_TYPE_RNDIS_ACK, status, { 0 } };
	int r;
	/* The host waits for the ring to drain; our ring has room unless it
	 * stopped reading, in which case a few tries are all it gets. */
	for (int i = 0; (r = vmbus_send(nv->ch, VM_PKT_COMP, 0, tid, &a, sizeof(a))) == -EAGAIN && i < 1000; i++)
		;
	if (r)
		nv->st.ack_failed++;
}

static void on_xfer_pages(struct netvsc *nv, const uint8_t *pkt, uint32_t len)
{
	struct vmbus_xfer_page_header h;
	struct nvsp_rndis n;
	uint32_t status = NVSP_STATUS_OK;

	if (len < sizeof(h))
		goto bad_noack;
	__builtin_memcpy(&h, pkt, sizeof(h));
	uint64_t off = (uint64_t)h.d.offset8 * 8;
	if (h.range_count == 0 || h.range_count > (len - sizeof(h)) / sizeof(struct vmbus_xfer_range) ||
	    off < sizeof(h) + (uint64_t)h.range_count * sizeof(struct vmbus_xfer_range) || off + 8 > len) {
		status = NVSP_STATUS_FAILED;
		goto bad;
	}
	__builtin_memset(&n, 0, sizeof(n));
	__builtin_memcpy(&n, pkt + off, len - off < sizeof(n) ? len - off : sizeof(n));
	if (n.type != NVSP_TYPE_RNDIS || h.xfer_pageset_id != NVSP_RXBUF_SIG) {
		status = NVSP_STATUS_FAILED;
		goto bad;
	}
	for (uint32_t i = 0; i < h.range_count; i++) {
		struct vmbus_xfer_range r;
		__builtin_memcpy(&r, pkt + sizeof(h) + i * sizeof(r), sizeof(r));
		if ((uint64_t)r.byte_offset + r.byte_count > nv->rxbuf_len) {
			nv->st.rx_bad++;
			status = NVSP_STATUS_FAILED;
			continue;
		}
		on_rndis(nv, nv->rxbuf + r.byte_offset, r.byte_count);
	}
	send_ack(nv, h.d.trans_id, status);
	return;
bad:
	nv->st.rx_bad++;
	send_ack(nv, h.d.trans_id, status);
	return;
bad_noack:
	nv->st.rx_bad++;
}

static void on_completion(struct netvsc *nv, const uint8_t *pkt, uint32_t len)
{
	struct vmpacket_descriptor d;
	__builtin_memcpy(&d, pkt, sizeof(d));
	uint32_t off = d.offset8 * 8u; /* <= len: checked by the ring */
	uint32_t plen = len - off;
	uint32_t type;
	if (plen < 4) {
		nv->st.bad_completions++;
		return;
	}
	__builtin_memcpy(&type, pkt + off, 4);
	if (d.trans_id & TID_TX) {
		if (type != NVSP_TYPE_RNDIS_ACK || !section_put(nv, d.trans_id & ~TID_TX))
			nv->st.bad_completions++;
		else
			nv->st.tx_done++;
		return;
	}
	if (d.trans_id == nv->nvsp_tid && !nv->nvsp_done && type == nv->nvsp_want) {
		nv->nvsp_reply_len = plen < NETVSC_REPLY_MAX ? plen : NETVSC_REPLY_MAX;
		__builtin_memset(nv->nvsp_reply, 0, sizeof(nv->nvsp_reply));
		__builtin_memcpy(nv->nvsp_reply, pkt + off, nv->nvsp_reply_len);
		__atomic_store_n(&nv->nvsp_done, true, __ATOMIC_RELEASE);
		return;
	}
	nv->st.bad_completions++;
}

void netvsc_channel_cb(struct vmbus_channel *ch, void *arg)
{
	struct netvsc *nv = arg;
	uint64_t *buf = nv->pkt;
	int n;
	(void)ch;

	while ((n = vmbus_recv(nv->ch, buf, sizeof(nv->pkt))) != 0) {
		if (n == -EMSGSIZE) {
			/* Too many ranges to read: give the buffer space back unread. */
			const struct vmpacket_descriptor *d = (const void *)buf;
			nv->st.rx_bad++;
			if (d->type == VM_PKT_DATA_USING_XFER_PAGES)
				send_ack(nv, d->trans_id, NVSP_STATUS_FAILED);
			continue;
		}
		if (n < 0)
			break; /* a corrupt ring: vmbus counted it */
		const struct vmpacket_descriptor *d = (const void *)buf;
		switch (d->type) {
		case VM_PKT_COMP:
			on_completion(nv, (const uint8_t *)buf, (uint32_t)n);
			break;
		case VM_PKT_DATA_USING_XFER_PAGES:
			on_xfer_pages(nv, (const uint8_t *)buf, (uint32_t)n);
			break;
		default:
			nv->st.unexpected++; /* notifications we do not use (VF, send table) */
			break;
		}
	}
}

/* --- setup --- */

static bool nvsp_answered(void *arg)
{
	return ((struct netvsc *)arg)->nvsp_done;
}

static bool ctl_answered(void *arg)
{
	return ((struct netvsc *)arg)->ctl_done;
}

static int nvsp_send(struct netvsc *nv, const void *msg, uint32_t want)
{
	struct vmbus_conn *c = nv->ch->conn;
	if (!want)
		return vmbus_send(nv->ch, VM_PKT_DATA_INBAND, 0, 0, msg, NVSP_MSG_SIZE);
	nv->nvsp_tid = TID_NVSP | ++nv->next_req_id;
	nv->nvsp_want = want;
	nv->nvsp_done = false;
	int r = vmbus_send(nv->ch, VM_PKT_DATA_INBAND, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, nv->nvsp_tid, msg,
			   NVSP_MSG_SIZE);
	if (!r)
		r = c->ops.wait(c->ops.ctx, nvsp_answered, nv, nv->timeout_ms);
	nv->nvsp_want = 0;
	return r;
}

static uint32_t reply_u32(struct netvsc *nv, unsigned off)
{
	uint32_t v;
	__builtin_memcpy(&v, nv->nvsp_reply + off, 4);
	return v;
}

/* Send an RNDIS control message through a send section and wait for its completion. */
static int rndis_request(struct netvsc *nv, const void *msg, uint32_t len, uint32_t want)
{
	struct vmbus_conn *c = nv->ch->conn;
	struct nvsp_rndis n;
	int sec = section_get(nv);
	if (sec < 0)
		return -EBUSY;
	__builtin_memcpy(nv->txbuf + (size_t)sec * nv->section_size, msg, len);
	netvsc_nvsp_rndis(&n, NVSP_RNDIS_CONTROL, (uint32_t)sec, len);
	__builtin_memcpy(&nv->ctl_req_id, (const uint8_t *)msg + 8, 4);
	nv->ctl_want = want;
	nv->ctl_done = false;
	int r = vmbus_send(nv->ch, VM_PKT_DATA_INBAND, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, TID_TX | (uint64_t)sec, &n,
			   sizeof(n));
	if (r) {
		section_put(nv, (uint64_t)sec);
		return r;
	}
	r = c->ops.wait(c->ops.ctx, ctl_answered, nv, nv->timeout_ms);
	nv->ctl_want = 0;
	if (r)
		return r;
	return nv->ctl_status == RNDIS_STATUS_SUCCESS ? 0 : -EIO;
}

static int rndis_query(struct netvsc *nv, uint32_t oid, uint32_t want_len)
{
	uint8_t msg[sizeof(struct rndis_oid_req)];
	size_t len = netvsc_rndis_oid_req(msg, RNDIS_MSG_QUERY, ++nv->next_req_id, oid, NULL, 0);
	int r = rndis_request(nv, msg, (uint32_t)len, RNDIS_MSG_QUERY | RNDIS_MSG_COMPLETION);
	if (!r && nv->ctl_info_len < want_len)
		r = -EIO;
	return r;
}

static int setup_nvsp(struct netvsc *nv)
{
	int r = -EPROTONOSUPPORT;
	for (const uint32_t *v = nvsp_versions; *v; v++) {
		struct nvsp_init m = { NVSP_TYPE_INIT, *v, *v, { 0 } };
		r = nvsp_send(nv, &m, NVSP_TYPE_INIT_RESP);
		if (r)
			return r;
		if (nv->nvsp_reply_len >= sizeof(struct nvsp_init_resp) && reply_u32(nv, 12) == NVSP_STATUS_OK) {
			nv->nvsp_version = *v;
			break;
		}
		r = -EPROTONOSUPPORT;
	}
	if (r)
		return r;
	if (nv->nvsp_version >= NVSP_VERSION_2) {
		struct nvsp_ndis_conf m = { NVSP_TYPE_NDIS_CONF, 1500 + 14, 0, NVSP_NDIS_CONF_VLAN, { 0 } };
		if ((r = nvsp_send(nv, &m, 0)))
			return r;
	}
	nv->ndis_version = nv->nvsp_version <= NVSP_VERSION_4 ? 0x60001 : 0x6001e;
	struct nvsp_ndis_init ni = { NVSP_TYPE_NDIS_INIT, nv->ndis_version >> 16, nv->ndis_version & 0xffff, { 0 } };
	return nvsp_send(nv, &ni, 0);
}

static int setup_buffers(struct netvsc *nv)
{
	struct vmbus_conn *c = nv->ch->conn;
	int r;

	nv->rxbuf = c->ops.alloc(c->ops.ctx, nv->rxbuf_len);
	nv->txbuf = c->ops.alloc(c->ops.ctx, nv->txbuf_len);
	if (!nv->rxbuf || !nv->txbuf)
		return -ENOMEM;
	if ((r = vmbus_gpadl_create(nv->ch, nv->rxbuf, nv->rxbuf_len, &nv->rx_gpadl, nv->timeout_ms)))
		return r;
	struct nvsp_buf_conn rb = { NVSP_TYPE_RXBUF_CONN, nv->rx_gpadl, NVSP_RXBUF_SIG, { 0 } };
	if ((r = nvsp_send(nv, &rb, NVSP_TYPE_RXBUF_CONNRESP)))
		return r;
	uint32_t nsect = reply_u32(nv, 8);
	if (nv->nvsp_reply_len < sizeof(struct nvsp_rxbuf_connresp) || reply_u32(nv, 4) != NVSP_STATUS_OK)
		return -EIO;
	if (nsect == 0 || nsect > (nv->nvsp_reply_len - 12) / 16)
		return -EIO;
	for (uint32_t i = 0; i < nsect; i++) /* the host's layout must lie inside our buffer */
		if (reply_u32(nv, 12 + i * 16 + 12) > nv->rxbuf_len)
			return -EIO;

	if ((r = vmbus_gpadl_create(nv->ch, nv->txbuf, nv->txbuf_len, &nv->tx_gpadl, nv->timeout_ms)))
		return r;
	struct nvsp_buf_conn cb = { NVSP_TYPE_CHIM_CONN, nv->tx_gpadl, NVSP_CHIM_SIG, { 0 } };
	if ((r = nvsp_send(nv, &cb, NVSP_TYPE_CHIM_CONNRESP)))
		return r;
	uint32_t size = reply_u32(nv, 8);
	if (nv->nvsp_reply_len < sizeof(struct nvsp_chim_connresp) || reply_u32(nv, 4) != NVSP_STATUS_OK)
		return -EIO;
	if (size < sizeof(struct rndis_packet) + 1514 || size > nv->txbuf_len)
		return -EIO;
	nv->section_size = size;
	nv->nsections = (uint32_t)(nv->txbuf_len / size);
	if (nv->nsections > NETVSC_MAX_SECTIONS)
		nv->nsections = NETVSC_MAX_SECTIONS;
	return 0;
}

static int setup_rndis(struct netvsc *nv)
{
	struct rndis_init_req in = { RNDIS_MSG_INIT, sizeof(in), ++nv->next_req_id, RNDIS_MAJOR, RNDIS_MINOR,
				     RNDIS_MAX_XFER };
	int r = rndis_request(nv, &in, sizeof(in), RNDIS_MSG_INIT | RNDIS_MSG_COMPLETION);
	if (r)
		return r;
	if ((r = rndis_query(nv, RNDIS_OID_802_3_PERMANENT_ADDRESS, 6)))
		return r;
	__builtin_memcpy(nv->mac, nv->ctl_info, 6);
	if ((r = rndis_query(nv, RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE, 4)))
		return r;
	uint32_t mtu;
	__builtin_memcpy(&mtu, nv->ctl_info, 4);
	if (mtu < 576 || mtu > nv->section_size - sizeof(struct rndis_packet) - 14)
		return -EIO; /* the frames it implies would not fit a send section */
	nv->mtu = mtu;
	if ((r = rndis_query(nv, RNDIS_OID_GEN_MEDIA_CONNECT_STATUS, 4)))
		return r;
	uint32_t media;
	__builtin_memcpy(&media, nv->ctl_info, 4);
	nv->link_up = media == RNDIS_MEDIA_CONNECTED;
	uint32_t filter = RNDIS_FILTER_DIRECTED | RNDIS_FILTER_MULTICAST | RNDIS_FILTER_BROADCAST;
	uint8_t msg[sizeof(struct rndis_oid_req) + 4];
	size_t len = netvsc_rndis_oid_req(msg, RNDIS_MSG_SET, ++nv->next_req_id, RNDIS_OID_GEN_CURRENT_PACKET_FILTER,
					  &filter, 4);
	return rndis_request(nv, msg, (uint32_t)len, RNDIS_MSG_SET | RNDIS_MSG_COMPLETION);
}

int netvsc_attach(struct netvsc *nv, struct vmbus_channel *ch)
{
	nv->ch = ch;
	if (!nv->timeout_ms)
		nv->timeout_ms = 5000;
	if (nv->rxbuf_len % 4096 || nv->txbuf_len % 4096 || !nv->rxbuf_len || !nv->txbuf_len)
		return -EINVAL;
	int r = vmbus_open(ch, nv->ring_bytes, NULL, 0, netvsc_channel_cb, nv, nv->timeout_ms);
	if (r)
		return r;
	if ((r = setup_nvsp(nv)) || (r = setup_buffers(nv)) || (r = setup_rndis(nv))) {
		netvsc_detach(nv);
		return r;
	}
	return 0;
}

void netvsc_detach(struct netvsc *nv)
{
	struct vmbus_conn *c = nv->ch->conn;
	/* Revoke the buffers first (no answer comes), as the host expects. */
	struct nvsp_buf_conn rv = { NVSP_TYPE_RXBUF_DISCONN, 0, 0, { 0 } };
	__builtin_memcpy(&rv.gpadl, &(uint16_t){ NVSP_RXBUF_SIG }, 2); /* the signature follows the type */
	if (nv->rx_gpadl)
		vmbus_send(nv->ch, VM_PKT_DATA_INBAND, 0, 0, &rv, sizeof(rv));
	rv.type = NVSP_TYPE_CHIM_DISCONN;
	__builtin_memcpy(&rv.gpadl, &(uint16_t){ NVSP_CHIM_SIG }, 2);
	if (nv->tx_gpadl)
		vmbus_send(nv->ch, VM_PKT_DATA_INBAND, 0, 0, &rv, sizeof(rv));
	vmbus_close(nv->ch, nv->timeout_ms);
	/* Without the channel the host has let go of the buffers' GPADLs too
	 * only once they are torn down; keep them otherwise. */
	if (nv->rx_gpadl && vmbus_gpadl_teardown(nv->ch, nv->rx_gpadl, nv->timeout_ms))
		nv->rxbuf = NULL;
	if (nv->tx_gpadl && vmbus_gpadl_teardown(nv->ch, nv->tx_gpadl, nv->timeout_ms))
		nv->txbuf = NULL;
	if (nv->rxbuf)
		c->ops.free(c->ops.ctx, nv->rxbuf, nv->rxbuf_len);
	if (nv->txbuf)
		c->ops.free(c->ops.ctx, nv->txbuf, nv->txbuf_len);
	nv->rxbuf = nv->txbuf = NULL;
	nv->rx_gpadl = nv->tx_gpadl = 0;
}

int netvsc_xmit(struct netvsc *nv, const void *frame, size_t len)
{
	struct nvsp_rndis n;
	if (len < 14 || len + sizeof(struct rndis_packet) > nv->section_size)
		return -EMSGSIZE;
	int sec = section_get(nv);
	if (sec < 0)
		return -EBUSY;
	size_t mlen = netvsc_rndis_packet(nv->txbuf + (size_t)sec * nv->section_size, frame, (uint32_t)len);
	netvsc_nvsp_rndis(&n, NVSP_RNDIS_DATA, (uint32_t)sec, (uint32_t)mlen);
	int r = vmbus_send(nv->ch, VM_PKT_DATA_INBAND, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, TID_TX | (uint64_t)sec, &n,
			   sizeof(n));
	if (r) {
		section_put(nv, (uint64_t)sec);
		return r == -EAGAIN ? -EBUSY : r;
	}
	nv->st.tx_packets++;
	return 0;
}
