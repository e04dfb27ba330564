/* The PF side of the 82576 VF mailbox (datasheet 7.8.2.9): each VF has 16
 * words of shared memory (VMBMEM) and a control register pair; a VF request
 * sets its bit in MBVFICR and raises the PF's VMMB interrupt. The PF reads
 * the message, acks it, answers with a reply (STS). Everything a VF writes
 * is untrusted: counts, frame sizes and MAC addresses are checked, messages
 * before VF_RESET and unknown ones are NACKed (as Linux's igb PF does; it
 * has no API negotiation, so a VF asking for one gets a NACK and stays on
 * the original API). */
#include "igb.h"
#include <console/printk.h>
#include <lib/string.h>
#include <time/clock.h>

/* Take the buffer for the PF: PFU sticks only while the VF does not hold it. */
static bool mbx_lock(struct igb_pf *pf, unsigned vf)
{
	for (int i = 0; i < 100; i++) {
		igb_wr(pf, IGB_P2VMAILBOX(vf), IGB_P2V_PFU);
		if (igb_rd(pf, IGB_P2VMAILBOX(vf)) & IGB_P2V_PFU)
			return true;
		clock_delay_us(10);
	}
	return false;
}

static bool mbx_read(struct igb_pf *pf, unsigned vf, uint32_t *msg)
{
	if (!mbx_lock(pf, vf))
		return false;
	for (unsigned i = 0; i < IGB_MBX_WORDS; i++)
		msg[i] = igb_rd(pf, IGB_VMBMEM(vf) + 4 * i);
	igb_wr(pf, IGB_MBVFICR, IGB_MBVFICR_REQ(vf));
	/* Ack the message; writing without PFU releases the buffer. */
	igb_wr(pf, IGB_P2VMAILBOX(vf), IGB_P2V_ACK);
	return true;
}

static bool mbx_write(struct igb_pf *pf, unsigned vf, const uint32_t *msg, unsigned n)
{
	if (!mbx_lock(pf, vf))
		return false;
	/* What the VF said before is answered by this message. */
	igb_wr(pf, IGB_MBVFICR, IGB_MBVFICR_REQ(vf) | IGB_MBVFICR_ACK(vf));
	for (unsigned i = 0; i < n; i++)
		igb_wr(pf, IGB_VMBMEM(vf) + 4 * i, msg[i]);
	igb_wr(pf, IGB_P2VMAILBOX(vf), IGB_P2V_STS);
	return true;
}

static void set_rar(struct igb_pf *pf, unsigned n, const uint8_t *mac, unsigned pool, bool valid)
{
	uint32_t lo = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 | (uint32_t)mac[3] << 24;
	uint32_t hi = (uint32_t)mac[4] | (uint32_t)mac[5] << 8;
	igb_wr(pf, IGB_RAH(n), 0);
	igb_wr(pf, IGB_RAL(n), valid ? lo : 0);
	igb_wr(pf, IGB_RAH(n), valid ? hi | (1u << (IGB_RAH_POOL_SHIFT + pool)) | IGB_RAH_AV : 0);
}

/* The multicast table holds the union of every VF's hashes. */
static void write_mta(struct igb_pf *pf)
{
	uint32_t mta[128] = { 0 };
	for (unsigned v = 0; v < pf->nvfs; v++)
		for (unsigned i = 0; i < pf->vf[v].nmc; i++) {
			unsigned h = pf->vf[v].mc[i] & 0xfff;
			mta[h >> 5] |= 1u << (h & 31);
		}
	for (unsigned i = 0; i < 128; i++)
		igb_wr(pf, IGB_MTA(i), mta[i]);
}

