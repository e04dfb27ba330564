/* 82576 virtual function: its registers (datasheet 8.28, the VF's view of
 * BAR0), descriptor layouts (7.1.5, 7.2.2) and the VF side of the PF
 * mailbox protocol (kept apart from modules/igb: either runs without the
 * other, e.g. a VF passed through from a host's PF). */
#ifndef IGBVF_H
#define IGBVF_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/io.h>
#include <arch/spinlock.h>
#include <netdev/netdev.h>
#include <pci/pci.h>
#include <sched/wait.h>

#define VF_CTRL 0x0000
#define VF_STATUS 0x0008
#define VF_EIMS 0x1524
#define VF_EIMC 0x1528
#define VF_EIAC 0x152c
#define VF_EIAM 0x1530
#define VF_IVAR0 0x1700
#define VF_IVAR_MISC 0x1740
#define VF_VMBMEM 0x0800
#define VF_V2PMAILBOX 0x0c40
#define VF_RDBAL 0x2800
#define VF_RDBAH 0x2804
#define VF_RDLEN 0x2808
#define VF_SRRCTL 0x280c
#define VF_RDH 0x2810
#define VF_RDT 0x2818
#define VF_RXDCTL 0x2828
#define VF_TDBAL 0x3800
#define VF_TDBAH 0x3804
#define VF_TDLEN 0x3808
#define VF_TDH 0x3810
#define VF_TDT 0x3818
#define VF_TXDCTL 0x3828
#define VF_BAR_SIZE 0x4000

#define VF_CTRL_RST (1u << 26)
#define VF_STATUS_LU (1u << 1)
#define VF_QUEUE_ENABLE (1u << 25) /* RXDCTL / TXDCTL */
#define VF_SRRCTL_BSIZE_2K 2u
#define VF_SRRCTL_ADV_ONEBUF (1u << 25)
#define VF_SRRCTL_DROP_EN (1u << 31)
#define VF_IVAR_VALID 0x80u

/* V2PMAILBOX (reads clear PFSTS, PFACK and RSTD). */
#define VF_V2P_REQ (1u << 0)
#define VF_V2P_ACK (1u << 1)
#define VF_V2P_VFU (1u << 2)
#define VF_V2P_PFU (1u << 3)
#define VF_V2P_PFSTS (1u << 4)
#define VF_V2P_PFACK (1u << 5)
#define VF_V2P_RSTI (1u << 6)
#define VF_V2P_RSTD (1u << 7)
#define VF_V2P_R2C (VF_V2P_PFSTS | VF_V2P_PFACK | VF_V2P_RSTD)

#define VF_MBX_WORDS 16
#define VF_MSG_RESET 0x01
#define VF_MSG_SET_MAC_ADDR 0x02
#define VF_MSG_SET_MULTICAST 0x03
#define VF_MSG_SET_LPE 0x05
#define VF_MSGINFO_SHIFT 16
#define VF_MSG_ACK 0x80000000u
#define VF_MSG_NACK 0x40000000u
#define VF_MSG_CTS 0x20000000u

/* Advanced receive descriptor: read format, then write-back format. */
struct vf_rx_desc {
	union {
		struct {
			uint64_t pkt_addr;
			uint64_t hdr_addr;
		} read;
		struct {
			uint32_t info;     /* packet type, header length */
			uint32_t rss;
			uint32_t status;   /* status 19:0, errors 31:20 */
			uint16_t length;
			uint16_t vlan;
		} wb;
	};
};

#define VF_RXD_DD (1u << 0)
#define VF_RXD_EOP (1u << 1)
/* Frame errors (CE, SE, SEQ, CXE, RXE); IPE/TCPE are left to the stack, which checks sums itself. */
#define VF_RXD_ERR_FRAME 0x97000000u

/* Advanced transmit data descriptor; write-back sets DD in the last word. */
struct vf_tx_desc {
	uint64_t addr;
	uint32_t cmd_type_len;
	uint32_t olinfo_status;
};

#define VF_TXD_DTYP_DATA (3u << 20)
#define VF_TXD_EOP (1u << 24)
#define VF_TXD_IFCS (1u << 25)
#define VF_TXD_RS (1u << 27)
#define VF_TXD_DEXT (1u << 29)
#define VF_TXD_PAYLEN_SHIFT 14
#define VF_TXD_DD (1u << 0)

#define VF_RING 256          /* descriptors per ring: one 4 KiB page */
#define VF_BUF 2048          /* receive and transmit buffers */
#define VF_MIN_FRAME 60      /* short frames are padded */

struct igbvf {
	struct netdev nd;
	struct pci_dev *pdev;
	volatile uint8_t *regs;
	uint32_t v2p;            /* read-to-clear mailbox bits seen and not yet consumed */
	struct vf_rx_desc *rx;
	uint8_t *rx_buf[VF_RING];
	unsigned rx_next;        /* next descriptor the device completes */
	bool rx_skip;            /* dropping the rest of a multi-descriptor frame */
	struct vf_tx_desc *tx;
	uint8_t *tx_buf[VF_RING];
	unsigned tx_tail, tx_clean;
	spinlock_t tx_lock;
	struct wait_queue wq;
	volatile bool rx_pending, mbx_pending;
};

static inline uint32_t vf_rd(struct igbvf *vf, unsigned reg)
{
	return mmio_read32(vf->regs + reg);
}

static inline void vf_wr(struct igbvf *vf, unsigned reg, uint32_t v)
{
	mmio_write32(vf->regs + reg, v);
}

/* igbvf.c: arm receive descriptor i with its buffer; take every completed
 * receive descriptor (checked), hand good frames to the netdev, repost. */
void igbvf_rx_post(struct igbvf *vf, unsigned i);
void igbvf_rx_clean(struct igbvf *vf);

/* mbx.c */
int igbvf_wait_reset(struct igbvf *vf);
/* Send msg[0..n) and wait for the PF's reply (into reply[0..rn)); checks the
 * reply is an ACK for the same message type. 0, -EIO (NACK or garbled) or -ETIMEDOUT. */
int igbvf_mbx_call(struct igbvf *vf, const uint32_t *msg, unsigned n, uint32_t *reply, unsigned rn);
/* A message the PF sent by itself (PFSTS): read and acked; false when none. */
bool igbvf_mbx_poll(struct igbvf *vf, uint32_t *msg);

#endif
