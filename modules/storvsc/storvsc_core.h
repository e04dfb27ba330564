/* The storvsc state machine (pure C, also run on the host against a
 * simulated VMBus host): the VSTOR handshake and SCSI commands carried in
 * SRBs, data through GPA-direct ranges. The kernel glue (storvsc.c) turns
 * each disk LUN into a block device. */
#ifndef STORVSC_CORE_H
#define STORVSC_CORE_H

#include <vmbus/vmbus.h>
#include "storvsc_proto.h"

#define STORVSC_MAX_REQS 64

struct storvsc;
struct storvsc_req;
typedef void (*storvsc_done_fn)(struct storvsc *sv, struct storvsc_req *rq, void *arg);

struct storvsc_req {
	struct vstor_packet pkt; /* the request; the host's answer once done */
	uint16_t gen;
	volatile bool busy, done;
	int err;                 /* 0, -EIO (SCSI or SRB error), -EPROTO-like -EINVAL (bad answer) */
	uint32_t want_len, got_len;
	uint8_t sense[VSTOR_SENSE_MAX];
	storvsc_done_fn fn;
	void *arg;
};

struct storvsc_stats {
	uint64_t completions, bad_completions, unsolicited;
};

struct storvsc {
	struct vmbus_channel *ch;
	unsigned timeout_ms;
	size_t ring_bytes;
	uint16_t proto;
	uint32_t pkt_len;         /* vstor packet bytes sent: without the Windows 8 SRB extension until 5.1+ is agreed */
	uint32_t max_transfer;
	uint16_t max_channels;
	volatile int lock;
	struct storvsc_req reqs[STORVSC_MAX_REQS];
	struct storvsc_stats st;
	void *priv;
};

int storvsc_attach(struct storvsc *sv, struct vmbus_channel *ch);
void storvsc_detach(struct storvsc *sv);
/* Start a SCSI command on target 0, lun: buf/len (physically contiguous)
 * is read into (SRB_DATA_READ) or written from (SRB_DATA_WRITE).
 * fn(arg) runs from the channel callback when it completes. 0, -EBUSY
 * (every request slot in use, or the ring full), -errno. */
int storvsc_scsi(struct storvsc *sv, uint8_t lun, const uint8_t *cdb, uint8_t cdb_len, void *buf, uint32_t len,
		 int dir, storvsc_done_fn fn, void *arg);
/* The same, waiting: 0 with *got (bytes moved), or -errno. */
int storvsc_scsi_sync(struct storvsc *sv, uint8_t lun, const uint8_t *cdb, uint8_t cdb_len, void *buf,
		      uint32_t len, int dir, uint32_t *got);
/* INQUIRY (a direct-access disk?) and READ CAPACITY (10, then 16 when the
 * disk is larger), answers read into page (a page of DMA-able memory):
 * 0, -ENODEV (no disk at that LUN), -errno. */
int storvsc_probe_lun(struct storvsc *sv, uint8_t lun, uint64_t *blocks, uint32_t *block_size, void *page);
/* READ/WRITE of nblocks at lba: the (10) forms when they reach, else (16). */
int storvsc_rw(struct storvsc *sv, uint8_t lun, bool write, uint64_t lba, uint32_t nblocks, uint32_t block_size,
	       void *buf, storvsc_done_fn fn, void *arg);
/* Encoders (exposed for the byte-vector tests). */
uint8_t storvsc_cdb_rw(uint8_t cdb[VSTOR_CDB_MAX], bool write, uint64_t lba, uint32_t nblocks);
void storvsc_srb_encode(struct vstor_packet *p, uint8_t lun, const uint8_t *cdb, uint8_t cdb_len, uint32_t len,
			int dir);
void storvsc_channel_cb(struct vmbus_channel *ch, void *arg);

#endif
