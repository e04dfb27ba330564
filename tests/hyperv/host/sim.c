/* The simulated VMBus host (see sim.h). */
#include "sim.h"
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim sim;

static const uint8_t net_guid[16] = VMBUS_GUID(0xf8615163, 0xdf3e, 0x46c5, 0x91, 0x3f, 0xf2, 0xd2, 0xf9, 0x65, 0xed, 0x0e);
static const uint8_t stor_guid[16] = VMBUS_GUID(0xba6163d9, 0x04a1, 0x4d29, 0xb6, 0x05, 0x72, 0xe2, 0xff, 0xb1, 0xdc, 0x7f);

static void *gpa(uint64_t pfn)
{
	return (void *)(uintptr_t)(pfn << 12);
}

static void to_guest(const void *msg, size_t len)
{
	assert(sim.qhead - sim.qtail < 64 && len <= 240);
	memcpy(sim.q[sim.qhead % 64].data, msg, len);
	sim.q[sim.qhead % 64].len = len;
	sim.qhead++;
}

struct sim_chan *sim_chan(uint32_t relid)
{
	for (int i = 0; i < 2; i++)
		if (sim.chans[i].relid == relid)
			return &sim.chans[i];
	return NULL;
}

static struct sim_gpadl *find_gpadl(uint32_t handle)
{
	for (unsigned i = 0; i < sim.ngpadl; i++)
		if (sim.gpadls[i].handle == handle)
			return &sim.gpadls[i];
	return NULL;
}

/* A GPADL's memory: the guest's pages must be consecutive (it shares contiguous buffers). */
static uint8_t *gpadl_mem(struct sim_gpadl *g)
{
	for (uint32_t i = 1; i < g->npfn; i++)
		if (g->pfn[i] != g->pfn[0] + i)
			return NULL;
	return gpa(g->pfn[0]);
}

static void offer(uint32_t relid, const uint8_t *type, uint32_t conn_id)
{
	struct vmbus_msg_offer_channel o;
	memset(&o, 0, sizeof(o));
	o.header.msgtype = CHANNELMSG_OFFERCHANNEL;
	memcpy(o.offer.if_type, type, 16);
	o.offer.if_instance[0] = (uint8_t)relid;
	o.child_relid = relid;
	o.connection_id = conn_id;
	to_guest(&o, sizeof(o));
}

static void gpadl_created(struct sim_gpadl *g)
{
	struct vmbus_msg_gpadl_created m = { { CHANNELMSG_GPADL_CREATED, 0 }, g->relid, g->handle, 0 };
	if (sim.evil == EVIL_GPADL_HANDLE)
		m.gpadl ^= 0x100;
	g->done = true;
	to_guest(&m, sizeof(m));
}

/* --- channel messages from the guest --- */

