/* The VF side of the 82576 mailbox (datasheet 7.8.2.9): take the buffer
 * (VFU), write the message, raise REQ; the PF acks (PFACK) and answers
 * (PFSTS) with the buffer rewritten; the VF reads it and acks. Reading
 * V2PMAILBOX clears PFSTS/PFACK/RSTD, so the bits are accumulated in
 * vf->v2p until used. */
#include "igbvf.h"
#include <lib/errno.h>
#include <sched/thread.h>
#include <time/clock.h>

#define MBX_TIMEOUT_MS 2000

static uint32_t v2p_read(struct igbvf *vf)
{
	uint32_t v = vf_rd(vf, VF_V2PMAILBOX);
	vf->v2p |= v & VF_V2P_R2C;
	return v;
}

/* Wait until one of `bits` was seen; consume it. */
static bool wait_bits(struct igbvf *vf, uint32_t bits)
{
	uint64_t deadline = clock_monotonic_ns() + MBX_TIMEOUT_MS * NSEC_PER_MSEC;
	for (;;) {
		v2p_read(vf);
		if (vf->v2p & bits) {
			vf->v2p &= ~bits;
			return true;
		}
		if (clock_monotonic_ns() > deadline)
			return false;
		thread_sleep_ns(NSEC_PER_MSEC);
	}
}

static bool lock(struct igbvf *vf)
{
	for (int i = 0; i < 1000; i++) {
		vf_wr(vf, VF_V2PMAILBOX, VF_V2P_VFU);
		if (v2p_read(vf) & VF_V2P_VFU)
			return true;
		thread_sleep_ns(100 * 1000);
	}
	return false;
}

int igbvf_wait_reset(struct igbvf *vf)
{
	/* RSTI stays set until the PF has finished its own reset (CTRL_EXT.PFRSTD). */
	uint64_t deadline = clock_monotonic_ns() + MBX_TIMEOUT_MS * NSEC_PER_MSEC;
	while (v2p_read(vf) & VF_V2P_RSTI) {
		if (clock_monotonic_ns() > deadline)
			return -ETIMEDOUT;
		thread_sleep_ns(NSEC_PER_MSEC);
	}
	vf->v2p &= ~VF_V2P_RSTD;
	return 0;
}

static bool read_msg(struct igbvf *vf, uint32_t *msg, unsigned n)
{
	if (!lock(vf))
		return false;
	for (unsigned i = 0; i < n; i++)
		msg[i] = vf_rd(vf, VF_VMBMEM + 4 * i);
	vf_wr(vf, VF_V2PMAILBOX, VF_V2P_ACK); /* drops VFU */
	return true;
}

int igbvf_mbx_call(struct igbvf *vf, const uint32_t *msg, unsigned n, uint32_t *reply, unsigned rn)
{
	if (n == 0 || n > VF_MBX_WORDS || rn == 0 || rn > VF_MBX_WORDS)
		return -EINVAL;
	if (!lock(vf))
		return -ETIMEDOUT;
	/* Whatever the PF said before is overwritten now. */
	vf->v2p &= ~(VF_V2P_PFSTS | VF_V2P_PFACK);
	for (unsigned i = 0; i < n; i++)
		vf_wr(vf, VF_VMBMEM + 4 * i, msg[i]);
	vf_wr(vf, VF_V2PMAILBOX, VF_V2P_REQ); /* drops VFU */
	if (!wait_bits(vf, VF_V2P_PFACK) || !wait_bits(vf, VF_V2P_PFSTS))
		return -ETIMEDOUT;
	if (!read_msg(vf, reply, rn))
		return -ETIMEDOUT;
	/* The reply names the request's type and says ACK, never NACK. */
	if ((reply[0] & 0xffff) != (msg[0] & 0xffff) || (reply[0] & VF_MSG_NACK) || !(reply[0] & VF_MSG_ACK))
		return -EIO;
	return 0;
}

bool igbvf_mbx_poll(struct igbvf *vf, uint32_t *msg)
{
	v2p_read(vf);
	if (!(vf->v2p & VF_V2P_PFSTS))
		return false;
	vf->v2p &= ~VF_V2P_PFSTS;
	return read_msg(vf, msg, 1);
}
