/* Host-side tests of the Hyper-V code (modules/hyperv, vmbus, netvsc,
 * storvsc): encoders and decoders against byte vectors laid out from the
 * TLFS and the VMBus/NVSP/RNDIS/VSTOR message definitions, and the drivers
 * run end to end against the simulated host in sim.c, well-formed and
 * malformed. Usage: hvtest CASE; prints "ok CASE" and exits 0, or names the
 * failed check and exits 1. */
#include "sim.h"
#include <hyperv/tlfs.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *current;
#define CHECK(c)                                                                           \
	do {                                                                               \
		if (!(c)) {                                                                \
			printf("FAIL %s: %s:%d: %s\n", current, __FILE__, __LINE__, #c);   \
			exit(1);                                                           \
		}                                                                          \
	} while (0)
#define CHECK_EQ(a, b)                                                                                    \
	do {                                                                                              \
		long long _a = (long long)(a), _b = (long long)(b);                                       \
		if (_a != _b) {                                                                           \
			printf("FAIL %s: %s:%d: %s == %s (%lld != %lld)\n", current, __FILE__, __LINE__, #a, #b, \
			       _a, _b);                                                                   \
			exit(1);                                                                          \
		}                                                                                         \
	} while (0)
#define CHECK_BYTES(p, v) CHECK(memcmp((p), (v), sizeof(v)) == 0)

static uint8_t hexbuf[4096];
/* Bytes from a hex string (spaces ignored). */
static const uint8_t *hex(const char *s, size_t *n)
{
	size_t k = 0;
	while (*s) {
		if (*s == ' ' || *s == '\n' || *s == '|') {
			s++;
			continue;
		}
		unsigned v;
		sscanf(s, "%2x", &v);
		hexbuf[k++] = (uint8_t)v;
		s += 2;
	}
	*n = k;
	return hexbuf;
}
#define CHECK_HEX(p, len, str)                                   \
	do {                                                     \
		size_t _n;                                       \
		const uint8_t *_v = hex(str, &_n);               \
		CHECK_EQ(len, _n);                               \
		CHECK(memcmp((p), _v, _n) == 0);                 \
	} while (0)

/* ---------------- byte vectors ---------------- */

static void t_tlfs(void)
{
	/* CPUID 0x40000000: "Microsoft Hv" in EBX, ECX, EDX. */
	uint32_t r[3];
	memcpy(r, "Microsoft Hv", 12);
	CHECK(hv_vendor_is_microsoft(r[0], r[1], r[2]));
	memcpy(r, "KVMKVMKVM\0\0\0", 12);
	CHECK(!hv_vendor_is_microsoft(r[0], r[1], r[2]));
	/* Guest OS id: open source bit 63, type 62:56, id 55:48, version 47:16, build 15:0. */
	CHECK_EQ(hv_guest_os_id(0, 0, 0x000100, 0), 0x8000000001000000ull);
	CHECK_EQ(hv_guest_os_id(1, 0, 0x050f00, 7), 0x810000050f000007ull);
	/* Hypercall input: code 15:0, fast bit 16, rep count 43:32. */
	CHECK_EQ(hv_hypercall_input(HVCALL_POST_MESSAGE, false, 0), 0x5c);
	CHECK_EQ(hv_hypercall_input(HVCALL_SIGNAL_EVENT, true, 0), 0x1005d);
	CHECK_EQ(hv_hypercall_input(0x13, false, 3), 0x300000013ull);
	/* HvSignalEvent's one register: connection id, then flag number at bit 32. */
	CHECK_EQ(hv_signal_event_param(0x2005, 3), 0x0000000300002005ull);
	CHECK_EQ(hv_status_errno(0), 0);
	CHECK_EQ(hv_status_errno(HV_STATUS_INSUFFICIENT_BUFFERS), -EAGAIN);
	CHECK_EQ(hv_status_errno(HV_STATUS_INVALID_CONNECTION_ID), -ENOENT);
	CHECK_EQ(hv_status_errno(0x10000 | HV_STATUS_ACCESS_DENIED), -EACCES); /* reps completed above bit 32 ignored */

	/* HvPostMessage input page. */
	static struct hv_post_message_input in;
	CHECK_EQ(hv_post_message_encode(&in, 4, 1, "\x0e\x00\x00\x00", 4), 0);
	CHECK_HEX(&in, 20, "04000000 00000000 01000000 04000000 0e000000");
	uint8_t big[241] = { 0 };
	CHECK_EQ(hv_post_message_encode(&in, 4, 1, big, 241), -EMSGSIZE);
	CHECK_EQ(hv_post_message_encode(&in, 4, 1, big, 240), 0);

	/* A SynIC message slot whose payload size the hypervisor overstated. */
	static struct hv_message m;
	size_t len = 0;
	m.header.message_type = 1;
	m.header.payload_size = 240;
	CHECK_EQ(hv_message_check(&m, &len), 0);
	CHECK_EQ(len, 240);
	m.header.payload_size = 241;
	CHECK_EQ(hv_message_check(&m, &len), -EINVAL);

	/* Reference TSC page: a 2.5 GHz TSC has scale 2^64 * 10^7 / 2.5e9 = 2^64 / 250. */
	uint64_t scale = (uint64_t)(((unsigned __int128)1 << 64) / 250);
	CHECK_EQ(hv_ref_tsc_time(2500000000ull, scale, 0), 9999999); /* one second, floor */
	CHECK_EQ(hv_ref_tsc_time(2500000000ull, scale, 1000), 10000999);
	CHECK_EQ(hv_ref_tsc_time(0, scale, -5), (uint64_t)-5);
	uint64_t hz = hv_ref_tsc_hz(scale);
	CHECK(hz >= 2500000000ull && hz <= 2500000001ull);
	CHECK_EQ(hv_ref_tsc_hz(10000000), 0);
	CHECK_EQ(hv_ref_tsc_hz(0), 0);
}

static void t_ring(void)
{
	static uint8_t mem[3 * 4096] __attribute__((aligned(4096)));
	struct vmbus_ring r;
	bool sig;
	uint8_t out[256];

	memset(mem, 0, sizeof(mem));
	CHECK_EQ(vmbus_ring_init(&r, mem, 4096), -EINVAL);
	CHECK_EQ(vmbus_ring_init(&r, mem, sizeof(mem)), 0);
	CHECK_EQ(r.size, 8192);
	CHECK_HEX(mem + 64, 4, "01000000"); /* feature bits: pending_send_sz honoured */

	/* An inband packet: descriptor, 5 payload bytes, 3 padding, 8-byte trailer (old write index << 32). */
	struct vmpacket_descriptor d = { VM_PKT_DATA_INBAND, 2, 3, 1, 0x1122334455667788ull };
	struct vmbus_iov iov[2] = { { &d, 16 }, { "hello", 5 } };
	CHECK_EQ(vmbus_ring_write(&r, iov, 2, &sig), 0);
	CHECK(sig); /* the reader had caught up and is not masked */
	CHECK_HEX(mem + 4096, 32,
		  "0600 0200 0300 0100 8877665544332211 68656c6c6f 000000 0000000000000000");
	CHECK_EQ(r.hdr->write_index, 32);
	CHECK_EQ(vmbus_ring_write(&r, iov, 2, &sig), 0);
	CHECK(!sig); /* the reader has not read the first one yet */
	CHECK_HEX(mem + 4096 + 32 + 24, 8, "00000000 20000000"); /* trailer: 32 << 32 */

	CHECK_EQ(vmbus_ring_read(&r, out, sizeof(out), &sig), 24);
	CHECK(memcmp(out + 16, "hello", 5) == 0);
	CHECK_EQ(vmbus_ring_read(&r, out, 16, &sig), -EMSGSIZE); /* too big for the buffer: skipped, */
	CHECK_HEX(out, 16, "0600 0200 0300 0100 8877665544332211"); /* its descriptor handed back */
	CHECK_EQ(vmbus_ring_avail_read(&r), 0);
	CHECK_EQ(vmbus_ring_write(&r, iov, 2, &sig), 0);
	CHECK_EQ(vmbus_ring_read(&r, out, 8, &sig), -EMSGSIZE);
	CHECK_EQ(vmbus_ring_read(&r, out, sizeof(out), &sig), 0);
	CHECK_EQ(r.hdr->read_index, 96);

	/* Wrap-around: a packet written across the end comes back whole. */
	r.hdr->read_index = r.hdr->write_index = 8192 - 16;
	uint8_t payload[40];
	for (int i = 0; i < 40; i++)
		payload[i] = (uint8_t)i;
	struct vmpacket_descriptor d2 = { VM_PKT_COMP, 2, 7, 0, 9 };
	struct vmbus_iov iov2[2] = { { &d2, 16 }, { payload, 40 } };
	r.hdr->interrupt_mask = 1;
	CHECK_EQ(vmbus_ring_write(&r, iov2, 2, &sig), 0);
	CHECK(!sig); /* masked: the reader is polling */
	CHECK_EQ(r.hdr->write_index, 48);
	CHECK_HEX(mem + 4096, 8, "0001020304050607"); /* payload[0..] after the 16-byte descriptor at the end */
	CHECK_EQ(vmbus_ring_read(&r, out, sizeof(out), &sig), 56);
	CHECK(memcmp(out + 16, payload, 40) == 0);

	/* Full: the writer never makes the indices equal. */
	r.hdr->read_index = r.hdr->write_index = 0;
	static uint8_t blob[8192];
	struct vmbus_iov iov3[2] = { { &d, 16 }, { blob, 8192 - 16 - 8 - 8 } };
	CHECK_EQ(vmbus_ring_write(&r, iov3, 2, &sig), 0); /* 8184 of 8192 */
	CHECK_EQ(vmbus_ring_write(&r, iov, 2, &sig), -EAGAIN);

	/* A reader waiting for room (pending_send_sz) is signalled when the read crosses its mark. */
	r.hdr->read_index = r.hdr->write_index = 0;
	r.hdr->interrupt_mask = 0;
	CHECK_EQ(vmbus_ring_write(&r, iov, 2, &sig), 0);
	r.hdr->pending_send_sz = 8192 - 8;
	CHECK_EQ(vmbus_ring_read(&r, out, sizeof(out), &sig), 24);
	CHECK(sig);

	/* Malformed rings from the other side. */
	r.hdr->read_index = 0;
	r.hdr->write_index = 12; /* not 8-byte aligned */
	CHECK_EQ(vmbus_ring_read(&r, out, sizeof(out), &sig), -EIO);
	r.hdr->write_index = 8192; /* outside the ring */
	CHECK_EQ(vmbus_ring_read(&r, out, sizeof(out), &sig), -EIO);
	CHECK_EQ(vmbus_ring_avail_read(&r), 0);
	r.hdr->write_index = 32;
	struct vmpacket_descriptor bad = { VM_PKT_COMP, 2, 200, 0, 0 }; /* longer than what was written */
	memcpy(mem + 4096, &bad, 16);
	CHECK_EQ(vmbus_ring_read(&r, out, sizeof(out), &sig), -EIO);
	bad.len8 = 3;
	bad.offset8 = 1; /* data offset inside the descriptor */
	memcpy(mem + 4096, &bad, 16);
	CHECK_EQ(vmbus_ring_read(&r, out, sizeof(out), &sig), -EIO);
	bad.offset8 = 4; /* data offset past the packet's end */
	memcpy(mem + 4096, &bad, 16);
	CHECK_EQ(vmbus_ring_read(&r, out, sizeof(out), &sig), -EIO);
	CHECK_EQ(r.hdr->read_index, 0); /* nothing consumed */
}

static void t_vmbus_messages(void)
{
	static struct vmbus_conn c;
	sim_reset(&c);
	CHECK_EQ(vmbus_connect(&c, 100), 0);
	/* INITIATE_CONTACT for 5.3: SINT 2 in place of the interrupt page, the two monitor pages. */
	uint64_t mp = (uint64_t)(uintptr_t)c.monitor_pages;
	uint8_t want[40];
	size_t n;
	memcpy(want, hex("0e000000 00000000 03000500 00000000 0200000000000000", &n), 24);
	memcpy(want + 24, &mp, 8);
	mp += 4096;
	memcpy(want + 32, &mp, 8);
	CHECK_EQ(sim.loglen[0], 40);
	CHECK(memcmp(sim.log[0], want, 40) == 0);
	CHECK_EQ(sim.logconn[0], 4);
	CHECK_HEX(sim.log[1], sim.loglen[1], "03000000 00000000"); /* REQUESTOFFERS */
	CHECK_EQ(c.version, VMBUS_VERSION_WIN10_V5_3);
	CHECK_EQ(c.nchannels, 2);
	CHECK_EQ(c.channels[0].relid, SIM_NET_RELID);
	CHECK_EQ(c.channels[0].signal_id, 0x2005);
	/* netvsc's interface type f8615163-df3e-46c5-913f-f2d2f965ed0e on the wire. */
	CHECK_HEX(c.channels[0].type, 16, "635161f8 3edf c546 913f f2d2f965ed0e");

	/* A 30-page GPADL: the header carries 26 page numbers, one body the other 4. */
	uint8_t *buf = sim_ops.alloc(NULL, 30 * 4096);
	uint32_t h;
	unsigned first = sim.nlog;
	CHECK_EQ(vmbus_gpadl_create(&c.channels[1], buf, 30 * 4096, &h, 100), 0);
	CHECK_EQ(h, 0xe1e10);
	CHECK_EQ(sim.nlog - first, 2);
	CHECK_EQ(sim.loglen[first], 28 + 26 * 8);
	CHECK_HEX(sim.log[first], 28, "08000000 00000000 07000000 101e0e00 f800 0100 00e00100 00000000");
	uint64_t pfn0 = (uint64_t)(uintptr_t)buf >> 12, pfn;
	memcpy(&pfn, sim.log[first] + 28, 8);
	CHECK_EQ(pfn, pfn0);
	CHECK_EQ(sim.loglen[first + 1], 16 + 4 * 8);
	CHECK_HEX(sim.log[first + 1], 16, "09000000 00000000 00000000 101e0e00");
	memcpy(&pfn, sim.log[first + 1] + 16, 8);
	CHECK_EQ(pfn, pfn0 + 26);
	CHECK_EQ(vmbus_gpadl_teardown(&c.channels[1], h, 100), 0);
	CHECK_HEX(sim.log[sim.nlog - 1], 16, "0b000000 00000000 07000000 101e0e00");
	free(buf);

	/* 100 pages: 26 in the header, then bodies of 28, 28 and 18; the host gets them all, in order. */
	buf = sim_ops.alloc(NULL, 100 * 4096);
	first = sim.nlog;
	CHECK_EQ(vmbus_gpadl_create(&c.channels[1], buf, 100 * 4096, &h, 100), 0);
	CHECK_EQ(h, 0xe1e11);
	CHECK_EQ(sim.nlog - first, 4);
	CHECK_EQ(sim.loglen[first + 3], 16 + 18 * 8);
	struct sim_gpadl *g = &sim.gpadls[sim.ngpadl - 1];
	CHECK_EQ(g->npfn, 100);
	for (unsigned i = 0; i < 100; i++)
		CHECK_EQ(g->pfn[i], ((uint64_t)(uintptr_t)buf >> 12) + i);
	CHECK_EQ(vmbus_gpadl_teardown(&c.channels[1], h, 100), 0);
	/* Not page-aligned, empty: refused before anything is sent. */
	first = sim.nlog;
	CHECK_EQ(vmbus_gpadl_create(&c.channels[1], buf + 8, 4096, &h, 100), -EINVAL);
	CHECK_EQ(vmbus_gpadl_create(&c.channels[1], buf, 0, &h, 100), -EINVAL);
	CHECK_EQ(sim.nlog, first);
	free(buf);
	CHECK_EQ(c.bad_messages, 0);

	/* Messages from the host that are too short, unexpected or name nothing we asked for. */
	CHECK_EQ(vmbus_conn_message(&c, "\x01\x00\x00\x00", 4), -EINVAL);
	struct vmbus_msg_open_result orr = { { CHANNELMSG_OPENCHANNEL_RESULT, 0 }, 5, 5, 0 };
	CHECK_EQ(vmbus_conn_message(&c, &orr, sizeof(orr)), -EINVAL); /* no open pending */
	CHECK_EQ(vmbus_conn_message(&c, &orr, 12), -EINVAL);
	struct vmbus_msg_gpadl_torndown td = { { CHANNELMSG_GPADL_TORNDOWN, 0 }, 0x1234 };
	CHECK_EQ(vmbus_conn_message(&c, &td, sizeof(td)), -EINVAL);
	struct vmbus_msg_offer_channel o;
	memset(&o, 0, sizeof(o));
	o.header.msgtype = CHANNELMSG_OFFERCHANNEL;
	o.child_relid = SIM_NET_RELID; /* a relid already offered */
	CHECK_EQ(vmbus_conn_message(&c, &o, sizeof(o)), -EINVAL);
	o.child_relid = 0;
	CHECK_EQ(vmbus_conn_message(&c, &o, sizeof(o)), -EINVAL);
	o.child_relid = 9;
	CHECK_EQ(vmbus_conn_message(&c, &o, sizeof(o) - 1), -EINVAL);
	CHECK_EQ(c.nchannels, 2);
	CHECK_EQ(vmbus_conn_message(&c, &o, sizeof(o)), 0); /* a well-formed late offer */
	CHECK_EQ(c.nchannels, 3);
	uint8_t huge[241] = { 4 };
	CHECK_EQ(vmbus_conn_message(&c, huge, sizeof(huge)), -EINVAL);
	CHECK_EQ(c.bad_messages, 8);
}

static void t_nvsp_rndis(void)
{
	uint8_t b[128];
	const uint8_t frame[14] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00 };
	size_t n = netvsc_rndis_packet(b, frame, 14);
	CHECK_HEX(b, n,
		  "01000000 3a000000 24000000 0e000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
		  "0102030405060708090a0b0c0800");
	uint32_t filter = 0xb;
	n = netvsc_rndis_oid_req(b, RNDIS_MSG_SET, 7, RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &filter, 4);
	CHECK_HEX(b, n, "05000000 20000000 07000000 0e010100 04000000 14000000 00000000 0b000000");
	n = netvsc_rndis_oid_req(b, RNDIS_MSG_QUERY, 8, RNDIS_OID_802_3_PERMANENT_ADDRESS, NULL, 0);
	CHECK_HEX(b, n, "04000000 1c000000 08000000 01010101 00000000 00000000 00000000");
	struct nvsp_rndis m;
	netvsc_nvsp_rndis(&m, NVSP_RNDIS_DATA, 3, 58);
	CHECK_HEX(&m, sizeof(m), "6b000000 00000000 03000000 3a000000 00000000000000000000000000000000");
	struct nvsp_init in = { NVSP_TYPE_INIT, NVSP_VERSION_61, NVSP_VERSION_61, { 0 } };
	CHECK_HEX(&in, sizeof(in), "01000000 01000600 01000600 0000000000000000000000000000000000000000");
}

