/* 82576 physical function registers and bits (Intel 82576 datasheet,
 * section 8) that the PF driver uses, and the PF/VF mailbox protocol. */
#ifndef IGB_REGS_H
#define IGB_REGS_H

#define IGB_CTRL 0x00000
#define IGB_STATUS 0x00008
#define IGB_CTRL_EXT 0x00018
#define IGB_MDIC 0x00020
#define IGB_ICR 0x000c0
#define IGB_IMS 0x000d0
#define IGB_IMC 0x000d8
#define IGB_RCTL 0x00100
#define IGB_TCTL 0x00400
#define IGB_GPIE 0x01514
#define IGB_EIMS 0x01524
#define IGB_EIMC 0x01528
#define IGB_EIAC 0x0152c
#define IGB_EICR 0x01580
#define IGB_IVAR_MISC 0x01740
#define IGB_MTA(i) (0x05200 + 4 * (i))
#define IGB_RAL(n) ((n) < 16 ? 0x05400 + 8 * (n) : 0x054e0 + 8 * ((n) - 16))
#define IGB_RAH(n) (IGB_RAL(n) + 4)
#define IGB_MRQC 0x05818
#define IGB_VT_CTL 0x0581c
#define IGB_VMOLR(n) (0x05ad0 + 4 * (n))
#define IGB_VMBMEM(vf) (0x00800 + 64 * (vf))
#define IGB_P2VMAILBOX(vf) (0x00c00 + 4 * (vf))
#define IGB_MBVFICR 0x00c80
#define IGB_MBVFIMR 0x00c84
#define IGB_VFLRE 0x00c88
#define IGB_VFRE 0x00c8c
#define IGB_VFTE 0x00c90

#define IGB_CTRL_SLU (1u << 6)
#define IGB_CTRL_RST (1u << 26)
#define IGB_STATUS_LU (1u << 1)
#define IGB_CTRL_EXT_PFRSTD (1u << 14)
#define IGB_CTRL_EXT_DRV_LOAD (1u << 28)
#define IGB_MDIC_REG_SHIFT 16
#define IGB_MDIC_PHY_SHIFT 21
#define IGB_MDIC_OP_WRITE (1u << 26)
#define IGB_MDIC_READY (1u << 28)
#define IGB_MDIC_ERROR (1u << 30)
#define IGB_PHY_ADDR 1
#define MII_BMCR 0
#define MII_BMCR_FULLDPLX 0x0100
#define MII_BMCR_ANRESTART 0x0200
#define MII_BMCR_ANENABLE 0x1000
#define MII_BMCR_SPEED1000 0x0040
#define IGB_ICR_LSC (1u << 2)
#define IGB_ICR_VMMB (1u << 8)
#define IGB_RCTL_EN (1u << 1)
#define IGB_RCTL_BAM (1u << 15)
#define IGB_RCTL_SECRC (1u << 26)
#define IGB_TCTL_EN (1u << 1)
#define IGB_TCTL_PSP (1u << 3)
#define IGB_GPIE_NSICR (1u << 0)
#define IGB_GPIE_MSIX_MODE (1u << 4)
#define IGB_GPIE_EIAME (1u << 30)
#define IGB_GPIE_PBA (1u << 31)
#define IGB_IVAR_VALID 0x80u
#define IGB_RAH_AV (1u << 31)
#define IGB_RAH_POOL_SHIFT 18
#define IGB_RAR_ENTRIES 24
#define IGB_MRQC_VMDQ 3u
#define IGB_VT_CTL_POOL_SHIFT 7
#define IGB_VT_CTL_DIS_DEF_POOL (1u << 29)
#define IGB_VMOLR_RLPML_MASK 0x3fffu
#define IGB_VMOLR_LPE (1u << 16)
#define IGB_VMOLR_AUPE (1u << 24)
#define IGB_VMOLR_ROMPE (1u << 25)
#define IGB_VMOLR_BAM (1u << 27)
#define IGB_VMOLR_STRVLAN (1u << 30)

/* P2VMAILBOX bits (PF side). */
#define IGB_P2V_STS (1u << 0)
#define IGB_P2V_ACK (1u << 1)
#define IGB_P2V_VFU (1u << 2)
#define IGB_P2V_PFU (1u << 3)
#define IGB_P2V_RVFU (1u << 4)
/* MBVFICR: a request (bits 0..7) or an ack (16..23) from VF n. */
#define IGB_MBVFICR_REQ(vf) (1u << (vf))
#define IGB_MBVFICR_ACK(vf) (1u << (16 + (vf)))

/* The mailbox protocol (16 words). Word 0: message type in bits 15:0,
 * message info (e.g. a count) in 23:16, ACK/NACK/CTS flags on top. Linux's
 * igbvf and osvb's igbvf speak it; the VF side keeps its own copy in
 * modules/igbvf since either driver runs without the other. */
#define IGB_MBX_WORDS 16
#define IGB_VF_RESET 0x01
#define IGB_VF_SET_MAC_ADDR 0x02
#define IGB_VF_SET_MULTICAST 0x03
#define IGB_VF_SET_VLAN 0x04
#define IGB_VF_SET_LPE 0x05
#define IGB_VF_SET_PROMISC 0x06
#define IGB_MSGINFO_SHIFT 16
#define IGB_MSGINFO_MASK (0xffu << IGB_MSGINFO_SHIFT)
#define IGB_MSG_ACK 0x80000000u
#define IGB_MSG_NACK 0x40000000u
#define IGB_MSG_CTS 0x20000000u
#define IGB_MAX_VF_MC 30
#define IGB_MAX_FRAME 9728 /* the largest SET_LPE accepted (the 82576's jumbo limit) */

#endif
