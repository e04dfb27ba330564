/*
 * VMBus wire formats: the channel messages the guest and host exchange over
 * HvPostMessage / the SynIC message slot, the ring buffer header shared for
 * each direction of a channel, and the packets in the rings. Written from
 * the VMBus message definitions (Hyper-V's, as other guests' headers state
 * them); every size is asserted.
 */
#ifndef VMBUS_PROTO_H
#define VMBUS_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Protocol versions (major << 16 | minor). */
#define VMBUS_VERSION_WIN8 ((2u << 16) | 4)
#define VMBUS_VERSION_WIN8_1 ((3u << 16) | 0)
#define VMBUS_VERSION_WIN10 ((4u << 16) | 0)
#define VMBUS_VERSION_WIN10_V4_1 ((4u << 16) | 1)
#define VMBUS_VERSION_WIN10_V5 ((5u << 16) | 0)
#define VMBUS_VERSION_WIN10_V5_1 ((5u << 16) | 1)
#define VMBUS_VERSION_WIN10_V5_2 ((5u << 16) | 2)
#define VMBUS_VERSION_WIN10_V5_3 ((5u << 16) | 3)

/* Connection ids and the SINT the host's messages and channel events use. */
#define VMBUS_MESSAGE_CONNECTION_ID 1   /* before 5.0 */
#define VMBUS_MESSAGE_CONNECTION_ID_4 4 /* INITIATE_CONTACT from 5.0 on */
#define VMBUS_EVENT_CONNECTION_ID 2
#define VMBUS_MESSAGE_SINT 2
#define VMBUS_POST_MESSAGE_TYPE 1 /* HvPostMessage's message type for channel messages */

/* Channel ids the guest's event-flag page can name. */
#define VMBUS_MAX_RELID 2048

enum vmbus_msgtype {
	CHANNELMSG_INVALID = 0,
	CHANNELMSG_OFFERCHANNEL = 1,
	CHANNELMSG_RESCIND_CHANNELOFFER = 2,
	CHANNELMSG_REQUESTOFFERS = 3,
	CHANNELMSG_ALLOFFERS_DELIVERED = 4,
	CHANNELMSG_OPENCHANNEL = 5,
	CHANNELMSG_OPENCHANNEL_RESULT = 6,
	CHANNELMSG_CLOSECHANNEL = 7,
	CHANNELMSG_GPADL_HEADER = 8,
	CHANNELMSG_GPADL_BODY = 9,
	CHANNELMSG_GPADL_CREATED = 10,
	CHANNELMSG_GPADL_TEARDOWN = 11,
	CHANNELMSG_GPADL_TORNDOWN = 12,
	CHANNELMSG_RELID_RELEASED = 13,
	CHANNELMSG_INITIATE_CONTACT = 14,
	CHANNELMSG_VERSION_RESPONSE = 15,
	CHANNELMSG_UNLOAD = 16,
	CHANNELMSG_UNLOAD_RESPONSE = 17,
	CHANNELMSG_COUNT = 25,
};

struct vmbus_msg_header {
	uint32_t msgtype;
	uint32_t padding;
} __attribute__((packed));

struct vmbus_msg_initiate_contact {
	struct vmbus_msg_header header;
	uint32_t version_requested;
	uint32_t target_vcpu;
	union {
		uint64_t interrupt_page; /* before 5.0 */
		struct {
			uint8_t msg_sint; /* from 5.0 on */
			uint8_t msg_vtl;
			uint8_t reserved[6];
		} __attribute__((packed));
	};
	uint64_t monitor_page1;
	uint64_t monitor_page2;
} __attribute__((packed));

struct vmbus_msg_version_response {
	struct vmbus_msg_header header;
	uint8_t version_supported;
	uint8_t connection_state;
	uint16_t padding;
	uint32_t msg_conn_id; /* from 5.0 on: where later messages go */
} __attribute__((packed));

#define VMBUS_USERDEF_BYTES 120

