/* The 82599 VF's register-level driver steps (see ixgbevf_hw.h): mailbox,
 * reset and negotiation, rings, interrupts, receive and transmit. No kernel
 * headers: the host tests compile this file as it is. Timeouts count sleeps
 * (IXV_TRIES x IXV_SLEEP_US, 1 s), since the ops give no clock. */
#include "ixgbevf_hw.h"

#define IXV_TRIES 2000
#define IXV_SLEEP_US 500
#define IXV_MAX_QUEUES 8 /* an 82599 VF has at most 8 queue pairs */

#define compiler_barrier() __asm__ __volatile__("" ::: "memory")

static uint32_t rd(struct ixgbevf_hw *hw, uint32_t reg)
{
	return hw->ops->rd(hw->ctx, reg);
}

static void wr(struct ixgbevf_hw *hw, uint32_t reg, uint32_t v)
{
	hw->ops->wr(hw->ctx, reg, v);
}

static void nap(struct ixgbevf_hw *hw)
{
	hw->ops->sleep_us(hw->ctx, IXV_SLEEP_US);
}

/* ---- mailbox ---- */

static uint32_t mbx_read(struct ixgbevf_hw *hw)
{
	uint32_t v = rd(hw, IXV_VFMAILBOX);
	hw->mbx_bits |= v & IXV_MBX_R2C;
	return v;
}

static bool mbx_wait(struct ixgbevf_hw *hw, uint32_t bit)
{
	for (int i = 0; i < IXV_TRIES; i++) {
		mbx_read(hw);
		if (hw->mbx_bits & bit) {
			hw->mbx_bits &= ~bit;
			return true;
		}
		nap(hw);
	}
	return false;
}

/* VFU sticks only while the PF does not hold the buffer (PFU). */
static bool mbx_lock(struct ixgbevf_hw *hw)
{
	for (int i = 0; i < IXV_TRIES; i++) {
		wr(hw, IXV_VFMAILBOX, IXV_MBX_VFU);
		if (mbx_read(hw) & IXV_MBX_VFU)
			return true;
		nap(hw);
	}
	return false;
}

static bool mbx_take(struct ixgbevf_hw *hw, uint32_t *msg, unsigned n)
{
	if (!mbx_lock(hw))
		return false;
	for (unsigned i = 0; i < n; i++)
		msg[i] = rd(hw, IXV_VFMBMEM + 4 * i);
	wr(hw, IXV_VFMAILBOX, IXV_MBX_ACK); /* and release VFU */
	return true;
}

int ixgbevf_mbx_call(struct ixgbevf_hw *hw, const uint32_t *msg, unsigned n, uint32_t *reply, unsigned rn)
{
	if (n == 0 || n > IXV_MBX_WORDS || rn == 0 || rn > IXV_MBX_WORDS)
		return IXV_EINVAL;
	if (!mbx_lock(hw))
		return IXV_ETIMEDOUT;
	hw->mbx_bits &= ~(IXV_MBX_PFSTS | IXV_MBX_PFACK); /* anything older is overwritten now */
	for (unsigned i = 0; i < n; i++)
		wr(hw, IXV_VFMBMEM + 4 * i, msg[i]);
	wr(hw, IXV_VFMAILBOX, IXV_MBX_REQ); /* and release VFU */
	if (!mbx_wait(hw, IXV_MBX_PFACK) || !mbx_wait(hw, IXV_MBX_PFSTS) || !mbx_take(hw, reply, rn)) {
		hw->stats.mbx_bad++;
		return IXV_ETIMEDOUT;
	}
	uint32_t flags = reply[0] & (IXV_MSG_SUCCESS | IXV_MSG_FAILURE);
	if ((reply[0] & 0xffff) != (msg[0] & 0xffff) || flags == (IXV_MSG_SUCCESS | IXV_MSG_FAILURE) || !flags) {
		hw->stats.mbx_bad++;
		return IXV_EPROTO;
	}
	return flags == IXV_MSG_SUCCESS ? 0 : IXV_EIO;
}