static void t_vstor(void)
{
	uint8_t cdb[16];
	CHECK_EQ(storvsc_cdb_rw(cdb, false, 0x12345678, 8), 10);
	CHECK_HEX(cdb, 10, "28 00 12345678 00 0008 00");
	CHECK_EQ(storvsc_cdb_rw(cdb, true, 0x100000000ull, 8), 16);
	CHECK_HEX(cdb, 16, "8a 00 0000000100000000 00000008 00 00");
	CHECK_EQ(storvsc_cdb_rw(cdb, false, 0xfffffff8ull, 8), 10); /* ends exactly at 2^32 */
	CHECK_EQ(storvsc_cdb_rw(cdb, false, 0, 0x10000), 16);         /* more blocks than READ(10) counts */
	struct vstor_packet p;
	storvsc_cdb_rw(cdb, false, 0x12345678, 8);
	storvsc_srb_encode(&p, 0, cdb, 10, 4096, SRB_DATA_READ);
	CHECK_HEX(&p, 64,
		  "03000000 01000000 00000000"              /* EXECUTE_SRB, completion requested, status */
		  "3400 00 00 00 00 00 00 0a 14 01 00 00100000" /* length 52, port/path/target/lun, cdb 10, sense 20, read */
		  "28001234567800000800 00000000000000000000"   /* cdb in the 20-byte union */
		  "0000 ff 20 4a000000 3c000000 00000000");   /* untagged, simple; DATA_IN | no sync | queue action; 60 s */
	uint8_t sync[10] = { SCSI_SYNCHRONIZE_CACHE_10 };
	storvsc_srb_encode(&p, 3, sync, 10, 0, SRB_DATA_NONE);
	CHECK_EQ(p.srb.lun, 3);
	CHECK_EQ(p.srb.data_in, 2);
	CHECK_EQ(p.srb.win8.srb_flags, SRB_FLAGS_QUEUE_ACTION_ENABLE | SRB_FLAGS_DISABLE_SYNCH_TRANSFER);
}