static int host_post(void *ctx, uint32_t conn_id, const void *msg, size_t len)
{
	(void)ctx;
	struct vmbus_msg_header h;
	if (len < sizeof(h) || len > 240)
		return -EINVAL;
	if (sim.busy_posts) {
		sim.busy_posts--;
		return -EAGAIN; /* HV_STATUS_INSUFFICIENT_BUFFERS */
	}
	memcpy(&h, msg, sizeof(h));
	if (sim.nlog < 64) {
		memcpy(sim.log[sim.nlog], msg, len);
		sim.loglen[sim.nlog] = len;
		sim.logconn[sim.nlog++] = conn_id;
	}
	if (h.msgtype == CHANNELMSG_INITIATE_CONTACT) {
		struct vmbus_msg_initiate_contact m;
		assert(len == sizeof(m));
		memcpy(&m, msg, sizeof(m));
		sim.contact_conn_id = conn_id;
		sim.versions_tried[sim.nversions++] = m.version_requested;
		struct vmbus_msg_version_response r = { { CHANNELMSG_VERSION_RESPONSE, 0 }, 0, 0, 0, 0 };
		r.version_supported = m.version_requested <= sim.max_version;
		r.msg_conn_id = sim.msg_conn_id;
		to_guest(&r, sim.evil == EVIL_VERSION_SHORT ? 8 : (m.version_requested >= VMBUS_VERSION_WIN10_V5 ? 16 : 12));
		return 0;
	}
	/* Everything after contact goes to the connection id the host named. */
	if (conn_id != sim.msg_conn_id)
		return -ENOENT;
	switch (h.msgtype) {
	case CHANNELMSG_REQUESTOFFERS:
		offer(SIM_NET_RELID, net_guid, 0x2000 + SIM_NET_RELID);
		offer(SIM_STOR_RELID, stor_guid, 0x2000 + SIM_STOR_RELID);
		if (sim.evil == EVIL_OFFER_RELID)
			offer(5000, net_guid, 0x3000);
		{
			struct vmbus_msg_header d = { CHANNELMSG_ALLOFFERS_DELIVERED, 0 };
			to_guest(&d, sizeof(d));
		}
		return 0;
	case CHANNELMSG_GPADL_HEADER: {
		struct vmbus_msg_gpadl_header m;
		memcpy(&m, msg, sizeof(m));
		assert(sim.ngpadl < 16);
		struct sim_gpadl *g = &sim.gpadls[sim.ngpadl++];
		memset(g, 0, sizeof(*g));
		g->handle = m.gpadl;
		g->relid = m.child_relid;
		g->bytes = m.range.byte_count;
		assert(m.range_count == 1 && m.range.byte_offset == 0 && m.range_buflen >= 8);
		g->want = (m.range_buflen - 8) / 8;
		assert(g->want <= 1024 && g->want == (g->bytes + 4095) / 4096);
		uint32_t n = (uint32_t)(len - sizeof(m)) / 8;
		assert(n <= 26 && n <= g->want);
		memcpy(g->pfn, (const uint8_t *)msg + sizeof(m), n * 8);
		g->npfn = n;
		if (g->npfn == g->want)
			gpadl_created(g);
		return 0;
	}
	case CHANNELMSG_GPADL_BODY: {
		struct vmbus_msg_gpadl_body m;
		memcpy(&m, msg, sizeof(m));
		struct sim_gpadl *g = find_gpadl(m.gpadl);
		assert(g && !g->done);
		uint32_t n = (uint32_t)(len - sizeof(m)) / 8;
		assert(n <= 28 && g->npfn + n <= g->want);
		memcpy(g->pfn + g->npfn, (const uint8_t *)msg + sizeof(m), n * 8);
		g->npfn += n;
		if (g->npfn == g->want)
			gpadl_created(g);
		return 0;
	}
	case CHANNELMSG_GPADL_TEARDOWN: {
		struct vmbus_msg_gpadl_teardown m;
		memcpy(&m, msg, sizeof(m));
		struct sim_gpadl *g = find_gpadl(m.gpadl);
		assert(g);
		g->handle = 0;
		struct vmbus_msg_gpadl_torndown t = { { CHANNELMSG_GPADL_TORNDOWN, 0 }, m.gpadl };
		to_guest(&t, sizeof(t));
		return 0;
	}
	case CHANNELMSG_OPENCHANNEL: {
		struct vmbus_msg_open_channel m;
		memcpy(&m, msg, sizeof(m));
		struct sim_chan *c = sim_chan(m.child_relid);
		struct sim_gpadl *g = find_gpadl(m.ring_gpadl);
		assert(c && g && g->done && !c->open);
		uint8_t *mem = gpadl_mem(g);
		assert(mem && m.downstream_ring_page_offset * 4096u * 2 == g->bytes);
		c->out = (struct hv_ring_buffer *)mem;
		c->in = (struct hv_ring_buffer *)(mem + m.downstream_ring_page_offset * 4096u);
		c->size = m.downstream_ring_page_offset * 4096u - 4096u;
		c->open = true;
		struct vmbus_msg_open_result r = { { CHANNELMSG_OPENCHANNEL_RESULT, 0 }, m.child_relid, m.open_id, 0 };
		to_guest(&r, sizeof(r));
		return 0;
	}
	case CHANNELMSG_CLOSECHANNEL: {
		struct vmbus_msg_relid m;
		memcpy(&m, msg, sizeof(m));
		struct sim_chan *c = sim_chan(m.child_relid);
		assert(c && c->open);
		c->open = false;
		return 0;
	}
	default:
		fprintf(stderr, "sim: unexpected message %u\n", h.msgtype);
		abort();
	}
}

