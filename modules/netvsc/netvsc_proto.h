/*
 * NVSP (the netvsc protocol on the VMBus channel) and RNDIS (the NDIS
 * messages inside it), as Hyper-V's synthetic NIC speaks them. Written from
 * the message definitions; NVSP requests are sent padded to 32 bytes (the
 * host does not answer shorter ones).
 */
#ifndef NETVSC_PROTO_H
#define NETVSC_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* NVSP versions, newest first when negotiating. */
#define NVSP_VERSION_1 0x00002
#define NVSP_VERSION_2 0x30002
#define NVSP_VERSION_4 0x40000
#define NVSP_VERSION_5 0x50000
#define NVSP_VERSION_6 0x60000
#define NVSP_VERSION_61 0x60001

enum nvsp_type {
	NVSP_TYPE_INIT = 1,
	NVSP_TYPE_INIT_RESP = 2,
	NVSP_TYPE_NDIS_INIT = 100,
	NVSP_TYPE_RXBUF_CONN = 101,
	NVSP_TYPE_RXBUF_CONNRESP = 102,
	NVSP_TYPE_RXBUF_DISCONN = 103,
	NVSP_TYPE_CHIM_CONN = 104,
	NVSP_TYPE_CHIM_CONNRESP = 105,
	NVSP_TYPE_CHIM_DISCONN = 106,
	NVSP_TYPE_RNDIS = 107,
	NVSP_TYPE_RNDIS_ACK = 108,
	NVSP_TYPE_NDIS_CONF = 125,
};

#define NVSP_STATUS_OK 1
#define NVSP_STATUS_FAILED 2
#define NVSP_MSG_SIZE 32
#define NVSP_RXBUF_SIG 0xcafe
#define NVSP_CHIM_SIG 0xface
#define NVSP_CHIM_IDX_INVALID 0xffffffffu
#define NVSP_RNDIS_DATA 0
#define NVSP_RNDIS_CONTROL 1
#define NVSP_NDIS_CONF_VLAN 0x8ull

struct nvsp_init {
	uint32_t type;
	uint32_t ver_min;
	uint32_t ver_max;
	uint8_t reserved[20];
} __attribute__((packed));

struct nvsp_init_resp {
	uint32_t type;
	uint32_t ver;          /* deprecated */
	uint32_t max_mdl_chain;
	uint32_t status;
} __attribute__((packed));

struct nvsp_ndis_conf {
	uint32_t type;
	uint32_t mtu;
	uint32_t reserved;
	uint64_t caps;
	uint8_t reserved1[12];
} __attribute__((packed));

struct nvsp_ndis_init {
	uint32_t type;
	uint32_t ndis_major;
	uint32_t ndis_minor;
	uint8_t reserved[20];
} __attribute__((packed));

struct nvsp_buf_conn { /* RXBUF_CONN and CHIM_CONN */
	uint32_t type;
	uint32_t gpadl;
	uint16_t sig;
	uint8_t reserved[22];
} __attribute__((packed));

struct nvsp_rxbuf_section {
	uint32_t start;
	uint32_t slot_size;
	uint32_t slot_count;
	uint32_t end;
} __attribute__((packed));

struct nvsp_rxbuf_connresp {
	uint32_t type;
	uint32_t status;
	uint32_t nsections;
	/* struct nvsp_rxbuf_section sections[] follows */
} __attribute__((packed));

struct nvsp_chim_connresp {
	uint32_t type;
	uint32_t status;
	uint32_t section_size;
} __attribute__((packed));

struct nvsp_rndis {
	uint32_t type;
	uint32_t channel_type; /* NVSP_RNDIS_DATA / CONTROL */
	uint32_t section_index;
	uint32_t section_size;
	uint8_t reserved[16];
} __attribute__((packed));

struct nvsp_rndis_ack {
	uint32_t type;
	uint32_t status;
	uint8_t reserved[24];
} __attribute__((packed));