/* ---------------- end to end ---------------- */

static struct vmbus_conn conn;
static struct netvsc nv;
static struct storvsc sv;
static uint8_t rx_frame[2048];
static size_t rx_len;
static unsigned rx_count, link_calls;

static void on_rx(struct netvsc *n, const void *frame, size_t len)
{
	(void)n;
	memcpy(rx_frame, frame, len);
	rx_len = len;
	rx_count++;
}

static void on_link(struct netvsc *n, bool up)
{
	(void)n;
	(void)up;
	link_calls++;
}

static int net_attach(void)
{
	memset(&nv, 0, sizeof(nv));
	nv.ring_bytes = 16384;
	nv.rxbuf_len = 65536;
	nv.txbuf_len = 65536;
	nv.rx = on_rx;
	nv.link = on_link;
	rx_count = link_calls = 0;
	return netvsc_attach(&nv, vmbus_find_channel(&conn, SIM_NET_RELID));
}

static int stor_attach(void)
{
	memset(&sv, 0, sizeof(sv));
	sv.ring_bytes = 16384;
	return storvsc_attach(&sv, vmbus_find_channel(&conn, SIM_STOR_RELID));
}

static void pump_all(void)
{
	while (sim_pump())
		;
}

struct io_done {
	bool done;
	int err;
	uint32_t got;
};