/* --- rings, the host's way --- */

static void ring_copy_out(struct hv_ring_buffer *rb, uint32_t size, uint32_t at, void *dst, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)dst)[i] = rb->data[(at + i) % size];
}

static void ring_copy_in(struct hv_ring_buffer *rb, uint32_t size, uint32_t at, const void *src, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		rb->data[(at + i) % size] = ((const uint8_t *)src)[i];
}

/* The next packet the guest wrote, or 0. Checks the guest's framing. */
static uint32_t read_guest_packet(struct sim_chan *c, uint8_t *buf, uint32_t max)
{
	uint32_t r = c->out->read_index, w = c->out->write_index;
	if (r == w)
		return 0;
	struct vmpacket_descriptor d;
	ring_copy_out(c->out, c->size, r, &d, sizeof(d));
	uint32_t len = d.len8 * 8u;
	assert(len >= 16 && len <= max && d.offset8 * 8u <= len);
	ring_copy_out(c->out, c->size, r, buf, len);
	uint64_t trailer;
	ring_copy_out(c->out, c->size, (r + len) % c->size, &trailer, 8);
	assert(trailer == (uint64_t)r << 32); /* the guest's old write index */
	c->out->read_index = (r + len + 8) % c->size;
	return len;
}

void sim_write_packet(struct sim_chan *c, const void *pkt, size_t len)
{
	uint32_t w = c->in->write_index;
	uint32_t padded = (uint32_t)((len + 7) & ~7ul);
	uint8_t zeros[8] = { 0 };
	ring_copy_in(c->in, c->size, w, pkt, (uint32_t)len);
	ring_copy_in(c->in, c->size, (w + (uint32_t)len) % c->size, zeros, padded - (uint32_t)len);
	uint64_t trailer = (uint64_t)w << 32;
	ring_copy_in(c->in, c->size, (w + padded) % c->size, &trailer, 8);
	c->in->write_index = (w + padded + 8) % c->size;
	sim.events |= 1ull << c->relid;
}

static void send_comp(struct sim_chan *c, uint64_t tid, const void *payload, size_t len)
{
	uint8_t pkt[512];
	struct vmpacket_descriptor d = { VM_PKT_COMP, 2, (uint16_t)((16 + len + 7) / 8), 0, tid };
	memcpy(pkt, &d, 16);
	memcpy(pkt + 16, payload, len);
	sim_write_packet(c, pkt, 16 + len);
}

/* --- netvsc device --- */

static void net_xfer(const void *rndis, uint32_t len, uint32_t channel_type, uint32_t range_off, uint32_t range_len)
{
	struct sim_chan *c = sim_chan(SIM_NET_RELID);
	uint32_t off = sim.rx_off;
	if (off + len > sim.rxbuf_len)
		off = 0;
	memcpy(sim.rxbuf + off, rndis, len);
	sim.rx_off = (off + len + 7) & ~7u;
	struct {
		struct vmbus_xfer_page_header h;
		struct vmbus_xfer_range r;
		struct nvsp_rndis n;
	} __attribute__((packed)) p;
	memset(&p, 0, sizeof(p));
	p.h.d.type = VM_PKT_DATA_USING_XFER_PAGES;
	p.h.d.offset8 = (sizeof(p.h) + sizeof(p.r)) / 8;
	p.h.d.len8 = sizeof(p) / 8;
	p.h.d.flags = VMBUS_PKT_FLAG_COMPLETION_REQUESTED;
	p.h.d.trans_id = ++sim.next_tid;
	p.h.xfer_pageset_id = NVSP_RXBUF_SIG;
	p.h.range_count = 1;
	p.r.byte_offset = range_len ? range_off : off;
	p.r.byte_count = range_len ? range_len : len;
	p.n.type = NVSP_TYPE_RNDIS;
	p.n.channel_type = channel_type;
	sim_write_packet(c, &p, sizeof(p));
}

