/* The VMBus connection and its channels, as pure protocol code: version
 * negotiation (INITIATE_CONTACT, newest first), offers, opening a channel
 * over a ring-buffer GPADL, GPADL creation split into a header and body
 * messages, packets in and out of the rings. The hypervisor, allocator and
 * sleeping are struct vmbus_ops (vmbus.c in the kernel, a simulated host in
 * the tests). Messages from the host are checked for length and for
 * answering something asked before they change any state. */
#include <vmbus/vmbus.h>
#include <lib/errno.h>

#define PAGE 4096u
#define FIRST_GPADL 0xe1e10u

const uint32_t vmbus_versions[] = {
	VMBUS_VERSION_WIN10_V5_3, VMBUS_VERSION_WIN10_V5_2, VMBUS_VERSION_WIN10_V5_1, VMBUS_VERSION_WIN10_V5,
	VMBUS_VERSION_WIN10_V4_1, VMBUS_VERSION_WIN10, VMBUS_VERSION_WIN8_1, VMBUS_VERSION_WIN8, 0,
};

static void lock(struct vmbus_conn *c)
{
	while (__atomic_exchange_n(&c->lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void unlock(struct vmbus_conn *c)
{
	__atomic_store_n(&c->lock, 0, __ATOMIC_RELEASE);
}

void vmbus_conn_init(struct vmbus_conn *c, const struct vmbus_ops *ops)
{
	__builtin_memset(c, 0, sizeof(*c));
	c->ops = *ops;
	c->next_gpadl = FIRST_GPADL;
}

/* --- requests the host answers --- */

static struct vmbus_waiter *waiter_add(struct vmbus_conn *c, uint32_t msgtype, uint32_t key, uint32_t relid)
{
	struct vmbus_waiter *w = NULL;
	lock(c);
	for (unsigned i = 0; i < VMBUS_MAX_WAITERS && !w; i++) {
		if (c->waiters[i].msgtype == 0) {
			w = &c->waiters[i];
			w->msgtype = msgtype;
			w->key = key;
			w->relid = relid;
			w->done = false;
			w->status = 0;
		}
	}
	unlock(c);
	return w;
}

static void waiter_del(struct vmbus_conn *c, struct vmbus_waiter *w)
{
	lock(c);
	w->msgtype = 0;
	unlock(c);
}

static bool waiter_done(void *arg)
{
	return ((struct vmbus_waiter *)arg)->done;
}

/* Wait for the answer; -ETIMEDOUT, else 0 with *status. */
static int waiter_wait(struct vmbus_conn *c, struct vmbus_waiter *w, unsigned timeout_ms, uint32_t *status)
{
	int r = c->ops.wait(c->ops.ctx, waiter_done, w, timeout_ms);
	if (!r)
		*status = w->status;
	waiter_del(c, w);
	return r;
}

static bool waiter_answer(struct vmbus_conn *c, uint32_t msgtype, uint32_t key, uint32_t relid, uint32_t status)
{
	bool found = false;
	lock(c);
	for (unsigned i = 0; i < VMBUS_MAX_WAITERS; i++) {
		struct vmbus_waiter *w = &c->waiters[i];
		if (w->msgtype == msgtype && w->key == key && w->relid == relid && !w->done) {
			w->status = status;
			__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
			found = true;
			break;
		}
	}
	unlock(c);
	return found;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

static int post(struct vmbus_conn *c, uint32_t conn_id, const void *msg, size_t len)
{
	int r;
	/* The host's queue for us may be full for a while: retry for about a second. */
	for (int tries = 0; (r = c->ops.post(c->ops.ctx, conn_id, msg, len)) == -EAGAIN && tries < 1000; tries++)
		c->ops.wait(c->ops.ctx, never, NULL, 1);
	return r;
}

/* --- connection --- */

static bool answered(void *arg)
{
	return ((struct vmbus_conn *)arg)->answered_version != 0;
}

static bool offers_done(void *arg)
{
	struct vmbus_conn *c = arg;
	return c->state == 3;
}

int vmbus_connect(struct vmbus_conn *c, unsigned timeout_ms)
{
	struct vmbus_msg_initiate_contact m;
	int r;

	if (!c->monitor_pages)
		c->monitor_pages = c->ops.alloc(c->ops.ctx, 2 * PAGE);
	if (!c->interrupt_page)
		c->interrupt_page = c->ops.alloc(c->ops.ctx, PAGE);
	if (!c->monitor_pages || !c->interrupt_page)
		return -ENOMEM;

	for (const uint32_t *v = vmbus_versions; *v; v++) {
		bool v5 = *v >= VMBUS_VERSION_WIN10_V5;
		__builtin_memset(&m, 0, sizeof(m));
		m.header.msgtype = CHANNELMSG_INITIATE_CONTACT;
		m.version_requested = *v;
		m.target_vcpu = 0;
		if (v5)
			m.msg_sint = VMBUS_MESSAGE_SINT;
		else
			m.interrupt_page = c->ops.phys(c->ops.ctx, c->interrupt_page);
		m.monitor_page1 = c->ops.phys(c->ops.ctx, c->monitor_pages);
		m.monitor_page2 = m.monitor_page1 + PAGE;

		c->answered_version = 0;
		c->version_ok = 0;
		c->version = *v;
		c->state = 1;
		r = post(c, v5 ? VMBUS_MESSAGE_CONNECTION_ID_4 : VMBUS_MESSAGE_CONNECTION_ID, &m, sizeof(m));
		if (r)
			return r;
		r = c->ops.wait(c->ops.ctx, answered, c, timeout_ms);
		if (r)
			goto fail;
		if (c->version_ok)
			break;
	}
	if (!c->version_ok) {
		c->state = -1;
		return -EPROTONOSUPPORT;
	}
	c->state = 2;

	struct vmbus_msg_header req = { CHANNELMSG_REQUESTOFFERS, 0 };
	r = post(c, c->msg_conn_id, &req, sizeof(req));
	if (r)
		goto fail;
	r = c->ops.wait(c->ops.ctx, offers_done, c, timeout_ms);
	if (r)
		goto fail;
	return 0;
fail:
	c->state = -1;
	return r;
}

struct vmbus_channel *vmbus_find_channel(struct vmbus_conn *c, uint32_t relid)
{
	unsigned n = __atomic_load_n(&c->nchannels, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++)
		if (c->channels[i].relid == relid)
			return &c->channels[i];
	return NULL;
}

static int on_version(struct vmbus_conn *c, const struct vmbus_msg_version_response *m, size_t len)
{
	bool v5 = c->version >= VMBUS_VERSION_WIN10_V5;
	/* Before 5.0 the answer ends after connection_state (12 bytes). */
	if (c->state != 1 || c->answered_version || len < (v5 ? sizeof(*m) : 12))
		return -EINVAL;
	if (m->version_supported) {
		c->msg_conn_id = v5 ? m->msg_conn_id : VMBUS_MESSAGE_CONNECTION_ID;
		if (c->msg_conn_id == 0)
			return -EINVAL; /* a "yes" that names nowhere to send to: wait for the timeout */
		c->version_ok = 1;
	}
	__atomic_store_n(&c->answered_version, c->version, __ATOMIC_RELEASE);
	return 0;
}

static int on_offer(struct vmbus_conn *c, const struct vmbus_msg_offer_channel *m, size_t len)
{
	if (len < sizeof(*m) || c->state < 2)
		return -EINVAL;
	uint32_t relid = m->child_relid;
	if (relid == 0 || relid >= VMBUS_MAX_RELID || vmbus_find_channel(c, relid))
		return -EINVAL;
	if (c->nchannels >= VMBUS_MAX_CHANNELS)
		return -ENOSPC;
	struct vmbus_channel *ch = &c->channels[c->nchannels];
	__builtin_memset(ch, 0, sizeof(*ch));
	ch->conn = c;
	ch->relid = relid;
	ch->signal_id = m->connection_id;
	__builtin_memcpy(ch->type, m->offer.if_type, 16);
	__builtin_memcpy(ch->instance, m->offer.if_instance, 16);
	ch->sub_index = m->offer.sub_channel_index;
	ch->state = VMBUS_CHAN_OFFERED;
	__atomic_store_n(&c->nchannels, c->nchannels + 1, __ATOMIC_RELEASE);
	return 0;
}

int vmbus_conn_message(struct vmbus_conn *c, const void *msg, size_t len)
{
	const struct vmbus_msg_header *h = msg;
	int r = -EINVAL;

	if (len < sizeof(*h) || len > VMBUS_MSG_MAX)
		goto bad;
	switch (h->msgtype) {
	case CHANNELMSG_VERSION_RESPONSE:
		r = on_version(c, msg, len);
		break;
	case CHANNELMSG_OFFERCHANNEL:
		r = on_offer(c, msg, len);
		break;
	case CHANNELMSG_ALLOFFERS_DELIVERED:
		if (c->state == 2) {
			c->state = 3;
			r = 0;
		}
		break;
	case CHANNELMSG_RESCIND_CHANNELOFFER: {
		const struct vmbus_msg_relid *m = msg;
		struct vmbus_channel *ch;
		if (len < sizeof(*m) || !(ch = vmbus_find_channel(c, m->child_relid)))
			break;
		int was = ch->state;
		ch->state = VMBUS_CHAN_RESCINDED;
		if (was == VMBUS_CHAN_OFFERED) {
			struct vmbus_msg_relid rel = { { CHANNELMSG_RELID_RELEASED, 0 }, ch->relid };
			post(c, c->msg_conn_id, &rel, sizeof(rel));
		}
		r = 0;
		break;
	}
	case CHANNELMSG_OPENCHANNEL_RESULT: {
		const struct vmbus_msg_open_result *m = msg;
		if (len >= sizeof(*m) && m->open_id == m->child_relid &&
		    waiter_answer(c, CHANNELMSG_OPENCHANNEL_RESULT, m->child_relid, m->child_relid, m->status))
			r = 0;
		break;
	}
	case CHANNELMSG_GPADL_CREATED: {
		const struct vmbus_msg_gpadl_created *m = msg;
		if (len >= sizeof(*m) &&
		    waiter_answer(c, CHANNELMSG_GPADL_CREATED, m->gpadl, m->child_relid, m->creation_status))
			r = 0;
		break;
	}
	case CHANNELMSG_GPADL_TORNDOWN: {
		const struct vmbus_msg_gpadl_torndown *m = msg;
		if (len >= sizeof(*m) && waiter_answer(c, CHANNELMSG_GPADL_TORNDOWN, m->gpadl, 0, 0))
			r = 0;
		break;
	}
	case CHANNELMSG_UNLOAD_RESPONSE:
		r = 0;
		break;
	default:
		break;
	}
	if (!r)
		return 0;
bad:
	c->bad_messages++;
	return r;
}

void vmbus_conn_event(struct vmbus_conn *c, uint32_t relid)
{
	struct vmbus_channel *ch = vmbus_find_channel(c, relid);
	if (!ch || ch->state != VMBUS_CHAN_OPEN || !ch->callback)
		return;
	do {
		__atomic_store_n(&ch->in.hdr->interrupt_mask, 1, __ATOMIC_RELEASE);
		ch->callback(ch, ch->cb_arg);
		__atomic_store_n(&ch->in.hdr->interrupt_mask, 0, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		/* Packets written while we were masked came without a signal. */
	} while (!ch->broken && ch->state == VMBUS_CHAN_OPEN && vmbus_ring_avail_read(&ch->in));
}

/* --- GPADLs --- */

int vmbus_gpadl_create(struct vmbus_channel *ch, void *buf, size_t len, uint32_t *handle, unsigned timeout_ms)
{
	struct vmbus_conn *c = ch->conn;
	uint8_t msg[VMBUS_MSG_MAX];
	uint64_t pa = c->ops.phys(c->ops.ctx, buf);
	size_t npages = (len + PAGE - 1) / PAGE;
	uint32_t status;
	int r;

	if (!len || (pa & (PAGE - 1)) || len > 0xffffffffu ||
	    sizeof(struct vmbus_gpa_range_hdr) + npages * 8 > 0xffff)
		return -EINVAL;
	lock(c);
	uint32_t gpadl = c->next_gpadl++;
	unlock(c);
	struct vmbus_waiter *w = waiter_add(c, CHANNELMSG_GPADL_CREATED, gpadl, ch->relid);
	if (!w)
		return -EBUSY;

	struct vmbus_msg_gpadl_header *h = (void *)msg;
	size_t n = npages < VMBUS_GPADL_HEADER_PFNS ? npages : VMBUS_GPADL_HEADER_PFNS;
	__builtin_memset(msg, 0, sizeof(msg));
	h->header.msgtype = CHANNELMSG_GPADL_HEADER;
	h->child_relid = ch->relid;
	h->gpadl = gpadl;
	h->range_buflen = (uint16_t)(sizeof(struct vmbus_gpa_range_hdr) + npages * 8);
	h->range_count = 1;
	h->range.byte_count = (uint32_t)len;
	h->range.byte_offset = 0;
	size_t done = 0;
	for (; done < n; done++) {
		uint64_t pfn = (pa >> 12) + done;
		__builtin_memcpy(msg + sizeof(*h) + done * 8, &pfn, 8);
	}
	r = post(c, c->msg_conn_id, msg, sizeof(*h) + n * 8);
	while (!r && done < npages) {
		struct vmbus_msg_gpadl_body *b = (void *)msg;
		n = npages - done < VMBUS_GPADL_BODY_PFNS ? npages - done : VMBUS_GPADL_BODY_PFNS;
		__builtin_memset(msg, 0, sizeof(msg));
		b->header.msgtype = CHANNELMSG_GPADL_BODY;
		b->gpadl = gpadl;
		for (size_t i = 0; i < n; i++) {
			uint64_t pfn = (pa >> 12) + done + i;
			__builtin_memcpy(msg + sizeof(*b) + i * 8, &pfn, 8);
		}
		done += n;
		r = post(c, c->msg_conn_id, msg, sizeof(*b) + n * 8);
	}
	if (r) {
		waiter_del(c, w);
		return r;
	}
	r = waiter_wait(c, w, timeout_ms, &status);
	if (r)
		return r;
	if (status != 0)
		return -EIO;
	*handle = gpadl;
	return 0;
}

int vmbus_gpadl_teardown(struct vmbus_channel *ch, uint32_t handle, unsigned timeout_ms)
{
	struct vmbus_conn *c = ch->conn;
	struct vmbus_msg_gpadl_teardown m = { { CHANNELMSG_GPADL_TEARDOWN, 0 }, ch->relid, handle };
	uint32_t status;
	struct vmbus_waiter *w = waiter_add(c, CHANNELMSG_GPADL_TORNDOWN, handle, 0);
	if (!w)
		return -EBUSY;
	int r = post(c, c->msg_conn_id, &m, sizeof(m));
	if (r) {
		waiter_del(c, w);
		return r;
	}
	return waiter_wait(c, w, timeout_ms, &status);
}

/* --- channels --- */

int vmbus_open(struct vmbus_channel *ch, size_t ring_bytes, const void *user, size_t user_len,
	       void (*cb)(struct vmbus_channel *, void *), void *arg, unsigned timeout_ms)
{
	struct vmbus_conn *c = ch->conn;
	struct vmbus_msg_open_channel m;
	uint32_t status;
	int r;

	if (ch->state != VMBUS_CHAN_OFFERED || ring_bytes % PAGE || ring_bytes < 2 * PAGE ||
	    user_len > VMBUS_USERDEF_BYTES)
		return -EINVAL;
	uint8_t *mem = c->ops.alloc(c->ops.ctx, 2 * ring_bytes);
	if (!mem)
		return -ENOMEM;
	vmbus_ring_init(&ch->out, mem, ring_bytes);
	vmbus_ring_init(&ch->in, mem + ring_bytes, ring_bytes);
	ch->ring_mem = mem;
	ch->ring_bytes = ring_bytes;
	ch->broken = false;
	r = vmbus_gpadl_create(ch, mem, 2 * ring_bytes, &ch->ring_gpadl, timeout_ms);
	if (r)
		goto free;

	__builtin_memset(&m, 0, sizeof(m));
	m.header.msgtype = CHANNELMSG_OPENCHANNEL;
	m.child_relid = ch->relid;
	m.open_id = ch->relid;
	m.ring_gpadl = ch->ring_gpadl;
	m.target_vp = 0;
	m.downstream_ring_page_offset = (uint32_t)(ring_bytes / PAGE);
	if (user_len)
		__builtin_memcpy(m.user_data, user, user_len);
	ch->callback = cb;
	ch->cb_arg = arg;
	ch->state = VMBUS_CHAN_OPENING;
	struct vmbus_waiter *w = waiter_add(c, CHANNELMSG_OPENCHANNEL_RESULT, ch->relid, ch->relid);
	r = -EBUSY;
	if (!w)
		goto teardown;
	r = post(c, c->msg_conn_id, &m, sizeof(m));
	if (r) {
		waiter_del(c, w);
		goto teardown;
	}
	r = waiter_wait(c, w, timeout_ms, &status);
	if (!r && status != 0)
		r = -EIO;
	if (r)
		goto teardown;
	ch->state = VMBUS_CHAN_OPEN;
	return 0;
teardown:
	ch->state = VMBUS_CHAN_OFFERED;
	vmbus_gpadl_teardown(ch, ch->ring_gpadl, timeout_ms);
free:
	c->ops.free(c->ops.ctx, mem, 2 * ring_bytes);
	ch->ring_mem = NULL;
	return r;
}

void vmbus_close(struct vmbus_channel *ch, unsigned timeout_ms)
{
	struct vmbus_conn *c = ch->conn;
	if (ch->state != VMBUS_CHAN_OPEN)
		return;
	ch->state = VMBUS_CHAN_OFFERED;
	struct vmbus_msg_relid m = { { CHANNELMSG_CLOSECHANNEL, 0 }, ch->relid };
	post(c, c->msg_conn_id, &m, sizeof(m));
	/* The host may still write the rings until the GPADL is gone: keep
	 * the memory when the teardown was not confirmed. */
	if (vmbus_gpadl_teardown(ch, ch->ring_gpadl, timeout_ms) == 0)
		c->ops.free(c->ops.ctx, ch->ring_mem, 2 * ch->ring_bytes);
	ch->ring_mem = NULL;
	ch->callback = NULL;
}

static int ring_write_locked(struct vmbus_channel *ch, const struct vmbus_iov *iov, unsigned n, bool *sig)
{
	while (__atomic_exchange_n(&ch->out_lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	int r = vmbus_ring_write(&ch->out, iov, n, sig);
	__atomic_store_n(&ch->out_lock, 0, __ATOMIC_RELEASE);
	return r;
}

static void signal_host(struct vmbus_channel *ch)
{
	ch->conn->ops.signal(ch->conn->ops.ctx, ch->signal_id);
}

int vmbus_send(struct vmbus_channel *ch, uint16_t type, uint16_t flags, uint64_t trans_id, const void *data,
	       size_t len)
{
	if (ch->state != VMBUS_CHAN_OPEN)
		return -ENOTCONN;
	if (len > 0xffff * 8 - sizeof(struct vmpacket_descriptor))
		return -EMSGSIZE;
	struct vmpacket_descriptor d = {
		.type = type,
		.offset8 = sizeof(d) / 8,
		.len8 = (uint16_t)((sizeof(d) + len + 7) / 8),
		.flags = flags,
		.trans_id = trans_id,
	};
	struct vmbus_iov iov[2] = { { &d, sizeof(d) }, { data, len } };
	bool sig;
	int r = ring_write_locked(ch, iov, 2, &sig);
	if (!r && sig)
		signal_host(ch);
	return r;
}

#define GPA_MAX_PFNS 256

int vmbus_send_gpa(struct vmbus_channel *ch, uint64_t trans_id, const void *data, size_t len, void *buf,
		   size_t buflen)
{
	struct {
		struct vmbus_gpa_direct_header h;
		uint64_t pfn[GPA_MAX_PFNS];
	} __attribute__((packed)) p;
	struct vmbus_conn *c = ch->conn;

	if (ch->state != VMBUS_CHAN_OPEN)
		return -ENOTCONN;
	uint64_t pa = c->ops.phys(c->ops.ctx, buf);
	uint32_t off = (uint32_t)(pa & (PAGE - 1));
	size_t npfn = (off + buflen + PAGE - 1) / PAGE;
	if (!buflen || npfn > GPA_MAX_PFNS || buflen > 0xffffffffu || len > 0x10000)
		return -EMSGSIZE;
	size_t hlen = sizeof(p.h) + npfn * 8;
	p.h.d.type = VM_PKT_DATA_USING_GPA_DIRECT;
	p.h.d.offset8 = (uint16_t)(hlen / 8);
	p.h.d.len8 = (uint16_t)((hlen + len + 7) / 8);
	p.h.d.flags = VMBUS_PKT_FLAG_COMPLETION_REQUESTED;
	p.h.d.trans_id = trans_id;
	p.h.reserved = 0;
	p.h.range_count = 1;
	p.h.range.byte_count = (uint32_t)buflen;
	p.h.range.byte_offset = off;
	for (size_t i = 0; i < npfn; i++)
		p.pfn[i] = (pa >> 12) + i;
	struct vmbus_iov iov[2] = { { &p, hlen }, { data, len } };
	bool sig;
	int r = ring_write_locked(ch, iov, 2, &sig);
	if (!r && sig)
		signal_host(ch);
	return r;
}

int vmbus_recv(struct vmbus_channel *ch, void *buf, size_t buflen)
{
	bool sig;
	if (ch->state != VMBUS_CHAN_OPEN || ch->broken)
		return ch->broken ? -EIO : 0;
	int r = vmbus_ring_read(&ch->in, buf, buflen, &sig);
	if (r == -EIO) {
		ch->broken = true;
		ch->bad_packets++;
	} else if (r == -EMSGSIZE) {
		ch->bad_packets++;
	}
	if (sig)
		signal_host(ch);
	return r;
}
