/* A simulated VMBus host for the host-side tests: it answers the guest's
 * channel messages (version, offers, GPADLs, open/close) and plays the
 * netvsc and storvsc device sides on their channels' rings. Its ring
 * access is written separately from the guest's (modules/vmbus/ring.c) so
 * a layout mistake on one side is not mirrored by the other. */
#ifndef SIM_H
#define SIM_H

#include <vmbus/vmbus.h>
#include "../../../modules/netvsc/netvsc_core.h"
#include "../../../modules/storvsc/storvsc_core.h"

#define SIM_NET_RELID 5
#define SIM_STOR_RELID 7

enum sim_evil {
	EVIL_NONE,
	EVIL_VERSION_SHORT,   /* VERSION_RESPONSE cut to its header */
	EVIL_OFFER_RELID,     /* an extra offer with a relid past the event page */
	EVIL_GPADL_HANDLE,    /* GPADL_CREATED naming another handle */
	EVIL_QUERY_INFO,      /* RNDIS query completion whose info buffer lies outside it */
	EVIL_CHIM_SECTION,    /* send-buffer section size 0 */
	EVIL_RXBUF_SECTIONS,  /* a section count the answer does not hold */
	EVIL_STOR_LEN,        /* READ completion claiming more bytes than asked */
	EVIL_STOR_TID,        /* completion for a transaction id never used */
	EVIL_STOR_SHORT,      /* SRB completion shorter than a vstor packet */
};

struct sim_gpadl {
	uint32_t handle, relid;
	uint64_t pfn[1024];
	uint32_t npfn, want, bytes;
	bool done;
};

struct sim_chan {
	uint32_t relid, conn_id;
	uint8_t type[16];
	bool open;
	struct hv_ring_buffer *out, *in; /* the guest's outbound (we read), inbound (we write) */
	uint32_t size;
};

struct sim {
	struct vmbus_conn *conn;
	int evil;
	unsigned busy_posts;          /* answer this many HvPostMessage calls with "queue full" */
	uint32_t max_version;        /* newest VMBus version the host accepts */
	uint32_t versions_tried[16];
	unsigned nversions;
	uint32_t msg_conn_id;
	uint32_t contact_conn_id;    /* where INITIATE_CONTACT was posted */

	struct { uint8_t data[240]; size_t len; } q[64];
	unsigned qhead, qtail;
	uint64_t events;             /* relids with a pending signal (bit = relid) */

	struct sim_gpadl gpadls[16];
	unsigned ngpadl;
	struct sim_chan chans[2];

	/* netvsc side */
	uint32_t nvsp_max;
	uint32_t nvsp_tried[8];
	unsigned nnvsp;
	uint32_t ndis_major, ndis_minor, conf_mtu;
	uint8_t *rxbuf, *txbuf;
	uint32_t rxbuf_len, txbuf_len, section_size, rx_off, filter;
	uint8_t mac[6];
	uint32_t mtu;
	uint8_t frame[2048];
	size_t frame_len;
	unsigned frames, acks, acks_other, ack_failed_status, rndis_requests;
	uint64_t next_tid;

	/* storvsc side */
	uint16_t stor_max;
	bool stor_agreed;
	uint8_t *disk;
	uint64_t disk_blocks;
	uint32_t block_size;
	unsigned srbs, inits;
	uint8_t last_cdb[16];
	uint32_t max_transfer;

	unsigned bad_guest; /* guest packets the sim found malformed */
	uint8_t log[64][240]; /* channel messages the guest posted, in order */
	size_t loglen[64];
	uint32_t logconn[64];
	unsigned nlog;
};

extern struct sim sim;
extern const struct vmbus_ops sim_ops;

void sim_reset(struct vmbus_conn *conn);
/* Deliver one queued message or channel event to the guest; false when idle. */
bool sim_pump(void);
/* Host-initiated traffic. */
void sim_net_send_frame(const void *frame, uint32_t len);
void sim_net_send_raw_rndis(const void *msg, uint32_t len, uint32_t range_off, uint32_t range_len);
void sim_write_packet(struct sim_chan *c, const void *pkt, size_t len);
struct sim_chan *sim_chan(uint32_t relid);
void sim_net_indicate(uint32_t status);

#endif