static void io_cb(struct storvsc *s, struct storvsc_req *rq, void *arg)
{
	(void)s;
	struct io_done *d = arg;
	d->done = true;
	d->err = rq->err;
	d->got = rq->got_len;
}

static int stor_io(bool write, uint64_t lba, uint32_t n, void *buf)
{
	struct io_done d = { 0 };
	int r = storvsc_rw(&sv, 0, write, lba, n, 512, buf, io_cb, &d);
	if (r)
		return r;
	pump_all();
	CHECK(d.done);
	if (!d.err && d.got != n * 512u)
		return -EIO;
	return d.err;
}

static void t_e2e(void)
{
	sim_reset(&conn);
	CHECK_EQ(vmbus_connect(&conn, 100), 0);

	/* netvsc: NVSP 6.1, NDIS 6.30, buffers, RNDIS init, MAC, MTU, link, filter. */
	CHECK_EQ(net_attach(), 0);
	CHECK_EQ(nv.nvsp_version, NVSP_VERSION_61);
	CHECK_EQ(sim.nnvsp, 1);
	CHECK_EQ(sim.ndis_major, 6);
	CHECK_EQ(sim.ndis_minor, 30);
	CHECK_EQ(sim.conf_mtu, 1514);
	CHECK_EQ(sim.rxbuf_len, 65536);
	CHECK_EQ(nv.section_size, 6144);
	CHECK_EQ(nv.nsections, 10);
	CHECK(memcmp(nv.mac, "\x00\x15\x5d\x01\x02\x03", 6) == 0);
	CHECK_EQ(nv.mtu, 1500);
	CHECK(nv.link_up);
	CHECK_EQ(sim.filter, RNDIS_FILTER_DIRECTED | RNDIS_FILTER_MULTICAST | RNDIS_FILTER_BROADCAST);
	CHECK_EQ(sim.acks, 5); /* every RNDIS completion's receive range given back */

	/* A frame out: the host finds it in the send section; the completion frees the section. */
	uint8_t frame[60];
	for (int i = 0; i < 60; i++)
		frame[i] = (uint8_t)(0xa0 + i);
	CHECK_EQ(netvsc_xmit(&nv, frame, 60), 0);
	CHECK_EQ(sim.frames, 1);
	CHECK_EQ(sim.frame_len, 60);
	CHECK(memcmp(sim.frame, frame, 60) == 0);
	pump_all();
	CHECK_EQ(nv.st.tx_done, 5 + 1);
	CHECK_EQ(nv.tx_busy[0], 0);
	CHECK_EQ(netvsc_xmit(&nv, frame, 13), -EMSGSIZE);
	static uint8_t jumbo[6144];
	CHECK_EQ(netvsc_xmit(&nv, jumbo, 6144 - 43), -EMSGSIZE);

	/* A frame in: delivered whole, and its range acknowledged. */
	uint8_t in[1514];
	for (int i = 0; i < 1514; i++)
		in[i] = (uint8_t)(i * 7);
	sim_net_send_frame(in, 1514);
	pump_all();
	CHECK_EQ(rx_count, 1);
	CHECK_EQ(rx_len, 1514);
	CHECK(memcmp(rx_frame, in, 1514) == 0);
	CHECK_EQ(sim.acks, 6);
	sim_net_indicate(RNDIS_STATUS_MEDIA_DISCONNECT);
	pump_all();
	CHECK(!nv.link_up);
	CHECK_EQ(link_calls, 1);
	CHECK_EQ(nv.st.rx_bad, 0);
	CHECK_EQ(nv.st.bad_completions, 0);

	/* storvsc: VSTOR 6.2, properties, then SCSI on the in-memory disk. */
	CHECK_EQ(stor_attach(), 0);
	CHECK_EQ(sv.proto, VSTOR_PROTO_WIN10);
	CHECK_EQ(sv.max_transfer, 256 * 1024);
	CHECK_EQ(sim.inits, 2);
	static uint8_t page[4096] __attribute__((aligned(4096)));
	uint64_t blocks;
	uint32_t bs;
	CHECK_EQ(storvsc_probe_lun(&sv, 0, &blocks, &bs, page), 0);
	CHECK_EQ(blocks, 2048);
	CHECK_EQ(bs, 512);
	CHECK_EQ(sim.last_cdb[0], SCSI_READ_CAPACITY_10);
	CHECK_EQ(storvsc_probe_lun(&sv, 1, &blocks, &bs, page), -ENODEV);

	static uint8_t wbuf[8 * 512] __attribute__((aligned(4096))), rbuf[8 * 512] __attribute__((aligned(4096)));
	for (unsigned i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i ^ (i >> 8) ^ 0x5a);
	CHECK_EQ(stor_io(true, 100, 8, wbuf), 0);
	CHECK(memcmp(sim.disk + 100 * 512, wbuf, sizeof(wbuf)) == 0);
	CHECK_EQ(sim.last_cdb[0], SCSI_WRITE_10);
	memset(sim.disk + 7 * 512, 0xe7, 512);
	CHECK_EQ(stor_io(false, 7, 1, rbuf), 0);
	CHECK_EQ(rbuf[0], 0xe7);
	CHECK_EQ(rbuf[511], 0xe7);
	CHECK_EQ(stor_io(false, 100, 8, rbuf), 0);
	CHECK(memcmp(rbuf, wbuf, sizeof(wbuf)) == 0);
	/* Off the end: a CHECK CONDITION with sense data (illegal request, LBA out of range). */
	CHECK_EQ(stor_io(false, 2047, 2, rbuf), -EIO);
	/* Cache flush: SYNCHRONIZE CACHE without data. */
	uint8_t sync[16] = { SCSI_SYNCHRONIZE_CACHE_10 };
	uint32_t got;
	CHECK_EQ(storvsc_scsi_sync(&sv, 0, sync, 10, NULL, 0, SRB_DATA_NONE, &got), 0);
	CHECK_EQ(sv.st.bad_completions, 0);
	CHECK_EQ(sim.bad_guest, 0);

	/* Close both: the host sees the channels closed and every GPADL torn down. */
	netvsc_detach(&nv);
	storvsc_detach(&sv);
	CHECK(!sim.chans[0].open && !sim.chans[1].open);
	for (unsigned i = 0; i < sim.ngpadl; i++)
		CHECK_EQ(sim.gpadls[i].handle, 0);
}