bool ixgbevf_mbx_poll(struct ixgbevf_hw *hw, uint32_t *msg)
{
	mbx_read(hw);
	if (!(hw->mbx_bits & IXV_MBX_PFSTS))
		return false;
	hw->mbx_bits &= ~IXV_MBX_PFSTS;
	return mbx_take(hw, msg, 1);
}

/* ---- bring-up ---- */

static int vf_reset(struct ixgbevf_hw *hw)
{
	wr(hw, IXV_VFCTRL, IXV_CTRL_RST);
	/* RSTI stays set until the PF has redone the VF's resources. */
	int i;
	for (i = 0; i < IXV_TRIES && (mbx_read(hw) & IXV_MBX_RSTI); i++)
		nap(hw);
	if (i == IXV_TRIES)
		return IXV_ETIMEDOUT;
	hw->mbx_bits &= ~IXV_MBX_RSTD;
	uint32_t msg[1] = { IXV_MSG_RESET }, r[4];
	int e = ixgbevf_mbx_call(hw, msg, 1, r, 4);
	if (e)
		return e;
	uint8_t mac[6] = { (uint8_t)r[1], (uint8_t)(r[1] >> 8), (uint8_t)(r[1] >> 16), (uint8_t)(r[1] >> 24),
			   (uint8_t)r[2], (uint8_t)(r[2] >> 8) };
	bool zero = !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
	if ((mac[0] & 1) || zero || r[3] > 3) {
		hw->stats.mbx_bad++;
		return IXV_EPROTO; /* a multicast or empty address, or an unknown filter type */
	}
	for (int k = 0; k < 6; k++)
		hw->mac[k] = mac[k];
	hw->mc_filter_type = r[3];
	return 0;
}

static void negotiate(struct ixgbevf_hw *hw)
{
	static const int want[] = { IXV_API_14, IXV_API_13, IXV_API_12, IXV_API_11, IXV_API_10 };
	hw->api = IXV_API_10; /* what a PF that negotiates nothing speaks */
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint32_t msg[3] = { IXV_MSG_API_NEGOTIATE, (uint32_t)want[i], 0 }, r[1];
		int e = ixgbevf_mbx_call(hw, msg, 3, r, 1);
		if (e == 0) {
			hw->api = want[i];
			return;
		}
		if (e != IXV_EIO)
			return; /* no answer: stay on 1.0 */
	}
}

static int get_queues(struct ixgbevf_hw *hw)
{
	hw->tx_queues = hw->rx_queues = 1;
	hw->def_queue = 0;
	if (hw->api == IXV_API_10 || hw->api == IXV_API_20)
		return 0; /* GET_QUEUES came with 1.1 */
	uint32_t msg[5] = { IXV_MSG_GET_QUEUES, 0, 0, 0, 0 }, r[5];
	int e = ixgbevf_mbx_call(hw, msg, 5, r, 5);
	if (e)
		return e;
	if (r[1] == 0 || r[1] > IXV_MAX_QUEUES || r[2] == 0 || r[2] > IXV_MAX_QUEUES || r[4] >= r[2]) {
		hw->stats.mbx_bad++;
		return IXV_EPROTO;
	}
	hw->tx_queues = r[1];
	hw->rx_queues = r[2];
	hw->def_queue = r[4];
	return 0;
}

/* The 12-bit multicast table index of `mac` under the PF's filter type. */
static uint16_t mc_hash(const struct ixgbevf_hw *hw, const uint8_t *mac)
{
	static const unsigned shift[4] = { 4, 3, 2, 0 };
	unsigned s = shift[hw->mc_filter_type & 3];
	return (uint16_t)(((unsigned)mac[4] >> s | (unsigned)mac[5] << (8 - s)) & 0xfff);
}