void sim_net_send_frame(const void *frame, uint32_t len)
{
	uint8_t m[2048];
	struct rndis_packet p = { 0 };
	p.type = RNDIS_MSG_PACKET;
	p.len = (uint32_t)sizeof(p) + len;
	p.data_off = 36;
	p.data_len = len;
	memcpy(m, &p, sizeof(p));
	memcpy(m + sizeof(p), frame, len);
	net_xfer(m, p.len, NVSP_RNDIS_DATA, 0, 0);
}

void sim_net_send_raw_rndis(const void *msg, uint32_t len, uint32_t range_off, uint32_t range_len)
{
	net_xfer(msg, len, NVSP_RNDIS_DATA, range_off, range_len);
}

void sim_net_indicate(uint32_t status)
{
	struct rndis_indicate s = { RNDIS_MSG_INDICATE, sizeof(s), status, 0, 0 };
	net_xfer(&s, sizeof(s), NVSP_RNDIS_CONTROL, 0, 0);
}

static void net_rndis(const uint8_t *m, uint32_t len)
{
	struct rndis_hdr h;
	assert(len >= 8);
	memcpy(&h, m, 8);
	assert(h.len == len);
	uint8_t reply[128];
	memset(reply, 0, sizeof(reply));
	sim.rndis_requests++;
	switch (h.type) {
	case RNDIS_MSG_INIT: {
		struct rndis_init_req q;
		memcpy(&q, m, sizeof(q));
		assert(q.major == 1 && q.minor == 0 && q.len == 24);
		struct rndis_init_comp c = { RNDIS_MSG_INIT | RNDIS_MSG_COMPLETION, sizeof(c), q.req_id, 0, 1, 0, 1, 0, 8,
					     0x4000, 3, 0, 0 };
		net_xfer(&c, sizeof(c), NVSP_RNDIS_CONTROL, 0, 0);
		return;
	}
	case RNDIS_MSG_QUERY: {
		struct rndis_oid_req q;
		memcpy(&q, m, sizeof(q));
		assert(q.len == 28 && q.info_len == 0);
		struct rndis_query_comp c = { RNDIS_MSG_QUERY | RNDIS_MSG_COMPLETION, 0, q.req_id, 0, 0, 16 };
		uint8_t info[8];
		uint32_t v;
		if (q.oid == RNDIS_OID_802_3_PERMANENT_ADDRESS) {
			memcpy(info, sim.mac, 6);
			c.info_len = 6;
		} else if (q.oid == RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE) {
			memcpy(info, &sim.mtu, 4);
			c.info_len = 4;
		} else if (q.oid == RNDIS_OID_GEN_MEDIA_CONNECT_STATUS) {
			v = 0;
			memcpy(info, &v, 4);
			c.info_len = 4;
		} else {
			c.status = 0xc00000bb; /* not supported */
		}
		if (sim.evil == EVIL_QUERY_INFO && q.oid == RNDIS_OID_802_3_PERMANENT_ADDRESS)
			c.info_off = 200;
		c.len = (uint32_t)sizeof(c) + c.info_len;
		memcpy(reply, &c, sizeof(c));
		memcpy(reply + sizeof(c), info, c.info_len);
		net_xfer(reply, c.len, NVSP_RNDIS_CONTROL, 0, 0);
		return;
	}
	case RNDIS_MSG_SET: {
		struct rndis_oid_req q;
		memcpy(&q, m, sizeof(q));
		assert(q.oid == RNDIS_OID_GEN_CURRENT_PACKET_FILTER && q.info_len == 4 && q.info_off == 20);
		memcpy(&sim.filter, m + 8 + q.info_off, 4);
		struct rndis_set_comp c = { RNDIS_MSG_SET | RNDIS_MSG_COMPLETION, sizeof(c), q.req_id, 0 };
		net_xfer(&c, sizeof(c), NVSP_RNDIS_CONTROL, 0, 0);
		return;
	}
	case RNDIS_MSG_PACKET: {
		struct rndis_packet p;
		memcpy(&p, m, sizeof(p));
		assert(p.data_off == 36 && 8 + p.data_off + p.data_len <= len && p.data_len <= sizeof(sim.frame));
		memcpy(sim.frame, m + 8 + p.data_off, p.data_len);
		sim.frame_len = p.data_len;
		sim.frames++;
		return;
	}
	default:
		sim.bad_guest++;
	}
}

