#include "ixgbevf_model.h"
#include <stdio.h>
#include <string.h>

#define R(m, off) ((m)->reg[(off) / 4])

static void violate(struct model *m, const char *what, uint32_t a, uint32_t b)
{
	if (!m->violation[0])
		snprintf(m->violation, sizeof(m->violation), "%s (%#x, %#x)", what, a, b);
}

void model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	static const uint8_t mac[6] = { 0x02, 0x09, 0xc0, 0xff, 0xee, 0x01 };
	memcpy(m->mac, mac, 6);
	m->pf_max_api = IXV_API_14;
	m->api_agreed = IXV_API_10;
	m->txq = 2;
	m->rxq = 2;
	m->defq = 0;
	m->link = true;
	m->rsti = true; /* until the PF has set the VF up after power-on */
	m->rsti_sleeps = 2;
}

/* An MSI-X vector for a cause: raised in VTEICR, fired when enabled in VTEIMS, auto-cleared per VTEIAC. */
static void raise_vec(struct model *m, unsigned vec)
{
	uint32_t bit = 1u << vec;
	m->eicr |= bit;
	if (R(m, IXV_VTEIMS) & bit) {
		m->fired[vec]++;
		if (R(m, IXV_VTEIAC) & bit)
			m->eicr &= ~bit;
	}
}

static void mbx_irq(struct model *m)
{
	uint32_t ivar = R(m, IXV_VTIVAR_MISC);
	if ((ivar & IXV_IVAR_VALID) && (ivar & 3) < 3)
		raise_vec(m, ivar & 3);
}

/* ---- the PF ---- */

static void reply(struct model *m, const uint32_t *w, unsigned n)
{
	memcpy(m->reply, w, n * 4);
	m->reply_len = n;
	m->reply_due = m->quirk != PF_SILENT;
	if (m->quirk == PF_FAST && !m->vfu) {
		memcpy(m->mbmem, m->reply, m->reply_len * 4);
		m->reply_due = false;
		m->r2c |= IXV_MBX_PFSTS;
	}
}