static void t_e2e_old_host(void)
{
	/* A Windows Server 2012 R2-era host: VMBus 3.0, NVSP 4, VSTOR 5.1. */
	sim_reset(&conn);
	sim.max_version = VMBUS_VERSION_WIN8_1;
	sim.msg_conn_id = VMBUS_MESSAGE_CONNECTION_ID;
	sim.nvsp_max = NVSP_VERSION_4;
	sim.stor_max = VSTOR_PROTO_WIN8;
	sim.busy_posts = 5; /* its message queue is full at first: posting is retried */
	CHECK_EQ(vmbus_connect(&conn, 100), 0);
	CHECK_EQ(sim.busy_posts, 0);
	CHECK_EQ(conn.version, VMBUS_VERSION_WIN8_1);
	CHECK_EQ(sim.nversions, 7); /* 5.3 5.2 5.1 5.0 4.1 4.0 3.0 */
	CHECK_EQ(sim.versions_tried[6], VMBUS_VERSION_WIN8_1);
	CHECK_EQ(sim.contact_conn_id, VMBUS_MESSAGE_CONNECTION_ID); /* before 5.0 */
	CHECK_EQ(conn.msg_conn_id, VMBUS_MESSAGE_CONNECTION_ID);
	uint64_t ip;
	memcpy(&ip, sim.log[6] + 16, 8);
	CHECK(ip != 0 && (ip & 4095) == 0); /* the interrupt page, not a SINT */
	CHECK_EQ(net_attach(), 0);
	CHECK_EQ(nv.nvsp_version, NVSP_VERSION_4);
	CHECK_EQ(sim.nnvsp, 4);
	CHECK_EQ(sim.ndis_minor, 1);
	CHECK_EQ(stor_attach(), 0);
	CHECK_EQ(sv.proto, VSTOR_PROTO_WIN8);

	/* A disk past 2 TiB: READ CAPACITY(10) says 0xffffffff, so (16) is asked. */
	sim.disk_blocks = 1ull << 33;
	static uint8_t page[4096] __attribute__((aligned(4096)));
	uint64_t blocks;
	uint32_t bs;
	CHECK_EQ(storvsc_probe_lun(&sv, 0, &blocks, &bs, page), 0);
	CHECK_EQ(blocks, 1ull << 33);
	CHECK_EQ(sim.last_cdb[0], SCSI_SERVICE_ACTION_IN_16);
	sim.disk_blocks = 2048;
	netvsc_detach(&nv);
	storvsc_detach(&sv);

	/* No common version at all. */
	sim_reset(&conn);
	sim.max_version = VMBUS_VERSION_WIN8 - 1;
	CHECK_EQ(vmbus_connect(&conn, 100), -EPROTONOSUPPORT);
	CHECK_EQ(sim.nversions, 8);
}

