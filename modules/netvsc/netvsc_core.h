/* The netvsc state machine (pure C, also run on the host against a
 * simulated VMBus host): NVSP version and NDIS setup, the receive and send
 * buffers over GPADLs, RNDIS init/query/set, and the data path. The kernel
 * glue (netvsc.c) turns it into a netdev. */
#ifndef NETVSC_CORE_H
#define NETVSC_CORE_H

#include <vmbus/vmbus.h>
#include "netvsc_proto.h"

#define NETVSC_MAX_SECTIONS 1024
#define NETVSC_REPLY_MAX 256
/* Largest packet read from the ring: a transfer-page packet lists up to
 * about a thousand ranges (batched receives). */
#define NETVSC_PKT_MAX 8192

struct netvsc_stats {
	uint64_t rx_packets, rx_bad, tx_packets, tx_done, bad_completions, unexpected, ack_failed;
};

struct netvsc {
	struct vmbus_channel *ch;
	unsigned timeout_ms;
	size_t ring_bytes, rxbuf_len, txbuf_len; /* set before netvsc_attach */

	uint32_t nvsp_version;
	uint32_t ndis_version; /* major << 16 | minor */
	uint8_t *rxbuf;
	uint32_t rx_gpadl;
	uint8_t *txbuf;
	uint32_t tx_gpadl;
	uint32_t section_size, nsections;
	uint64_t tx_busy[NETVSC_MAX_SECTIONS / 64];
	volatile int tx_lock;

	uint8_t mac[6];
	uint32_t mtu;
	volatile bool link_up;

	/* One NVSP request and one RNDIS control request at a time (setup). */
	uint64_t nvsp_tid;
	uint32_t nvsp_want;
	volatile bool nvsp_done;
	uint8_t nvsp_reply[NETVSC_REPLY_MAX];
	uint32_t nvsp_reply_len;
	uint32_t next_req_id;
	uint32_t ctl_req_id, ctl_want;
	volatile bool ctl_done;
	uint32_t ctl_status;
	uint8_t ctl_info[64];
	uint32_t ctl_info_len;

	void (*rx)(struct netvsc *nv, const void *frame, size_t len);
	void (*link)(struct netvsc *nv, bool up);
	void *priv;
	struct netvsc_stats st;
	uint64_t pkt[NETVSC_PKT_MAX / 8]; /* the channel callback's (callbacks of a channel never overlap) */
};

/* Open the channel and run the whole handshake; 0 or -errno (with the
 * channel closed again). */
int netvsc_attach(struct netvsc *nv, struct vmbus_channel *ch);
void netvsc_detach(struct netvsc *nv);
/* Send one Ethernet frame: 0, -EBUSY (no send section free), -EMSGSIZE, -errno. */
int netvsc_xmit(struct netvsc *nv, const void *frame, size_t len);
/* The channel callback (exposed for the tests). */
void netvsc_channel_cb(struct vmbus_channel *ch, void *arg);
/* Encoders (exposed for the byte-vector tests). */
size_t netvsc_rndis_packet(void *dst, const void *frame, uint32_t len);
size_t netvsc_rndis_oid_req(void *dst, uint32_t type, uint32_t req_id, uint32_t oid, const void *info,
			    uint32_t info_len);
void netvsc_nvsp_rndis(struct nvsp_rndis *m, uint32_t channel_type, uint32_t section, uint32_t size);

#endif