static void pf_handle(struct model *m)
{
	uint32_t msg[IXV_MBX_WORDS];
	memcpy(msg, m->mbmem, sizeof(msg));
	m->r2c |= IXV_MBX_PFACK; /* read and acknowledged */
	mbx_irq(m);
	unsigned type = msg[0] & 0xffff;
	if (type < 32)
		m->msgs[type]++;
	uint32_t ok = m->quirk == PF_BOTH_FLAGS ? IXV_MSG_SUCCESS | IXV_MSG_FAILURE : IXV_MSG_SUCCESS;
	uint32_t r[IXV_MBX_WORDS] = { 0 };
	switch (type) {
	case IXV_MSG_RESET: {
		uint8_t mac[6];
		memcpy(mac, m->mac, 6);
		if (m->quirk == PF_RESET_MCAST_MAC)
			mac[0] |= 1;
		r[0] = (m->quirk == PF_RESET_WRONG_TYPE ? IXV_MSG_SET_MAC_ADDR : IXV_MSG_RESET) |
		       (m->quirk == PF_RESET_NACK ? IXV_MSG_FAILURE : ok) | IXV_MSG_CTS;
		r[1] = mac[0] | mac[1] << 8 | mac[2] << 16 | (uint32_t)mac[3] << 24;
		r[2] = mac[4] | mac[5] << 8;
		r[3] = m->mc_type;
		reply(m, r, 4);
		return;
	}
	case IXV_MSG_API_NEGOTIATE: {
		int api = (int)msg[1];
		/* Accepted when the PF knows it: 1.0 always, the rest up to pf_max_api (in release order). */
		static const int order[] = { IXV_API_10, IXV_API_11, IXV_API_12, IXV_API_13, IXV_API_14 };
		int rank = -1, max = -1;
		for (int i = 0; i < 5; i++) {
			if (order[i] == api)
				rank = i;
			if (order[i] == m->pf_max_api)
				max = i;
		}
		bool yes = m->pf_max_api >= 0 && rank >= 0 && rank <= max;
		if (yes)
			m->api_agreed = api;
		else
			m->nacks++;
		r[0] = IXV_MSG_API_NEGOTIATE | (yes ? ok : IXV_MSG_FAILURE) | IXV_MSG_CTS;
		reply(m, r, 1);
		return;
	}
	case IXV_MSG_GET_QUEUES:
		if (m->api_agreed == IXV_API_10) {
			violate(m, "GET_QUEUES under API 1.0", msg[0], 0);
			r[0] = type | IXV_MSG_FAILURE | IXV_MSG_CTS;
			reply(m, r, 1);
			return;
		}
		r[0] = type | ok | IXV_MSG_CTS;
		r[1] = m->quirk == PF_QUEUES_ZERO ? 0 : m->txq;
		r[2] = m->rxq;
		r[3] = 0;
		r[4] = m->quirk == PF_QUEUES_DEFQ ? m->rxq : m->defq;
		reply(m, r, 5);
		return;
	case IXV_MSG_SET_LPE:
		m->lpe = msg[1];
		r[0] = type | (msg[1] >= 64 && msg[1] <= 9728 ? ok : IXV_MSG_FAILURE) | IXV_MSG_CTS;
		reply(m, r, 1);
		return;
	case IXV_MSG_SET_MULTICAST: {
		unsigned n = (msg[0] >> IXV_MSGINFO_SHIFT) & 0xff;
		if (n > 30)
			violate(m, "SET_MULTICAST count over 30", n, 0);
		m->nmc = n > 30 ? 30 : n;
		memcpy(m->mc, &msg[1], m->nmc * 2);
		r[0] = type | ok | IXV_MSG_CTS;
		reply(m, r, 1);
		return;
	}
	default:
		m->nacks++;
		r[0] = type | IXV_MSG_FAILURE | IXV_MSG_CTS;
		reply(m, r, 1);
		return;
	}
}

/* Time passes (the driver sleeps): the PF finishes a VF reset, delivers a pending reply. */
static void pf_step(struct model *m)
{
	m->sleeps++;
	if (m->rsti && m->rsti_sleeps > 0 && --m->rsti_sleeps == 0) {
		m->rsti = false;
		m->r2c |= IXV_MBX_RSTD;
	}
	if (m->reply_due && !m->vfu) {
		memcpy(m->mbmem, m->reply, m->reply_len * 4);
		m->reply_due = false;
		m->r2c |= IXV_MBX_PFSTS;
		mbx_irq(m);
	}
}

bool model_pf_send(struct model *m, uint32_t word)
{
	if (m->vfu)
		return false;
	m->mbmem[0] = word;
	m->r2c |= IXV_MBX_PFSTS;
	mbx_irq(m);
	return true;
}

/* ---- the VF's registers ---- */

static void vf_reset(struct model *m)
{
	for (unsigned q = 0; q < 8; q++) {
		R(m, IXV_VFRXDCTL(q)) = 0;
		R(m, IXV_VFTXDCTL(q)) = 0;
		R(m, IXV_VFRDH(q)) = R(m, IXV_VFRDT(q)) = R(m, IXV_VFTDH(q)) = R(m, IXV_VFTDT(q)) = 0;
	}
	R(m, IXV_VTEIMS) = R(m, IXV_VTEIAC) = R(m, IXV_VTIVAR(0)) = R(m, IXV_VTIVAR_MISC) = 0;
	m->eicr = 0;
	m->vfu = false;
	m->rsti = true;
	m->rsti_sleeps = m->quirk == PF_RESET_SLOW ? 50 : 2;
}

static unsigned ring_len(struct model *m, uint32_t lenreg)
{
	return R(m, lenreg) / 16;
}

static void *dma(uint32_t lo, uint32_t hi)
{
	return (void *)(uintptr_t)((uint64_t)hi << 32 | lo);
}

