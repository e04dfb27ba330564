/*
 * VSTOR: the storvsc protocol on a VMBus channel (SCSI request blocks in
 * vstor packets), and the SCSI commands the driver issues. Written from the
 * message definitions; the Windows 8 SRB extension is always sent
 * (protocol 5.1 and later), so a vstor packet is 64 bytes.
 */
#ifndef STORVSC_PROTO_H
#define STORVSC_PROTO_H

#include <stddef.h>
#include <stdint.h>

enum vstor_op {
	VSTOR_OP_COMPLETE_IO = 1,
	VSTOR_OP_REMOVE_DEVICE = 2,
	VSTOR_OP_EXECUTE_SRB = 3,
	VSTOR_OP_RESET_LUN = 4,
	VSTOR_OP_RESET_ADAPTER = 5,
	VSTOR_OP_RESET_BUS = 6,
	VSTOR_OP_BEGIN_INITIALIZATION = 7,
	VSTOR_OP_END_INITIALIZATION = 8,
	VSTOR_OP_QUERY_PROTOCOL_VERSION = 9,
	VSTOR_OP_QUERY_PROPERTIES = 10,
	VSTOR_OP_ENUMERATE_BUS = 11,
	VSTOR_OP_FCHBA_DATA = 12,
	VSTOR_OP_CREATE_SUB_CHANNELS = 13,
};

#define VSTOR_FLAG_REQUEST_COMPLETION 1

/* major << 8 | minor */
#define VSTOR_PROTO_WIN8 0x0501
#define VSTOR_PROTO_WIN8_1 0x0600
#define VSTOR_PROTO_WIN10 0x0602

#define VSTOR_CDB_MAX 16
#define VSTOR_SENSE_MAX 20

#define SRB_STATUS_SUCCESS 0x01
#define SRB_STATUS_ERROR 0x04
#define SRB_STATUS_INVALID_LUN 0x20
#define SRB_STATUS_SELECTION_TIMEOUT 0x0a
#define SRB_STATUS_DATA_OVERRUN 0x12
#define SRB_STATUS_AUTOSENSE_VALID 0x80
#define SRB_STATUS_MASK 0x3f

#define SRB_DATA_WRITE 0
#define SRB_DATA_READ 1
#define SRB_DATA_NONE 2

#define SRB_FLAGS_DISABLE_SYNCH_TRANSFER 0x00000008
#define SRB_FLAGS_DATA_IN 0x00000040
#define SRB_FLAGS_DATA_OUT 0x00000080
#define SRB_FLAGS_NO_DATA_TRANSFER 0x00000000
#define SRB_FLAGS_QUEUE_ACTION_ENABLE 0x00000002
#define SRB_SIMPLE_TAG_REQUEST 0x20
#define SRB_QUEUE_UNTAGGED 0xff

struct vmscsi_win8_extension {
	uint16_t reserved;
	uint8_t queue_tag;
	uint8_t queue_action;
	uint32_t srb_flags;
	uint32_t timeout;
	uint32_t queue_sort;
} __attribute__((packed));

struct vmscsi_request {
	uint16_t length;
	uint8_t srb_status;
	uint8_t scsi_status;
	uint8_t port;
	uint8_t path_id;
	uint8_t target_id;
	uint8_t lun;
	uint8_t cdb_length;
	uint8_t sense_info_length;
	uint8_t data_in;
	uint8_t reserved;
	uint32_t data_transfer_length;
	union {
		uint8_t cdb[VSTOR_CDB_MAX];
		uint8_t sense[VSTOR_SENSE_MAX];
		uint8_t reserved_array[VSTOR_SENSE_MAX];
	};
	struct vmscsi_win8_extension win8;
} __attribute__((packed));

struct vstor_properties {
	uint32_t reserved;
	uint16_t max_channel_count;
	uint16_t reserved1;
	uint32_t flags;
	uint32_t max_transfer_bytes;
	uint64_t reserved2;
} __attribute__((packed));

struct vstor_version {
	uint16_t major_minor;
	uint16_t revision;
} __attribute__((packed));

struct vstor_packet {
	uint32_t operation;
	uint32_t flags;
	uint32_t status;
	union {
		struct vmscsi_request srb;
		struct vstor_properties props;
		struct vstor_version version;
		uint8_t raw[52];
	};
} __attribute__((packed));

_Static_assert(sizeof(struct vmscsi_win8_extension) == 16, "win8 extension");
_Static_assert(sizeof(struct vmscsi_request) == 52, "vmscsi request");
_Static_assert(offsetof(struct vmscsi_request, cdb) == 16, "cdb");
_Static_assert(sizeof(struct vstor_properties) == 24, "properties");
_Static_assert(sizeof(struct vstor_packet) == 64, "vstor packet");

/* SCSI. */
#define SCSI_TEST_UNIT_READY 0x00
#define SCSI_INQUIRY 0x12
#define SCSI_READ_CAPACITY_10 0x25
#define SCSI_READ_10 0x28
#define SCSI_WRITE_10 0x2a
#define SCSI_SYNCHRONIZE_CACHE_10 0x35
#define SCSI_READ_16 0x88
#define SCSI_WRITE_16 0x8a
#define SCSI_SERVICE_ACTION_IN_16 0x9e
#define SCSI_SAI_READ_CAPACITY_16 0x10

#endif