static void net_packet(struct sim_chan *c, const uint8_t *pkt, uint32_t len)
{
	struct vmpacket_descriptor d;
	memcpy(&d, pkt, 16);
	const uint8_t *p = pkt + d.offset8 * 8;
	uint32_t plen = len - d.offset8 * 8;
	uint32_t type;
	memcpy(&type, p, 4);
	if (d.type == VM_PKT_COMP) {
		struct nvsp_rndis_ack a;
		assert(plen >= sizeof(a));
		memcpy(&a, p, sizeof(a));
		assert(a.type == NVSP_TYPE_RNDIS_ACK);
		if (d.trans_id > sim.next_tid)
			sim.acks_other++; /* for a packet a test wrote by hand */
		else if (a.status == NVSP_STATUS_OK)
			sim.acks++;
		else
			sim.ack_failed_status++;
		return;
	}
	assert(d.type == VM_PKT_DATA_INBAND && plen == NVSP_MSG_SIZE);
	switch (type) {
	case NVSP_TYPE_INIT: {
		struct nvsp_init m;
		memcpy(&m, p, sizeof(m));
		sim.nvsp_tried[sim.nnvsp++] = m.ver_max;
		struct nvsp_init_resp r = { NVSP_TYPE_INIT_RESP, 0, 0, m.ver_max <= sim.nvsp_max ? NVSP_STATUS_OK : NVSP_STATUS_FAILED };
		assert(d.flags & VMBUS_PKT_FLAG_COMPLETION_REQUESTED);
		send_comp(c, d.trans_id, &r, sizeof(r));
		return;
	}
	case NVSP_TYPE_NDIS_CONF: {
		struct nvsp_ndis_conf m;
		memcpy(&m, p, sizeof(m));
		sim.conf_mtu = m.mtu;
		return;
	}
	case NVSP_TYPE_NDIS_INIT: {
		struct nvsp_ndis_init m;
		memcpy(&m, p, sizeof(m));
		sim.ndis_major = m.ndis_major;
		sim.ndis_minor = m.ndis_minor;
		return;
	}
	case NVSP_TYPE_RXBUF_CONN: {
		struct nvsp_buf_conn m;
		memcpy(&m, p, sizeof(m));
		struct sim_gpadl *g = find_gpadl(m.gpadl);
		assert(g && m.sig == NVSP_RXBUF_SIG);
		sim.rxbuf = gpadl_mem(g);
		sim.rxbuf_len = g->bytes;
		struct {
			struct nvsp_rxbuf_connresp r;
			struct nvsp_rxbuf_section s;
		} __attribute__((packed)) r = { { NVSP_TYPE_RXBUF_CONNRESP, NVSP_STATUS_OK, 1 },
						{ 0, 1728, g->bytes / 1728, g->bytes } };
		if (sim.evil == EVIL_RXBUF_SECTIONS)
			r.r.nsections = 40;
		send_comp(c, d.trans_id, &r, sizeof(r));
		return;
	}
	case NVSP_TYPE_CHIM_CONN: {
		struct nvsp_buf_conn m;
		memcpy(&m, p, sizeof(m));
		struct sim_gpadl *g = find_gpadl(m.gpadl);
		assert(g && m.sig == NVSP_CHIM_SIG);
		sim.txbuf = gpadl_mem(g);
		sim.txbuf_len = g->bytes;
		struct nvsp_chim_connresp r = { NVSP_TYPE_CHIM_CONNRESP, NVSP_STATUS_OK,
						sim.evil == EVIL_CHIM_SECTION ? 0 : sim.section_size };
		send_comp(c, d.trans_id, &r, sizeof(r));
		return;
	}
	case NVSP_TYPE_RNDIS: {
		struct nvsp_rndis m;
		memcpy(&m, p, sizeof(m));
		assert(m.section_index < sim.txbuf_len / sim.section_size && m.section_size <= sim.section_size);
		net_rndis(sim.txbuf + (size_t)m.section_index * sim.section_size, m.section_size);
		struct nvsp_rndis_ack a = { NVSP_TYPE_RNDIS_ACK, NVSP_STATUS_OK, { 0 } };
		send_comp(c, d.trans_id, &a, sizeof(a));
		return;
	}
	case NVSP_TYPE_RXBUF_DISCONN:
	case NVSP_TYPE_CHIM_DISCONN:
		return;
	default:
		sim.bad_guest++;
	}
}