int ixgbevf_init(struct ixgbevf_hw *hw)
{
	hw->mbx_bits = 0;
	hw->stats = (struct ixgbevf_stats){ 0 };
	wr(hw, IXV_VTEIMC, 7);
	int e = vf_reset(hw);
	if (e)
		return e;
	negotiate(hw);
	if ((e = get_queues(hw)))
		return e;
	uint32_t lpe[2] = { IXV_MSG_SET_LPE, IXV_MAX_FRAME }, r[1];
	if ((e = ixgbevf_mbx_call(hw, lpe, 2, r, 1)))
		return e;
	/* IPv6: all-nodes and our solicited-node group. */
	const uint8_t all[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	const uint8_t sol[6] = { 0x33, 0x33, 0xff, hw->mac[3], hw->mac[4], hw->mac[5] };
	uint32_t mc[2] = { IXV_MSG_SET_MULTICAST | 2u << IXV_MSGINFO_SHIFT,
			   mc_hash(hw, all) | (uint32_t)mc_hash(hw, sol) << 16 };
	return ixgbevf_mbx_call(hw, mc, 2, r, 1);
}

/* ---- rings and interrupts ---- */

static void rx_post(struct ixgbevf_hw *hw, unsigned i)
{
	hw->rx[i].read.pkt_addr = hw->ops->dma_addr(hw->ctx, hw->rx_buf[i]);
	hw->rx[i].read.hdr_addr = 0; /* clears the write-back status (DD) */
}

static void wait_enabled(struct ixgbevf_hw *hw, uint32_t reg)
{
	for (int i = 0; i < 20 && !(rd(hw, reg) & IXV_DCTL_ENABLE); i++)
		nap(hw);
}

void ixgbevf_rings(struct ixgbevf_hw *hw, struct ixv_rx_desc *rx, struct ixv_tx_desc *tx, uint8_t *const *rx_buf,
		   uint8_t *const *tx_buf)
{
	hw->rx = rx;
	hw->tx = tx;
	for (unsigned i = 0; i < IXV_RING; i++) {
		hw->rx_buf[i] = rx_buf[i];
		hw->tx_buf[i] = tx_buf[i];
		rx_post(hw, i);
		tx[i] = (struct ixv_tx_desc){ 0 };
	}
	hw->rx_next = hw->tx_tail = hw->tx_clean = 0;
	hw->rx_skip = false;
	uint64_t ra = hw->ops->dma_addr(hw->ctx, rx), ta = hw->ops->dma_addr(hw->ctx, tx);
	wr(hw, IXV_VFRXDCTL(0), 0);
	wr(hw, IXV_VFRDBAL(0), (uint32_t)ra);
	wr(hw, IXV_VFRDBAH(0), (uint32_t)(ra >> 32));
	wr(hw, IXV_VFRDLEN(0), IXV_RING * sizeof(struct ixv_rx_desc));
	wr(hw, IXV_VFSRRCTL(0), (IXV_BUF / 1024) << IXV_SRRCTL_BSIZE_1K_SHIFT | IXV_SRRCTL_ADV_ONEBUF | IXV_SRRCTL_DROP_EN);
	wr(hw, IXV_VFRDH(0), 0);
	wr(hw, IXV_VFRDT(0), 0);
	wr(hw, IXV_VFRXDCTL(0), IXV_DCTL_ENABLE);
	wait_enabled(hw, IXV_VFRXDCTL(0));
	wr(hw, IXV_VFRDT(0), IXV_RING - 1);
	wr(hw, IXV_VFTXDCTL(0), 0);
	wr(hw, IXV_VFTDBAL(0), (uint32_t)ta);
	wr(hw, IXV_VFTDBAH(0), (uint32_t)(ta >> 32));
	wr(hw, IXV_VFTDLEN(0), IXV_RING * sizeof(struct ixv_tx_desc));
	wr(hw, IXV_VFTDH(0), 0);
	wr(hw, IXV_VFTDT(0), 0);
	wr(hw, IXV_VFTXDCTL(0), IXV_DCTL_ENABLE);
	wait_enabled(hw, IXV_VFTXDCTL(0));
}

void ixgbevf_irqs(struct ixgbevf_hw *hw, unsigned rx_vec, unsigned mbx_vec)
{
	uint32_t bits = 1u << rx_vec | 1u << mbx_vec;
	wr(hw, IXV_VTIVAR(0), IXV_IVAR_VALID | rx_vec); /* Rx queue 0; Tx 0 stays unmapped */
	wr(hw, IXV_VTIVAR_MISC, IXV_IVAR_VALID | mbx_vec);
	wr(hw, IXV_VTEIAC, bits);
	wr(hw, IXV_VTEIMS, bits);
}

bool ixgbevf_link_up(struct ixgbevf_hw *hw)
{
	return rd(hw, IXV_VFLINKS) & IXV_LINKS_UP;
}

/* ---- data path ---- */

unsigned ixgbevf_rx(struct ixgbevf_hw *hw, void (*deliver)(void *arg, const uint8_t *frame, unsigned len), void *arg)
{
	unsigned done = 0;
	while (done < IXV_RING - 1) {
		unsigned i = hw->rx_next;
		volatile struct ixv_rx_desc *d = &hw->rx[i];
		uint32_t status = d->wb.status;
		if (!(status & IXV_RXD_DD))
			break;
		compiler_barrier(); /* the length after DD */
		unsigned len = d->wb.length;
		if (!(status & IXV_RXD_EOP)) {
			/* A frame over one buffer: never asked for (SET_LPE), so dropped whole. */
			if (!hw->rx_skip)
				hw->stats.rx_bad++;
			hw->rx_skip = true;
		} else if (hw->rx_skip) {
			hw->rx_skip = false;
		} else if ((status & IXV_RXD_ERR_FRAME) || len < 14 || len > IXV_BUF) {
			hw->stats.rx_bad++;
		} else {
			hw->stats.rx_packets++;
			deliver(arg, hw->rx_buf[i], len);
		}
		rx_post(hw, i);
		hw->rx_next = (i + 1) % IXV_RING;
		done++;
	}
	if (done) {
		compiler_barrier();
		wr(hw, IXV_VFRDT(0), (hw->rx_next + IXV_RING - 1) % IXV_RING);
	}
	return done;
}

int ixgbevf_xmit(struct ixgbevf_hw *hw, const void *frame, size_t len)
{
	if (len > IXV_BUF || len < 14)
		return IXV_EMSGSIZE;
	/* Reclaim what the device finished: DD, only on descriptors we handed it. */
	while (hw->tx_clean != hw->tx_tail && (((volatile struct ixv_tx_desc *)&hw->tx[hw->tx_clean])->olinfo_status &
					       IXV_TXD_DD))
		hw->tx_clean = (hw->tx_clean + 1) % IXV_RING;
	unsigned t = hw->tx_tail, next = (t + 1) % IXV_RING;
	if (next == hw->tx_clean) {
		hw->stats.tx_busy++;
		return IXV_EBUSY;
	}
	__builtin_memcpy(hw->tx_buf[t], frame, len);
	if (len < IXV_MIN_FRAME) {
		__builtin_memset(hw->tx_buf[t] + len, 0, IXV_MIN_FRAME - len);
		len = IXV_MIN_FRAME;
	}
	volatile struct ixv_tx_desc *d = &hw->tx[t];
	d->addr = hw->ops->dma_addr(hw->ctx, hw->tx_buf[t]);
	d->cmd_type_len = (uint32_t)len | IXV_TXD_DTYP_DATA | IXV_TXD_DEXT | IXV_TXD_EOP | IXV_TXD_IFCS | IXV_TXD_RS;
	d->olinfo_status = (uint32_t)len << IXV_TXD_PAYLEN_SHIFT;
	compiler_barrier();
	hw->tx_tail = next;
	wr(hw, IXV_VFTDT(0), next);
	hw->stats.tx_packets++;
	return 0;
}
