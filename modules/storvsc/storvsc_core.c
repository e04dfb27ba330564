/* storvsc: the VSTOR handshake (begin initialization, protocol version,
 * properties, end initialization), then SCSI commands in SRBs. Requests
 * are slots whose transaction id carries the slot and a generation, so a
 * completion for a slot not in flight, or a stale one, is rejected; every
 * length in an answer is checked against what was asked. */
#include "storvsc_core.h"
#include <lib/errno.h>

static const uint16_t vstor_versions[] = { VSTOR_PROTO_WIN10, VSTOR_PROTO_WIN8_1, VSTOR_PROTO_WIN8, 0 };

#define PKT_MAX 256

static void lock(struct storvsc *sv)
{
	while (__atomic_exchange_n(&sv->lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void unlock(struct storvsc *sv)
{
	__atomic_store_n(&sv->lock, 0, __ATOMIC_RELEASE);
}

static struct storvsc_req *req_get(struct storvsc *sv)
{
	struct storvsc_req *rq = NULL;
	lock(sv);
	for (unsigned i = 0; i < STORVSC_MAX_REQS && !rq; i++) {
		if (!sv->reqs[i].busy) {
			rq = &sv->reqs[i];
			rq->busy = true;
			rq->done = false;
			rq->gen++;
			rq->err = 0;
			rq->got_len = 0;
			rq->fn = NULL;
		}
	}
	unlock(sv);
	return rq;
}

static void req_put(struct storvsc *sv, struct storvsc_req *rq)
{
	lock(sv);
	rq->busy = false;
	unlock(sv);
}

static uint64_t req_tid(struct storvsc *sv, struct storvsc_req *rq)
{
	return ((uint64_t)rq->gen << 16) | (uint64_t)(rq - sv->reqs + 1);
}

static struct storvsc_req *req_from_tid(struct storvsc *sv, uint64_t tid)
{
	uint64_t slot = tid & 0xffff;
	if (slot == 0 || slot > STORVSC_MAX_REQS || (tid >> 32))
		return NULL;
	struct storvsc_req *rq = &sv->reqs[slot - 1];
	if (!rq->busy || rq->done || rq->gen != (uint16_t)(tid >> 16))
		return NULL;
	return rq;
}

/* --- encoders --- */

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

uint8_t storvsc_cdb_rw(uint8_t cdb[VSTOR_CDB_MAX], bool write, uint64_t lba, uint32_t nblocks)
{
	__builtin_memset(cdb, 0, VSTOR_CDB_MAX);
	if (lba + nblocks <= 0x100000000ull && nblocks <= 0xffff) {
		cdb[0] = write ? SCSI_WRITE_10 : SCSI_READ_10;
		put_be(cdb + 2, lba, 4);
		put_be(cdb + 7, nblocks, 2);
		return 10;
	}
	cdb[0] = write ? SCSI_WRITE_16 : SCSI_READ_16;
	put_be(cdb + 2, lba, 8);
	put_be(cdb + 10, nblocks, 4);
	return 16;
}

void storvsc_srb_encode(struct vstor_packet *p, uint8_t lun, const uint8_t *cdb, uint8_t cdb_len, uint32_t len,
			int dir)
{
	__builtin_memset(p, 0, sizeof(*p));
	p->operation = VSTOR_OP_EXECUTE_SRB;
	p->flags = VSTOR_FLAG_REQUEST_COMPLETION;
	struct vmscsi_request *s = &p->srb;
	s->length = sizeof(*s);
	s->port = 0;
	s->path_id = 0;
	s->target_id = 0;
	s->lun = lun;
	s->cdb_length = cdb_len;
	s->sense_info_length = VSTOR_SENSE_MAX;
	s->data_in = (uint8_t)dir;
	s->data_transfer_length = len;
	__builtin_memcpy(s->cdb, cdb, cdb_len);
	s->win8.queue_tag = SRB_QUEUE_UNTAGGED;
	s->win8.queue_action = SRB_SIMPLE_TAG_REQUEST;
	s->win8.srb_flags = SRB_FLAGS_QUEUE_ACTION_ENABLE | SRB_FLAGS_DISABLE_SYNCH_TRANSFER |
			    (dir == SRB_DATA_READ ? SRB_FLAGS_DATA_IN : dir == SRB_DATA_WRITE ? SRB_FLAGS_DATA_OUT : 0);
	s->win8.timeout = 60;
}

/* --- completions --- */

static void complete(struct storvsc *sv, struct storvsc_req *rq, const uint8_t *data, uint32_t len)
{
	bool srb = rq->pkt.operation == VSTOR_OP_EXECUTE_SRB;
	uint32_t need = srb ? sizeof(struct vstor_packet) : 12;
	if (len < need) {
		rq->err = -EINVAL;
		sv->st.bad_completions++;
	} else {
		__builtin_memset(&rq->pkt, 0, sizeof(rq->pkt));
		__builtin_memcpy(&rq->pkt, data, len < sizeof(rq->pkt) ? len : sizeof(rq->pkt));
		if (rq->pkt.operation != VSTOR_OP_COMPLETE_IO) {
			rq->err = -EINVAL;
			sv->st.bad_completions++;
		} else if (srb) {
			const struct vmscsi_request *s = &rq->pkt.srb;
			uint8_t st = s->srb_status & SRB_STATUS_MASK;
			if (s->data_transfer_length > rq->want_len) {
				rq->err = -EINVAL; /* more than the buffer holds: not believed */
				sv->st.bad_completions++;
			} else if ((st == SRB_STATUS_SUCCESS || st == SRB_STATUS_DATA_OVERRUN) && s->scsi_status == 0) {
				rq->got_len = s->data_transfer_length;
			} else {
				rq->err = st == SRB_STATUS_INVALID_LUN || st == SRB_STATUS_SELECTION_TIMEOUT ? -ENODEV : -EIO;
				if ((s->srb_status & SRB_STATUS_AUTOSENSE_VALID) && s->sense_info_length <= VSTOR_SENSE_MAX)
					__builtin_memcpy(rq->sense, s->sense, s->sense_info_length);
			}
		} else if (rq->pkt.status != 0) {
			rq->err = -EIO;
		}
	}
	sv->st.completions++;
	storvsc_done_fn fn = rq->fn;
	__atomic_store_n(&rq->done, true, __ATOMIC_RELEASE);
	if (fn) {
		fn(sv, rq, rq->arg);
		req_put(sv, rq);
	}
}

void storvsc_channel_cb(struct vmbus_channel *ch, void *arg)
{
	struct storvsc *sv = arg;
	uint64_t buf[PKT_MAX / 8];
	int n;
	(void)ch;

	while ((n = vmbus_recv(sv->ch, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (n == -EMSGSIZE) {
				sv->st.bad_completions++;
				continue;
			}
			break;
		}
		const struct vmpacket_descriptor *d = (const void *)buf;
		uint32_t off = d->offset8 * 8u;
		if (d->type != VM_PKT_COMP) {
			sv->st.unsolicited++; /* ENUMERATE_BUS, REMOVE_DEVICE: no hot-plug here */
			continue;
		}
		struct storvsc_req *rq = req_from_tid(sv, d->trans_id);
		if (!rq) {
			sv->st.bad_completions++;
			continue;
		}
		complete(sv, rq, (const uint8_t *)buf + off, (uint32_t)n - off);
	}
}

/* --- requests --- */

static bool req_done(void *arg)
{
	return ((struct storvsc_req *)arg)->done;
}

static int wait_req(struct storvsc *sv, struct storvsc_req *rq)
{
	struct vmbus_conn *c = sv->ch->conn;
	int r = c->ops.wait(c->ops.ctx, req_done, rq, sv->timeout_ms);
	if (r) {
		/* The host still owns the buffer: keep the slot busy forever
		 * rather than let a late answer land in a reused one. */
		rq->fn = NULL;
		return r;
	}
	r = rq->err;
	return r;
}

/* A handshake step: 0 or -errno; the answer stays in *out. */
static int vstor_op(struct storvsc *sv, uint32_t op, const void *body, size_t blen, struct vstor_packet *out)
{
	struct storvsc_req *rq = req_get(sv);
	if (!rq)
		return -EBUSY;
	__builtin_memset(&rq->pkt, 0, sizeof(rq->pkt));
	rq->pkt.operation = op;
	rq->pkt.flags = VSTOR_FLAG_REQUEST_COMPLETION;
	if (blen)
		__builtin_memcpy(rq->pkt.raw, body, blen);
	int r = vmbus_send(sv->ch, VM_PKT_DATA_INBAND, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, req_tid(sv, rq), &rq->pkt,
			   sv->pkt_len);
	if (r) {
		req_put(sv, rq);
		return r;
	}
	r = wait_req(sv, rq);
	if (r == -ETIMEDOUT)
		return r;
	if (out)
		*out = rq->pkt;
	req_put(sv, rq);
	return r;
}

int storvsc_attach(struct storvsc *sv, struct vmbus_channel *ch)
{
	struct vstor_packet ans;
	struct vstor_properties props = { 0 };
	int r;

	sv->ch = ch;
	/* Until the version is agreed, packets are the pre-Windows 8 size, as
	 * the host's other guests send them. */
	sv->pkt_len = sizeof(struct vstor_packet) - sizeof(struct vmscsi_win8_extension);
	if (!sv->timeout_ms)
		sv->timeout_ms = 5000;
	/* The channel's user data names the properties we pass (none). */
	r = vmbus_open(ch, sv->ring_bytes, &props, sizeof(props), storvsc_channel_cb, sv, sv->timeout_ms);
	if (r)
		return r;
	if ((r = vstor_op(sv, VSTOR_OP_BEGIN_INITIALIZATION, NULL, 0, NULL)))
		goto fail;
	r = -EPROTONOSUPPORT;
	for (const uint16_t *v = vstor_versions; *v && r; v++) {
		struct vstor_version ver = { *v, 0 };
		r = vstor_op(sv, VSTOR_OP_QUERY_PROTOCOL_VERSION, &ver, sizeof(ver), NULL);
		if (r == -ETIMEDOUT)
			goto fail;
		if (!r) {
			sv->proto = *v;
			sv->pkt_len = sizeof(struct vstor_packet); /* every version we offer has the extension */
		}
		else
			r = -EPROTONOSUPPORT;
	}
	if (r)
		goto fail;
	if ((r = vstor_op(sv, VSTOR_OP_QUERY_PROPERTIES, NULL, 0, &ans)))
		goto fail;
	sv->max_transfer = ans.props.max_transfer_bytes;
	sv->max_channels = ans.props.max_channel_count;
	if (sv->max_transfer < 4096)
		sv->max_transfer = 4096; /* a host that states less: one page at a time still works */
	if ((r = vstor_op(sv, VSTOR_OP_END_INITIALIZATION, NULL, 0, NULL)))
		goto fail;
	return 0;
fail:
	vmbus_close(ch, sv->timeout_ms);
	return r;
}

void storvsc_detach(struct storvsc *sv)
{
	vmbus_close(sv->ch, sv->timeout_ms);
}

static int scsi_start(struct storvsc *sv, struct storvsc_req *rq, uint8_t lun, const uint8_t *cdb, uint8_t cdb_len,
		      void *buf, uint32_t len, int dir)
{
	storvsc_srb_encode(&rq->pkt, lun, cdb, cdb_len, len, dir);
	rq->want_len = len;
	__builtin_memset(rq->sense, 0, sizeof(rq->sense));
	if (len)
		return vmbus_send_gpa(sv->ch, req_tid(sv, rq), &rq->pkt, sizeof(rq->pkt), buf, len);
	return vmbus_send(sv->ch, VM_PKT_DATA_INBAND, VMBUS_PKT_FLAG_COMPLETION_REQUESTED, req_tid(sv, rq), &rq->pkt,
			  sizeof(rq->pkt));
}

int storvsc_scsi(struct storvsc *sv, uint8_t lun, const uint8_t *cdb, uint8_t cdb_len, void *buf, uint32_t len,
		 int dir, storvsc_done_fn fn, void *arg)
{
	if (cdb_len > VSTOR_CDB_MAX || len > sv->max_transfer || (len && dir == SRB_DATA_NONE))
		return -EINVAL;
	struct storvsc_req *rq = req_get(sv);
	if (!rq)
		return -EBUSY;
	rq->fn = fn;
	rq->arg = arg;
	int r = scsi_start(sv, rq, lun, cdb, cdb_len, buf, len, dir);
	if (r) {
		req_put(sv, rq);
		return r == -EAGAIN ? -EBUSY : r;
	}
	return 0;
}

int storvsc_scsi_sync(struct storvsc *sv, uint8_t lun, const uint8_t *cdb, uint8_t cdb_len, void *buf,
		      uint32_t len, int dir, uint32_t *got)
{
	if (cdb_len > VSTOR_CDB_MAX || len > sv->max_transfer)
		return -EINVAL;
	struct storvsc_req *rq = req_get(sv);
	if (!rq)
		return -EBUSY;
	int r = scsi_start(sv, rq, lun, cdb, cdb_len, buf, len, dir);
	if (r) {
		req_put(sv, rq);
		return r;
	}
	r = wait_req(sv, rq);
	if (r == -ETIMEDOUT)
		return r;
	if (got)
		*got = rq->got_len;
	req_put(sv, rq);
	return r;
}

int storvsc_probe_lun(struct storvsc *sv, uint8_t lun, uint64_t *blocks, uint32_t *block_size, void *page)
{
	uint8_t *b = page; /* one page of DMA-able memory */
	uint8_t cdb[VSTOR_CDB_MAX] = { SCSI_INQUIRY, 0, 0, 0, 36, 0 };
	uint32_t got;
	int r = storvsc_scsi_sync(sv, lun, cdb, 6, b, 36, SRB_DATA_READ, &got);
	if (r)
		return r;
	if (got < 1 || (b[0] >> 5) != 0 || (b[0] & 0x1f) != 0)
		return -ENODEV; /* no device there, or not a direct-access disk */

	__builtin_memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_READ_CAPACITY_10;
	if ((r = storvsc_scsi_sync(sv, lun, cdb, 10, b, 8, SRB_DATA_READ, &got)))
		return r;
	if (got < 8)
		return -EIO;
	uint64_t last = get_be(b, 4);
	uint32_t bs = (uint32_t)get_be(b + 4, 4);
	if (last == 0xffffffffu) {
		__builtin_memset(cdb, 0, sizeof(cdb));
		cdb[0] = SCSI_SERVICE_ACTION_IN_16;
		cdb[1] = SCSI_SAI_READ_CAPACITY_16;
		put_be(cdb + 10, 32, 4);
		if ((r = storvsc_scsi_sync(sv, lun, cdb, 16, b, 32, SRB_DATA_READ, &got)))
			return r;
		if (got < 12)
			return -EIO;
		last = get_be(b, 8);
		bs = (uint32_t)get_be(b + 8, 4);
	}
	if (bs < 512 || bs > 65536 || (bs & (bs - 1)) || last >= (1ull << 48))
		return -EIO; /* not a block size or capacity a disk has */
	*blocks = last + 1;
	*block_size = bs;
	return 0;
}

int storvsc_rw(struct storvsc *sv, uint8_t lun, bool write, uint64_t lba, uint32_t nblocks, uint32_t block_size,
	       void *buf, storvsc_done_fn fn, void *arg)
{
	uint8_t cdb[VSTOR_CDB_MAX];
	uint64_t bytes = (uint64_t)nblocks * block_size;
	if (!nblocks || bytes > sv->max_transfer)
		return -EINVAL;
	uint8_t n = storvsc_cdb_rw(cdb, write, lba, nblocks);
	return storvsc_scsi(sv, lun, cdb, n, buf, (uint32_t)bytes, write ? SRB_DATA_WRITE : SRB_DATA_READ, fn, arg);
}