/* --- storvsc device --- */

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void srb(struct vstor_packet *v, uint8_t *data, uint32_t dlen)
{
	struct vmscsi_request *s = &v->srb;
	uint8_t *cdb = s->cdb;
	uint32_t moved = 0;
	sim.srbs++;
	memcpy(sim.last_cdb, cdb, 16);
	assert(s->length == 52 && s->data_transfer_length == dlen && s->sense_info_length == 20);
	s->srb_status = SRB_STATUS_SUCCESS;
	s->scsi_status = 0;
	if (s->lun != 0 && cdb[0] == SCSI_INQUIRY) {
		s->srb_status = SRB_STATUS_INVALID_LUN;
		s->data_transfer_length = 0;
		return;
	}
	switch (cdb[0]) {
	case SCSI_INQUIRY:
		assert(s->data_in == SRB_DATA_READ && dlen >= 36 && (s->win8.srb_flags & SRB_FLAGS_DATA_IN));
		memset(data, 0, 36);
		data[0] = 0x00; /* direct access, connected */
		data[4] = 31;
		memcpy(data + 8, "Msft    Virtual Disk    1.0 ", 28);
		moved = 36;
		break;
	case SCSI_READ_CAPACITY_10:
		put_be(data, sim.disk_blocks - 1 > 0xffffffffu ? 0xffffffffu : sim.disk_blocks - 1, 4);
		put_be(data + 4, sim.block_size, 4);
		moved = 8;
		break;
	case SCSI_SERVICE_ACTION_IN_16:
		assert(cdb[1] == SCSI_SAI_READ_CAPACITY_16);
		memset(data, 0, 32);
		put_be(data, sim.disk_blocks - 1, 8);
		put_be(data + 8, sim.block_size, 4);
		moved = 32;
		break;
	case SCSI_READ_10:
	case SCSI_WRITE_10:
	case SCSI_READ_16:
	case SCSI_WRITE_16: {
		bool ten = cdb[0] == SCSI_READ_10 || cdb[0] == SCSI_WRITE_10;
		bool wr = cdb[0] == SCSI_WRITE_10 || cdb[0] == SCSI_WRITE_16;
		uint64_t lba = ten ? get_be(cdb + 2, 4) : get_be(cdb + 2, 8);
		uint32_t n = (uint32_t)(ten ? get_be(cdb + 7, 2) : get_be(cdb + 10, 4));
		assert(s->cdb_length == (ten ? 10 : 16));
		assert(s->data_in == (wr ? SRB_DATA_WRITE : SRB_DATA_READ));
		if (lba + n > sim.disk_blocks || (uint64_t)n * sim.block_size != dlen) {
			s->srb_status = SRB_STATUS_ERROR | SRB_STATUS_AUTOSENSE_VALID;
			s->scsi_status = 2; /* check condition */
			s->sense_info_length = 18;
			memset(s->sense, 0, 20);
			s->sense[0] = 0x70;
			s->sense[2] = 0x05; /* illegal request */
			s->sense[12] = 0x21; /* LBA out of range */
			s->data_transfer_length = 0;
			return;
		}
		if (wr)
			memcpy(sim.disk + lba * sim.block_size, data, dlen);
		else
			memcpy(data, sim.disk + lba * sim.block_size, dlen);
		moved = dlen;
		if (sim.evil == EVIL_STOR_LEN && !wr)
			moved = dlen + 512;
		break;
	}
	case SCSI_SYNCHRONIZE_CACHE_10:
	case SCSI_TEST_UNIT_READY:
		assert(s->data_in == SRB_DATA_NONE && dlen == 0);
		break;
	default:
		s->srb_status = SRB_STATUS_ERROR;
		s->scsi_status = 2;
	}
	s->data_transfer_length = moved;
}