_Static_assert(sizeof(struct nvsp_init) == NVSP_MSG_SIZE, "nvsp init");
_Static_assert(sizeof(struct nvsp_init_resp) == 16, "nvsp init resp");
_Static_assert(sizeof(struct nvsp_ndis_conf) == NVSP_MSG_SIZE, "ndis conf");
_Static_assert(offsetof(struct nvsp_ndis_conf, caps) == 12, "ndis conf caps");
_Static_assert(sizeof(struct nvsp_ndis_init) == NVSP_MSG_SIZE, "ndis init");
_Static_assert(sizeof(struct nvsp_buf_conn) == NVSP_MSG_SIZE, "buf conn");
_Static_assert(sizeof(struct nvsp_rxbuf_connresp) == 12, "rxbuf connresp");
_Static_assert(sizeof(struct nvsp_rxbuf_section) == 16, "rxbuf section");
_Static_assert(sizeof(struct nvsp_rndis) == NVSP_MSG_SIZE, "nvsp rndis");
_Static_assert(sizeof(struct nvsp_rndis_ack) == NVSP_MSG_SIZE, "nvsp rndis ack");

/* RNDIS. */
#define RNDIS_MSG_PACKET 0x00000001u
#define RNDIS_MSG_INIT 0x00000002u
#define RNDIS_MSG_HALT 0x00000003u
#define RNDIS_MSG_QUERY 0x00000004u
#define RNDIS_MSG_SET 0x00000005u
#define RNDIS_MSG_RESET 0x00000006u
#define RNDIS_MSG_INDICATE 0x00000007u
#define RNDIS_MSG_KEEPALIVE 0x00000008u
#define RNDIS_MSG_COMPLETION 0x80000000u

#define RNDIS_STATUS_SUCCESS 0x00000000u
#define RNDIS_STATUS_MEDIA_CONNECT 0x4001000bu
#define RNDIS_STATUS_MEDIA_DISCONNECT 0x4001000cu

#define RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE 0x00010106u
#define RNDIS_OID_GEN_CURRENT_PACKET_FILTER 0x0001010eu
#define RNDIS_OID_GEN_MEDIA_CONNECT_STATUS 0x00010114u
#define RNDIS_OID_802_3_PERMANENT_ADDRESS 0x01010101u

#define RNDIS_FILTER_DIRECTED 0x1u
#define RNDIS_FILTER_MULTICAST 0x2u
#define RNDIS_FILTER_BROADCAST 0x8u
#define RNDIS_MEDIA_CONNECTED 0u

#define RNDIS_MAJOR 1
#define RNDIS_MINOR 0
#define RNDIS_MAX_XFER 0x4000

struct rndis_hdr {
	uint32_t type;
	uint32_t len;
} __attribute__((packed));

struct rndis_init_req {
	uint32_t type, len, req_id, major, minor, max_xfer;
} __attribute__((packed));

struct rndis_init_comp {
	uint32_t type, len, req_id, status, major, minor, dev_flags, medium, max_pkts, max_xfer, align_factor,
		af_list_off, af_list_size;
} __attribute__((packed));

/* QUERY and SET requests: the information buffer follows; its offset counts
 * from req_id (byte 8). */
struct rndis_oid_req {
	uint32_t type, len, req_id, oid, info_len, info_off, dev_vc;
} __attribute__((packed));

struct rndis_query_comp {
	uint32_t type, len, req_id, status, info_len, info_off;
} __attribute__((packed));

struct rndis_set_comp {
	uint32_t type, len, req_id, status;
} __attribute__((packed));

/* The frame follows at data_off, counted from byte 8. */
struct rndis_packet {
	uint32_t type, len, data_off, data_len, oob_off, oob_len, num_oob, ppi_off, ppi_len, vc, reserved;
} __attribute__((packed));

struct rndis_indicate {
	uint32_t type, len, status, buf_len, buf_off;
} __attribute__((packed));

#define RNDIS_OFFSET_BASE 8 /* offsets in RNDIS messages count from here */

_Static_assert(sizeof(struct rndis_init_req) == 24, "rndis init");
_Static_assert(sizeof(struct rndis_init_comp) == 52, "rndis init comp");
_Static_assert(sizeof(struct rndis_oid_req) == 28, "rndis query/set");
_Static_assert(sizeof(struct rndis_query_comp) == 24, "rndis query comp");
_Static_assert(sizeof(struct rndis_set_comp) == 16, "rndis set comp");
_Static_assert(sizeof(struct rndis_packet) == 44, "rndis packet");
_Static_assert(sizeof(struct rndis_indicate) == 20, "rndis indicate");

#endif