/* ---------------- malformed host answers ---------------- */

static void connect_with(int evil, int want)
{
	sim_reset(&conn);
	sim.evil = evil;
	CHECK_EQ(vmbus_connect(&conn, 100), want);
}

static void t_bad_version(void)
{
	connect_with(EVIL_VERSION_SHORT, -ETIMEDOUT);
	CHECK_EQ(conn.bad_messages, 1);
}

static void t_bad_offer(void)
{
	connect_with(EVIL_OFFER_RELID, 0);
	CHECK_EQ(conn.nchannels, 2);
	CHECK_EQ(conn.bad_messages, 1);
	CHECK(vmbus_find_channel(&conn, 5000) == NULL);
}

static void t_bad_gpadl(void)
{
	connect_with(EVIL_NONE, 0);
	sim.evil = EVIL_GPADL_HANDLE;
	CHECK_EQ(net_attach(), -ETIMEDOUT); /* the ring's GPADL is never confirmed */
	CHECK_EQ(conn.bad_messages, 1);
	CHECK(!sim.chans[0].open);
}

static void t_bad_rndis_query(void)
{
	connect_with(EVIL_NONE, 0);
	sim.evil = EVIL_QUERY_INFO;
	CHECK_EQ(net_attach(), -EIO);
	CHECK_EQ(nv.st.rx_bad, 1);
	CHECK(!sim.chans[0].open);
}