static void stor_packet(struct sim_chan *c, const uint8_t *pkt, uint32_t len)
{
	struct vmpacket_descriptor d;
	memcpy(&d, pkt, 16);
	uint32_t off = d.offset8 * 8u;
	struct vstor_packet v;
	uint8_t *data = NULL;
	uint32_t dlen = 0;

	assert(d.flags & VMBUS_PKT_FLAG_COMPLETION_REQUESTED);
	if (d.type == VM_PKT_DATA_USING_GPA_DIRECT) {
		struct vmbus_gpa_direct_header h;
		memcpy(&h, pkt, sizeof(h));
		assert(h.range_count == 1);
		uint32_t npfn = (h.range.byte_offset + h.range.byte_count + 4095) / 4096;
		assert(off == sizeof(h) + npfn * 8);
		uint64_t pfn0;
		memcpy(&pfn0, pkt + sizeof(h), 8);
		for (uint32_t i = 1; i < npfn; i++) {
			uint64_t pfn;
			memcpy(&pfn, pkt + sizeof(h) + i * 8, 8);
			assert(pfn == pfn0 + i);
		}
		data = (uint8_t *)gpa(pfn0) + h.range.byte_offset;
		dlen = h.range.byte_count;
	} else {
		assert(d.type == VM_PKT_DATA_INBAND && off == 16);
	}
	/* Before a version is agreed the guest sends packets without the
	 * Windows 8 SRB extension (48 bytes), after it whole ones. */
	memset(&v, 0, sizeof(v));
	assert(len - off == (sim.stor_agreed ? sizeof(v) : sizeof(v) - 16));
	memcpy(&v, pkt + off, len - off);
	assert(v.flags == VSTOR_FLAG_REQUEST_COMPLETION);
	uint32_t op = v.operation;
	v.operation = VSTOR_OP_COMPLETE_IO;
	v.status = 0;
	switch (op) {
	case VSTOR_OP_BEGIN_INITIALIZATION:
	case VSTOR_OP_END_INITIALIZATION:
		sim.inits++;
		break;
	case VSTOR_OP_QUERY_PROTOCOL_VERSION:
		if (v.version.major_minor > sim.stor_max)
			v.status = 0xc0000001;
		else
			sim.stor_agreed = true;
		break;
	case VSTOR_OP_QUERY_PROPERTIES:
		memset(&v.props, 0, sizeof(v.props));
		v.props.max_channel_count = 1;
		v.props.max_transfer_bytes = sim.max_transfer;
		break;
	case VSTOR_OP_EXECUTE_SRB:
		srb(&v, data, dlen);
		break;
	default:
		sim.bad_guest++;
		v.status = 0xc0000001;
	}
	uint64_t tid = d.trans_id;
	if (sim.evil == EVIL_STOR_TID && op == VSTOR_OP_EXECUTE_SRB)
		tid += 0x10000 * 7; /* another generation of the slot */
	send_comp(c, tid, &v, sim.evil == EVIL_STOR_SHORT && op == VSTOR_OP_EXECUTE_SRB ? 40 : sizeof(v));
}