static void tx_process(struct model *m)
{
	if (m->tx_hold || !(R(m, IXV_VFTXDCTL(0)) & IXV_DCTL_ENABLE))
		return;
	unsigned n = ring_len(m, IXV_VFTDLEN(0));
	struct ixv_tx_desc *ring = dma(R(m, IXV_VFTDBAL(0)), R(m, IXV_VFTDBAH(0)));
	uint8_t frame[IXV_BUF];
	unsigned flen = 0;
	while (R(m, IXV_VFTDH(0)) != R(m, IXV_VFTDT(0))) {
		unsigned h = R(m, IXV_VFTDH(0));
		struct ixv_tx_desc *d = &ring[h];
		uint32_t c = d->cmd_type_len;
		unsigned len = c & 0xffff;
		if (!(c & IXV_TXD_DEXT) || (c & (0xfu << 20)) != IXV_TXD_DTYP_DATA)
			violate(m, "transmit descriptor is not an advanced data descriptor", h, c);
		else if (len == 0 || flen + len > IXV_BUF || !d->addr)
			violate(m, "transmit descriptor length or address", h, len);
		else {
			if (flen == 0 && (d->olinfo_status >> IXV_TXD_PAYLEN_SHIFT) < len)
				violate(m, "PAYLEN shorter than the data", h, d->olinfo_status);
			memcpy(frame + flen, (void *)(uintptr_t)d->addr, len);
			flen += len;
		}
		if (c & IXV_TXD_EOP) {
			if (m->nwire < 1024 && flen) {
				memcpy(m->wire[m->nwire], frame, flen);
				m->wire_len[m->nwire++] = flen;
			}
			flen = 0;
		}
		if (c & IXV_TXD_RS)
			d->olinfo_status |= IXV_TXD_DD;
		R(m, IXV_VFTDH(0)) = (h + 1) % n;
	}
}

void model_tx_release(struct model *m)
{
	m->tx_hold = false;
	tx_process(m);
}

bool model_rx(struct model *m, const uint8_t *frame, unsigned len, enum rx_kind kind)
{
	if (!(R(m, IXV_VFRXDCTL(0)) & IXV_DCTL_ENABLE))
		return false;
	unsigned n = ring_len(m, IXV_VFRDLEN(0));
	unsigned bufsize = (R(m, IXV_VFSRRCTL(0)) & 0x1f) * 1024;
	struct ixv_rx_desc *ring = dma(R(m, IXV_VFRDBAL(0)), R(m, IXV_VFRDBAH(0)));
	unsigned pieces = kind == RX_NO_EOP ? 2 : 1;
	for (unsigned p = 0; p < pieces; p++) {
		unsigned h = R(m, IXV_VFRDH(0));
		if (h == R(m, IXV_VFRDT(0)))
			return false; /* no descriptors: dropped on the wire */
		struct ixv_rx_desc *d = &ring[h];
		uint8_t *buf = (uint8_t *)(uintptr_t)d->read.pkt_addr;
		if (!buf) {
			violate(m, "receive descriptor without a buffer", h, 0);
			return false;
		}
		unsigned copy = len < bufsize ? len : bufsize;
		memcpy(buf, frame, copy);
		uint32_t status = IXV_RXD_DD | (p + 1 == pieces ? IXV_RXD_EOP : 0);
		unsigned wlen = copy;
		if (kind == RX_LONG_LEN)
			wlen = bufsize + 100; /* a length past the buffer it gave */
		if (kind == RX_CRC_ERR)
			status |= 1u << 24; /* CE */
		if (kind == RX_RUNT)
			wlen = 6;
		d->wb.info = 0;
		d->wb.rss = 0;
		d->wb.length = (uint16_t)wlen;
		d->wb.vlan = 0;
		d->wb.status = status;
		R(m, IXV_VFRDH(0)) = (h + 1) % n;
	}
	uint32_t ivar = R(m, IXV_VTIVAR(0));
	if (ivar & IXV_IVAR_VALID)
		raise_vec(m, ivar & 3);
	return true;
}

