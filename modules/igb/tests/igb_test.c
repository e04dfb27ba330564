/* The PF's mailbox handling of what a VF writes (untrusted): messages before
 * VF_RESET, the reset reply (permanent MAC, receive address and pool
 * enables), SET_MULTICAST with too many hashes, SET_LPE out of range,
 * multicast MACs, and a message the igb PF does not speak (API negotiation).
 * The register file is plain memory: the mailbox lock reads back what was
 * written, the reply is left in the VF's mailbox memory. */
#include "../igb.h"
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <selftest/selftest.h>

static uint32_t ask(struct igb_pf *pf, const uint32_t *msg, unsigned n)
{
	for (unsigned i = 0; i < IGB_MBX_WORDS; i++)
		igb_wr(pf, IGB_VMBMEM(0) + 4 * i, i < n ? msg[i] : 0);
	igb_vf_message(pf, 0);
	return igb_rd(pf, IGB_VMBMEM(0));
}

SELFTEST(igb_vf_mailbox, "igb.vf_mailbox")
{
	struct igb_pf *pf = kzalloc(sizeof(*pf));
	ST_ASSERT(pf);
	pf->regs = kzalloc(0x20000);
	ST_ASSERT(pf->regs);
	pf->nvfs = 1;
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x92, 0x34, 0x56 };
	memcpy(pf->vf[0].mac, mac, 6);

	uint32_t lpe[2] = { IGB_VF_SET_LPE, 1518 };
	ST_EXPECT_EQ(ask(pf, lpe, 2), IGB_VF_SET_LPE | IGB_MSG_NACK); /* before VF_RESET: refused, no CTS */

	uint32_t reset = IGB_VF_RESET;
	ST_EXPECT_EQ(ask(pf, &reset, 1), IGB_VF_RESET | IGB_MSG_ACK);
	ST_EXPECT_EQ(igb_rd(pf, IGB_VMBMEM(0) + 4), 0x92005452u);
	ST_EXPECT_EQ(igb_rd(pf, IGB_VMBMEM(0) + 8), 0x5634u);
	unsigned rar = igb_vf_rar(0);
	ST_EXPECT_EQ(igb_rd(pf, IGB_RAL(rar)), 0x92005452u);
	ST_EXPECT_EQ(igb_rd(pf, IGB_RAH(rar)), 0x5634u | IGB_RAH_AV | 1u << IGB_RAH_POOL_SHIFT);
	ST_EXPECT_EQ(igb_rd(pf, IGB_VFRE) & 1, 1u);
	ST_EXPECT_EQ(igb_rd(pf, IGB_VFTE) & 1, 1u);

	ST_EXPECT_EQ(ask(pf, lpe, 2), IGB_VF_SET_LPE | IGB_MSG_ACK | IGB_MSG_CTS);
	ST_EXPECT_EQ(igb_rd(pf, IGB_VMOLR(0)) & (IGB_VMOLR_RLPML_MASK | IGB_VMOLR_LPE), 1518u | IGB_VMOLR_LPE);
	uint32_t tiny[2] = { IGB_VF_SET_LPE, 10 };
	ST_EXPECT_EQ(ask(pf, tiny, 2), IGB_VF_SET_LPE | IGB_MSG_NACK | IGB_MSG_CTS);
	uint32_t huge[2] = { IGB_VF_SET_LPE, 100000 };
	ST_EXPECT_EQ(ask(pf, huge, 2), IGB_VF_SET_LPE | IGB_MSG_NACK | IGB_MSG_CTS);

	uint32_t mc[2] = { IGB_VF_SET_MULTICAST | 2u << IGB_MSGINFO_SHIFT, 0x0abc | 0x0123u << 16 };
	ST_EXPECT_EQ(ask(pf, mc, 2), mc[0] | IGB_MSG_ACK | IGB_MSG_CTS);
	ST_EXPECT(igb_rd(pf, IGB_MTA(0xabc >> 5)) & 1u << (0xabc & 31));
	ST_EXPECT(igb_rd(pf, IGB_MTA(0x123 >> 5)) & 1u << (0x123 & 31));
	uint32_t mc31 = IGB_VF_SET_MULTICAST | 31u << IGB_MSGINFO_SHIFT;
	ST_EXPECT_EQ(ask(pf, &mc31, 1), mc31 | IGB_MSG_NACK | IGB_MSG_CTS);

	uint32_t bad_mac[3] = { IGB_VF_SET_MAC_ADDR, 0x33221101, 0x5544 }; /* 01:11:22:33:44:55, multicast */
	ST_EXPECT_EQ(ask(pf, bad_mac, 3), IGB_VF_SET_MAC_ADDR | IGB_MSG_NACK | IGB_MSG_CTS);
	uint32_t zero_mac[3] = { IGB_VF_SET_MAC_ADDR, 0, 0 };
	ST_EXPECT_EQ(ask(pf, zero_mac, 3), IGB_VF_SET_MAC_ADDR | IGB_MSG_NACK | IGB_MSG_CTS);
	uint32_t new_mac[3] = { IGB_VF_SET_MAC_ADDR, 0x33221102, 0x5544 };
	ST_EXPECT_EQ(ask(pf, new_mac, 3), IGB_VF_SET_MAC_ADDR | IGB_MSG_ACK | IGB_MSG_CTS);
	ST_EXPECT_EQ(igb_rd(pf, IGB_RAL(rar)), 0x33221102u);

	uint32_t api[2] = { 0x08, 2 }; /* ixgbe's API_NEGOTIATE: the igb PF has none */
	ST_EXPECT_EQ(ask(pf, api, 2), 0x08u | IGB_MSG_NACK | IGB_MSG_CTS);

	/* A function-level reset forgets the VF until its next VF_RESET. */
	igb_vf_reset_event(pf, 0);
	ST_EXPECT_EQ(igb_rd(pf, IGB_VFRE) & 1, 0u);
	ST_EXPECT_EQ(igb_rd(pf, IGB_RAH(rar)) & IGB_RAH_AV, 0u);
	ST_EXPECT_EQ(ask(pf, lpe, 2), IGB_VF_SET_LPE | IGB_MSG_NACK);
}