static void host_signal(void *ctx, uint32_t conn_id)
{
	(void)ctx;
	uint8_t pkt[4096];
	uint32_t len;
	for (int i = 0; i < 2; i++) {
		struct sim_chan *c = &sim.chans[i];
		if (c->conn_id != conn_id)
			continue;
		assert(c->open);
		while ((len = read_guest_packet(c, pkt, sizeof(pkt))) != 0) {
			if (c->relid == SIM_NET_RELID)
				net_packet(c, pkt, len);
			else
				stor_packet(c, pkt, len);
		}
		return;
	}
	fprintf(stderr, "sim: signal for unknown connection %#x\n", conn_id);
	abort();
}

/* --- the guest's environment --- */

static uint64_t host_phys(void *ctx, const void *va)
{
	(void)ctx;
	return (uint64_t)(uintptr_t)va;
}

static void *host_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	size_t n = (bytes + 4095) & ~(size_t)4095;
	void *p = aligned_alloc(4096, n);
	if (p)
		memset(p, 0, n);
	return p;
}

static void host_free(void *ctx, void *va, size_t bytes)
{
	(void)ctx;
	(void)bytes;
	free(va);
}

bool sim_pump(void)
{
	if (sim.qtail != sim.qhead) {
		unsigned i = sim.qtail++ % 64;
		vmbus_conn_message(sim.conn, sim.q[i].data, sim.q[i].len);
		return true;
	}
	if (sim.events) {
		unsigned relid = (unsigned)__builtin_ctzll(sim.events);
		sim.events &= sim.events - 1;
		vmbus_conn_event(sim.conn, relid);
		return true;
	}
	return false;
}

static int host_wait(void *ctx, bool (*done)(void *), void *arg, unsigned timeout_ms)
{
	(void)ctx;
	(void)timeout_ms;
	while (!done(arg))
		if (!sim_pump())
			return -ETIMEDOUT; /* nothing more will come */
	return 0;
}

const struct vmbus_ops sim_ops = { host_post, host_signal, host_phys, host_alloc, host_free, host_wait, NULL };

void sim_reset(struct vmbus_conn *conn)
{
	free(sim.disk);
	if (sim.conn) {
		free(sim.conn->monitor_pages);
		free(sim.conn->interrupt_page);
		sim.conn->monitor_pages = sim.conn->interrupt_page = NULL;
	}
	memset(&sim, 0, sizeof(sim));
	sim.conn = conn;
	sim.max_version = VMBUS_VERSION_WIN10_V5_3;
	sim.msg_conn_id = 4;
	sim.chans[0] = (struct sim_chan){ .relid = SIM_NET_RELID, .conn_id = 0x2000 + SIM_NET_RELID };
	sim.chans[1] = (struct sim_chan){ .relid = SIM_STOR_RELID, .conn_id = 0x2000 + SIM_STOR_RELID };
	memcpy(sim.chans[0].type, net_guid, 16);
	memcpy(sim.chans[1].type, stor_guid, 16);
	sim.nvsp_max = NVSP_VERSION_61;
	sim.section_size = 6144;
	memcpy(sim.mac, "\x00\x15\x5d\x01\x02\x03", 6);
	sim.mtu = 1500;
	sim.stor_max = VSTOR_PROTO_WIN10;
	sim.block_size = 512;
	sim.disk_blocks = 2048;
	sim.max_transfer = 256 * 1024;
	sim.disk = calloc(sim.disk_blocks, sim.block_size);
	vmbus_conn_init(conn, &sim_ops);
}