static bool mac_ok(const uint8_t *mac)
{
	static const uint8_t zero[6];
	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

void igb_vf_reset_event(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf *v = &pf->vf[vf];
	v->cts = false;
	v->nmc = 0;
	igb_wr(pf, IGB_VFRE, igb_rd(pf, IGB_VFRE) & ~(1u << vf));
	igb_wr(pf, IGB_VFTE, igb_rd(pf, IGB_VFTE) & ~(1u << vf));
	set_rar(pf, igb_vf_rar(vf), v->mac, vf, false);
	write_mta(pf);
}

static void vf_reset_msg(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf *v = &pf->vf[vf];
	igb_vf_reset_event(pf, vf);
	set_rar(pf, igb_vf_rar(vf), v->mac, vf, true);
	/* Untagged frames, broadcasts and hashed multicasts reach the pool; VLAN tags stripped. */
	igb_wr(pf, IGB_VMOLR(vf), IGB_VMOLR_AUPE | IGB_VMOLR_BAM | IGB_VMOLR_ROMPE | IGB_VMOLR_STRVLAN);
	igb_wr(pf, IGB_VFTE, igb_rd(pf, IGB_VFTE) | 1u << vf);
	igb_wr(pf, IGB_VFRE, igb_rd(pf, IGB_VFRE) | 1u << vf);
	v->cts = true;
	uint32_t reply[3] = {
		IGB_VF_RESET | IGB_MSG_ACK,
		(uint32_t)v->mac[0] | (uint32_t)v->mac[1] << 8 | (uint32_t)v->mac[2] << 16 | (uint32_t)v->mac[3] << 24,
		(uint32_t)v->mac[4] | (uint32_t)v->mac[5] << 8,
	};
	if (!mbx_write(pf, vf, reply, 3))
		pr_warn("igb: VF %u holds its mailbox; reset reply not sent\n", vf);
	else
		pr_info("igb: VF %u reset, MAC %02x:%02x:%02x:%02x:%02x:%02x\n", vf, v->mac[0], v->mac[1], v->mac[2],
			v->mac[3], v->mac[4], v->mac[5]);
}

static bool set_mac(struct igb_pf *pf, unsigned vf, const uint32_t *msg)
{
	uint8_t mac[6];
	memcpy(mac, &msg[1], 6);
	if (!mac_ok(mac))
		return false;
	memcpy(pf->vf[vf].mac, mac, 6);
	set_rar(pf, igb_vf_rar(vf), mac, vf, true);
	return true;
}

static bool set_multicast(struct igb_pf *pf, unsigned vf, const uint32_t *msg)
{
	unsigned n = (msg[0] & IGB_MSGINFO_MASK) >> IGB_MSGINFO_SHIFT;
	if (n > IGB_MAX_VF_MC)
		return false; /* more than the 30 hashes 15 words hold */
	const uint8_t *p = (const uint8_t *)&msg[1];
	struct igb_vf *v = &pf->vf[vf];
	for (unsigned i = 0; i < n; i++)
		v->mc[i] = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
	v->nmc = n;
	write_mta(pf);
	return true;
}

static bool set_lpe(struct igb_pf *pf, unsigned vf, const uint32_t *msg)
{
	uint32_t size = msg[1];
	if (size < 64 || size > IGB_MAX_FRAME)
		return false;
	uint32_t vmolr = igb_rd(pf, IGB_VMOLR(vf)) & ~IGB_VMOLR_RLPML_MASK;
	igb_wr(pf, IGB_VMOLR(vf), vmolr | size | IGB_VMOLR_LPE);
	return true;
}

void igb_vf_message(struct igb_pf *pf, unsigned vf)
{
	uint32_t msg[IGB_MBX_WORDS];
	if (!mbx_read(pf, vf, msg)) {
		pr_warn("igb: VF %u mailbox busy\n", vf);
		return;
	}
	/* Our own flags in a request mean nothing: a VF echoing a reply is ignored. */
	if (msg[0] & (IGB_MSG_ACK | IGB_MSG_NACK))
		return;
	unsigned type = msg[0] & 0xffff;
	if (type == IGB_VF_RESET) {
		vf_reset_msg(pf, vf);
		return;
	}
	bool ok = false;
	if (pf->vf[vf].cts) {
		switch (type) {
		case IGB_VF_SET_MAC_ADDR: ok = set_mac(pf, vf, msg); break;
		case IGB_VF_SET_MULTICAST: ok = set_multicast(pf, vf, msg); break;
		case IGB_VF_SET_LPE: ok = set_lpe(pf, vf, msg); break;
		default:
			pr_info("igb: VF %u: message %#x not handled (NACK)\n", vf, type);
			break;
		}
	}
	uint32_t reply = (msg[0] & (0xffffu | IGB_MSGINFO_MASK)) | (ok ? IGB_MSG_ACK : IGB_MSG_NACK);
	if (pf->vf[vf].cts)
		reply |= IGB_MSG_CTS;
	mbx_write(pf, vf, &reply, 1);
}