static void t_bad_send_section(void)
{
	connect_with(EVIL_NONE, 0);
	sim.evil = EVIL_CHIM_SECTION;
	CHECK_EQ(net_attach(), -EIO);
	connect_with(EVIL_NONE, 0);
	sim.evil = EVIL_RXBUF_SECTIONS;
	CHECK_EQ(net_attach(), -EIO);
}

static void t_bad_rx(void)
{
	connect_with(EVIL_NONE, 0);
	CHECK_EQ(net_attach(), 0);
	unsigned acks = sim.acks;
	uint8_t f[64] = { 0 };
	struct rndis_packet p = { RNDIS_MSG_PACKET, 44 + 64, 36, 64, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t m[44 + 64];
	memcpy(m, &p, 44);
	memcpy(m + 44, f, 64);

	/* The range lies past the receive buffer: not read, acknowledged as failed. */
	sim_net_send_raw_rndis(m, sizeof(m), 65536 - 16, 64);
	pump_all();
	CHECK_EQ(rx_count, 0);
	CHECK_EQ(nv.st.rx_bad, 1);
	CHECK_EQ(sim.ack_failed_status, 1);
	/* Frame data beyond the message's own length. */
	p.data_len = 200;
	memcpy(m, &p, 44);
	sim_net_send_raw_rndis(m, sizeof(m), 0, 0);
	/* A message length beyond the range. */
	p.data_len = 64;
	p.len = 4000;
	memcpy(m, &p, 44);
	sim_net_send_raw_rndis(m, sizeof(m), 0, 0);
	/* A data offset inside the RNDIS header. */
	p.len = 44 + 64;
	p.data_off = 4;
	memcpy(m, &p, 44);
	sim_net_send_raw_rndis(m, sizeof(m), 0, 0);
	/* A runt frame. */
	p.data_off = 36;
	p.data_len = 10;
	memcpy(m, &p, 44);
	sim_net_send_raw_rndis(m, sizeof(m), 0, 0);
	pump_all();
	CHECK_EQ(rx_count, 0);
	CHECK_EQ(nv.st.rx_bad, 5);
	CHECK_EQ(sim.acks, acks + 4); /* the host gets its buffer back anyway */

	/* A transfer-page packet whose range count overruns the packet. */
	struct sim_chan *c = sim_chan(SIM_NET_RELID);
	struct {
		struct vmbus_xfer_page_header h;
		struct vmbus_xfer_range r;
		struct nvsp_rndis n;
	} __attribute__((packed)) x;
	memset(&x, 0, sizeof(x));
	x.h.d.type = VM_PKT_DATA_USING_XFER_PAGES;
	x.h.d.offset8 = 4;
	x.h.d.len8 = sizeof(x) / 8;
	x.h.d.trans_id = 77;
	x.h.xfer_pageset_id = NVSP_RXBUF_SIG;
	x.h.range_count = 1000;
	x.n.type = NVSP_TYPE_RNDIS;
	sim_write_packet(c, &x, sizeof(x));
	/* A completion for a send section that was never used, and one with an unknown id. */
	struct {
		struct vmpacket_descriptor d;
		struct nvsp_rndis_ack a;
	} __attribute__((packed)) k = { { VM_PKT_COMP, 2, 6, 0, (1ull << 62) | 3 }, { NVSP_TYPE_RNDIS_ACK, 1, { 0 } } };
	sim_write_packet(c, &k, sizeof(k));
	k.d.trans_id = 0xdeadbeef;
	sim_write_packet(c, &k, sizeof(k));
	/* A transfer-page packet with more ranges than the driver reads at once:
	 * skipped, but its buffer space is given back (a failed ack). */
	static uint8_t huge[24 + 1100 * 8 + 32];
	struct vmbus_xfer_page_header hh;
	memset(&hh, 0, sizeof(hh));
	hh.d.type = VM_PKT_DATA_USING_XFER_PAGES;
	hh.d.offset8 = (24 + 1100 * 8) / 8;
	hh.d.len8 = sizeof(huge) / 8;
	hh.d.trans_id = 78;
	hh.xfer_pageset_id = NVSP_RXBUF_SIG;
	hh.range_count = 1100;
	memcpy(huge, &hh, sizeof(hh));
	unsigned other = sim.acks_other;
	sim_write_packet(c, huge, sizeof(huge));
	pump_all();
	CHECK_EQ(nv.st.rx_bad, 7);
	CHECK_EQ(sim.acks_other, other + 2); /* acks for the two hand-made packets (ids 77, 78) */
	CHECK_EQ(nv.st.bad_completions, 2);
	CHECK_EQ(nv.tx_busy[0], 0);

	/* Afterwards a good frame still gets through. */
	sim_net_send_frame(f, 64);
	pump_all();
	CHECK_EQ(rx_count, 1);

	/* A ring whose write index the host set outside the ring: reading stops for good. */
	c->in->write_index = 1u << 20;
	sim.events |= 1ull << SIM_NET_RELID;
	pump_all();
	CHECK(conn.channels[0].broken);
	CHECK_EQ(conn.channels[0].bad_packets, 2); /* the oversized packet, then the corrupt ring */
}

static void t_bad_stor(void)
{
	connect_with(EVIL_NONE, 0);
	CHECK_EQ(stor_attach(), 0);
	static uint8_t buf[4096] __attribute__((aligned(4096)));
	memset(sim.disk, 0x11, 4096);

	sim.evil = EVIL_STOR_LEN; /* claims 512 bytes more than the buffer holds */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(stor_io(false, 0, 8, buf), -EINVAL);
	CHECK_EQ(sv.st.bad_completions, 1);

	sim.evil = EVIL_STOR_SHORT; /* an SRB answer cut short */
	CHECK_EQ(stor_io(false, 0, 8, buf), -EINVAL);
	CHECK_EQ(sv.st.bad_completions, 2);

	sim.evil = EVIL_STOR_TID; /* answers a transaction never sent: dropped, the request stays pending */
	struct io_done d = { 0 };
	CHECK_EQ(storvsc_rw(&sv, 0, false, 0, 8, 512, buf, io_cb, &d), 0);
	pump_all();
	CHECK(!d.done);
	CHECK_EQ(sv.st.bad_completions, 3);

	sim.evil = EVIL_NONE;
	CHECK_EQ(stor_io(false, 0, 8, buf), 0);
	CHECK_EQ(buf[4095], 0x11);
	CHECK_EQ(storvsc_rw(&sv, 0, false, 0, 513, 512, buf, io_cb, &d), -EINVAL); /* 513 blocks: past max_transfer (256 KiB) */
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "tlfs", t_tlfs },
	{ "ring", t_ring },
	{ "vmbus_messages", t_vmbus_messages },
	{ "nvsp_rndis", t_nvsp_rndis },
	{ "vstor", t_vstor },
	{ "e2e", t_e2e },
	{ "e2e_old_host", t_e2e_old_host },
	{ "bad_version", t_bad_version },
	{ "bad_offer", t_bad_offer },
	{ "bad_gpadl", t_bad_gpadl },
	{ "bad_rndis_query", t_bad_rndis_query },
	{ "bad_send_section", t_bad_send_section },
	{ "bad_rx", t_bad_rx },
	{ "bad_stor", t_bad_stor },
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(cases[i].name, argv[1]) == 0) {
			current = argv[1];
			cases[i].fn();
			printf("ok %s\n", argv[1]);
			return 0;
		}
	}
	printf("no case %s\n", argv[1]);
	return 2;
}