static uint32_t m_rd(void *ctx, uint32_t reg)
{
	struct model *m = ctx;
	if (reg >= IXV_BAR_SIZE || (reg & 3)) {
		violate(m, "read outside the VF's registers", reg, 0);
		return 0;
	}
	switch (reg) {
	case IXV_VFMAILBOX: {
		uint32_t v = m->r2c | (m->vfu ? IXV_MBX_VFU : 0) | (m->pfu ? IXV_MBX_PFU : 0) | (m->rsti ? IXV_MBX_RSTI : 0);
		m->r2c = 0; /* PFSTS, PFACK, RSTD: read to clear */
		return v;
	}
	case IXV_VTEICR: {
		uint32_t v = m->eicr;
		m->eicr = 0;
		return v;
	}
	case IXV_VFLINKS:
		return m->link ? IXV_LINKS_UP | 3u << 28 : 0;
	case IXV_VFSTATUS:
		return 0;
	}
	if (reg >= IXV_VFMBMEM && reg < IXV_VFMBMEM + 64) {
		if (!m->vfu)
			violate(m, "VFMBMEM read without holding VFU", reg, 0);
		return m->mbmem[(reg - IXV_VFMBMEM) / 4];
	}
	return R(m, reg);
}

static void m_wr(void *ctx, uint32_t reg, uint32_t v)
{
	struct model *m = ctx;
	if (reg >= IXV_BAR_SIZE || (reg & 3)) {
		violate(m, "write outside the VF's registers", reg, v);
		return;
	}
	if (reg >= IXV_VFMBMEM && reg < IXV_VFMBMEM + 64) {
		if (!m->vfu)
			violate(m, "VFMBMEM written without holding VFU", reg, v);
		m->mbmem[(reg - IXV_VFMBMEM) / 4] = v;
		return;
	}
	switch (reg) {
	case IXV_VFCTRL:
		if (v & IXV_CTRL_RST)
			vf_reset(m);
		return;
	case IXV_VFMAILBOX:
		if (v & IXV_MBX_VFU) {
			if (!m->pfu)
				m->vfu = true;
		} else {
			m->vfu = false;
		}
		if (v & IXV_MBX_REQ) {
			if (m->rsti)
				violate(m, "mailbox request while the PF is resetting the VF", v, 0);
			pf_handle(m);
		}
		if (v & IXV_MBX_ACK)
			m->vf_acks++;
		return;
	case IXV_VTEIMS:
		R(m, IXV_VTEIMS) |= v & 7;
		return;
	case IXV_VTEIMC:
		R(m, IXV_VTEIMS) &= ~(v & 7);
		return;
	case IXV_VTEICR:
		m->eicr &= ~v;
		return;
	}
	if (reg == IXV_VFRDLEN(0) || reg == IXV_VFTDLEN(0)) {
		if (v == 0 || v % 128 || v > 8192 * 16)
			violate(m, "ring length not a multiple of 128 bytes", reg, v);
	}
	if (reg == IXV_VFRDBAL(0) || reg == IXV_VFTDBAL(0)) {
		if (v & 127)
			violate(m, "ring base not 128-byte aligned", reg, v);
	}
	if (reg == IXV_VFRDT(0) || reg == IXV_VFTDT(0)) {
		unsigned n = ring_len(m, reg == IXV_VFRDT(0) ? IXV_VFRDLEN(0) : IXV_VFTDLEN(0));
		if (v >= n)
			violate(m, "tail past the ring", reg, v);
	}
	R(m, reg) = v;
	if (reg == IXV_VFTDT(0))
		tx_process(m);
}

static void m_sleep(void *ctx, unsigned us)
{
	(void)us;
	pf_step(ctx);
}

static uint64_t m_dma(void *ctx, const void *p)
{
	(void)ctx;
	return (uint64_t)(uintptr_t)p;
}

const struct ixgbevf_ops model_ops = { m_rd, m_wr, m_sleep, m_dma };