struct vmbus_offer {
	uint8_t if_type[16];
	uint8_t if_instance[16];
	uint64_t reserved1;
	uint64_t reserved2;
	uint16_t chn_flags;
	uint16_t mmio_megabytes;
	uint8_t user_def[VMBUS_USERDEF_BYTES];
	uint16_t sub_channel_index;
	uint16_t reserved3;
} __attribute__((packed));

struct vmbus_msg_offer_channel {
	struct vmbus_msg_header header;
	struct vmbus_offer offer;
	uint32_t child_relid;
	uint8_t monitor_id;
	uint8_t monitor_allocated; /* bit 0 */
	uint16_t is_dedicated_interrupt; /* bit 0 */
	uint32_t connection_id;
} __attribute__((packed));

struct vmbus_msg_relid {
	struct vmbus_msg_header header;
	uint32_t child_relid;
} __attribute__((packed)); /* RESCIND_CHANNELOFFER, CLOSECHANNEL, RELID_RELEASED */

struct vmbus_msg_open_channel {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t open_id;
	uint32_t ring_gpadl;
	uint32_t target_vp;
	uint32_t downstream_ring_page_offset; /* the host-to-guest ring's first page in the GPADL */
	uint8_t user_data[VMBUS_USERDEF_BYTES];
} __attribute__((packed));

struct vmbus_msg_open_result {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t open_id;
	uint32_t status;
} __attribute__((packed));

struct vmbus_gpa_range_hdr {
	uint32_t byte_count;
	uint32_t byte_offset;
	/* uint64_t pfn[] follows */
} __attribute__((packed));

struct vmbus_msg_gpadl_header {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t gpadl;
	uint16_t range_buflen; /* bytes of the ranges (all pfns, also those in bodies) */
	uint16_t range_count;
	struct vmbus_gpa_range_hdr range; /* one range */
	/* uint64_t pfn[] follows */
} __attribute__((packed));

struct vmbus_msg_gpadl_body {
	struct vmbus_msg_header header;
	uint32_t msg_number;
	uint32_t gpadl;
	/* uint64_t pfn[] follows */
} __attribute__((packed));

struct vmbus_msg_gpadl_created {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t gpadl;
	uint32_t creation_status;
} __attribute__((packed));

struct vmbus_msg_gpadl_teardown {
	struct vmbus_msg_header header;
	uint32_t child_relid;
	uint32_t gpadl;
} __attribute__((packed));

struct vmbus_msg_gpadl_torndown {
	struct vmbus_msg_header header;
	uint32_t gpadl;
} __attribute__((packed));

#define VMBUS_MSG_MAX 240 /* a SynIC message's payload */
#define VMBUS_GPADL_HEADER_PFNS ((VMBUS_MSG_MAX - sizeof(struct vmbus_msg_gpadl_header)) / 8)
#define VMBUS_GPADL_BODY_PFNS ((VMBUS_MSG_MAX - sizeof(struct vmbus_msg_gpadl_body)) / 8)

_Static_assert(sizeof(struct vmbus_msg_header) == 8, "header");
_Static_assert(sizeof(struct vmbus_msg_initiate_contact) == 40, "initiate contact");
_Static_assert(sizeof(struct vmbus_msg_version_response) == 16, "version response");
_Static_assert(sizeof(struct vmbus_offer) == 176, "offer");
_Static_assert(sizeof(struct vmbus_msg_offer_channel) == 196, "offer channel");
_Static_assert(sizeof(struct vmbus_msg_open_channel) == 148, "open channel");
_Static_assert(sizeof(struct vmbus_msg_open_result) == 20, "open result");
_Static_assert(sizeof(struct vmbus_msg_gpadl_header) == 28, "gpadl header");
_Static_assert(sizeof(struct vmbus_msg_gpadl_body) == 16, "gpadl body");
_Static_assert(sizeof(struct vmbus_msg_gpadl_created) == 20, "gpadl created");
_Static_assert(sizeof(struct vmbus_msg_gpadl_teardown) == 16, "gpadl teardown");
_Static_assert(sizeof(struct vmbus_msg_gpadl_torndown) == 12, "gpadl torndown");
_Static_assert(VMBUS_GPADL_HEADER_PFNS == 26 && VMBUS_GPADL_BODY_PFNS == 28, "pfns per message");

/* Ring buffer: one header page, then the data area; indices are byte
 * offsets into the data area. Each direction of a channel has one. */
struct hv_ring_buffer {
	uint32_t write_index;
	uint32_t read_index;
	uint32_t interrupt_mask;   /* reader: "no interrupt needed, I am reading" */
	uint32_t pending_send_sz;  /* writer: "signal me when this much is free" */
	uint32_t reserved1[12];
	uint32_t feature_bits;     /* bit 0: pending_send_sz is honoured */
	uint8_t reserved2[4096 - 68];
	uint8_t data[];
} __attribute__((packed));
_Static_assert(sizeof(struct hv_ring_buffer) == 4096, "ring header page");
_Static_assert(offsetof(struct hv_ring_buffer, feature_bits) == 64, "feature bits");
#define HV_RING_FEAT_PENDING_SEND_SZ 1u

/* Packets: a descriptor, the packet's own header (ranges...), data, padding to
 * 8 bytes, then 8 trailer bytes holding the writer's old write index << 32. */
enum vmbus_pkt_type {
	VM_PKT_INVALID = 0,
	VM_PKT_SYNCH = 1,
	VM_PKT_ADD_XFER_PAGESET = 2,
	VM_PKT_RM_XFER_PAGESET = 3,
	VM_PKT_ESTABLISH_GPADL = 4,
	VM_PKT_TEARDOWN_GPADL = 5,
	VM_PKT_DATA_INBAND = 6,
	VM_PKT_DATA_USING_XFER_PAGES = 7,
	VM_PKT_DATA_USING_GPADL = 8,
	VM_PKT_DATA_USING_GPA_DIRECT = 9,
	VM_PKT_CANCEL_REQUEST = 10,
	VM_PKT_COMP = 11,
	VM_PKT_DATA_USING_ADDITIONAL_PKT = 12,
	VM_PKT_ADDITIONAL_DATA = 13,
};
#define VMBUS_PKT_FLAG_COMPLETION_REQUESTED 1u

struct vmpacket_descriptor {
	uint16_t type;
	uint16_t offset8; /* data offset from the descriptor, in 8-byte units */
	uint16_t len8;    /* packet length without the trailer, in 8-byte units */
	uint16_t flags;
	uint64_t trans_id;
} __attribute__((packed));
_Static_assert(sizeof(struct vmpacket_descriptor) == 16, "packet descriptor");
#define VMBUS_PKT_TRAILER 8

/* VM_PKT_DATA_USING_XFER_PAGES: ranges of a transfer page set (netvsc's receive buffer). */
struct vmbus_xfer_range {
	uint32_t byte_count;
	uint32_t byte_offset;
} __attribute__((packed));
struct vmbus_xfer_page_header {
	struct vmpacket_descriptor d;
	uint16_t xfer_pageset_id;
	uint8_t sender_owns_set;
	uint8_t reserved;
	uint32_t range_count;
	/* struct vmbus_xfer_range range[] follows */
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_xfer_page_header) == 24, "xfer page header");

/* VM_PKT_DATA_USING_GPA_DIRECT: guest pages the host reads or writes (one range). */
struct vmbus_gpa_direct_header {
	struct vmpacket_descriptor d;
	uint32_t reserved;
	uint32_t range_count;
	struct vmbus_gpa_range_hdr range;
	/* uint64_t pfn[] follows */
} __attribute__((packed));
_Static_assert(sizeof(struct vmbus_gpa_direct_header) == 32, "gpa direct header");

#endif
