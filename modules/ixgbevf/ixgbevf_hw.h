/*
 * Intel 82599 virtual function, the register-level half: the VF's BAR0
 * registers (82599 datasheet 8.3.5), the PF/VF mailbox and its messages
 * (7.10.2.9.2), advanced receive/transmit descriptors (7.1.6, 7.2.3) and the
 * driver steps built on them. Register access and DMA addresses go through
 * struct ixgbevf_ops, and nothing here includes a kernel header, so the same
 * C compiles on the host against a register-level model of the VF
 * (tests/sriov/host/ixgbevf_model.c). pci.c is the kernel's glue.
 */
#ifndef IXGBEVF_HW_H
#define IXGBEVF_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Registers. */
#define IXV_VFCTRL 0x00000
#define IXV_VFSTATUS 0x00008
#define IXV_VFLINKS 0x00010
#define IXV_VTEICR 0x00100
#define IXV_VTEICS 0x00104
#define IXV_VTEIMS 0x00108
#define IXV_VTEIMC 0x0010c
#define IXV_VTEIAC 0x00110
#define IXV_VTEIAM 0x00114
#define IXV_VTEITR(v) (0x00820 + 4 * (v))
#define IXV_VTIVAR(i) (0x00120 + 4 * (i))
#define IXV_VTIVAR_MISC 0x00140
#define IXV_VFMBMEM 0x00200
#define IXV_VFMAILBOX 0x002fc
#define IXV_VFPSRTYPE 0x00300
#define IXV_VFRDBAL(q) (0x01000 + 0x40 * (q))
#define IXV_VFRDBAH(q) (0x01004 + 0x40 * (q))
#define IXV_VFRDLEN(q) (0x01008 + 0x40 * (q))
#define IXV_VFRDH(q) (0x01010 + 0x40 * (q))
#define IXV_VFSRRCTL(q) (0x01014 + 0x40 * (q))
#define IXV_VFRDT(q) (0x01018 + 0x40 * (q))
#define IXV_VFRXDCTL(q) (0x01028 + 0x40 * (q))
#define IXV_VFTDBAL(q) (0x02000 + 0x40 * (q))
#define IXV_VFTDBAH(q) (0x02004 + 0x40 * (q))
#define IXV_VFTDLEN(q) (0x02008 + 0x40 * (q))
#define IXV_VFTDH(q) (0x02010 + 0x40 * (q))
#define IXV_VFTDT(q) (0x02018 + 0x40 * (q))
#define IXV_VFTXDCTL(q) (0x02028 + 0x40 * (q))
#define IXV_BAR_SIZE 0x4000

#define IXV_CTRL_RST (1u << 26)
#define IXV_LINKS_UP (1u << 30)
#define IXV_LINKS_SPEED(v) (((v) >> 28) & 3u) /* 1: 100M, 2: 1G, 3: 10G */
#define IXV_DCTL_ENABLE (1u << 25)           /* RXDCTL / TXDCTL */
#define IXV_SRRCTL_BSIZE_1K_SHIFT 0          /* packet buffer, 1 KiB units */
#define IXV_SRRCTL_ADV_ONEBUF (1u << 25)
#define IXV_SRRCTL_DROP_EN (1u << 28)
#define IXV_IVAR_VALID 0x80u

/* VFMAILBOX; reading it clears PFSTS, PFACK and RSTD. */
#define IXV_MBX_REQ (1u << 0)
#define IXV_MBX_ACK (1u << 1)
#define IXV_MBX_VFU (1u << 2)
#define IXV_MBX_PFU (1u << 3)
#define IXV_MBX_PFSTS (1u << 4)
#define IXV_MBX_PFACK (1u << 5)
#define IXV_MBX_RSTI (1u << 6)
#define IXV_MBX_RSTD (1u << 7)
#define IXV_MBX_R2C (IXV_MBX_PFSTS | IXV_MBX_PFACK | IXV_MBX_RSTD)
#define IXV_MBX_WORDS 16

/* Messages: type in bits 15:0, info in 23:16, result flags on top. */
#define IXV_MSG_RESET 0x01
#define IXV_MSG_SET_MAC_ADDR 0x02
#define IXV_MSG_SET_MULTICAST 0x03
#define IXV_MSG_SET_LPE 0x05
#define IXV_MSG_API_NEGOTIATE 0x08
#define IXV_MSG_GET_QUEUES 0x09
#define IXV_MSGINFO_SHIFT 16
#define IXV_MSG_SUCCESS 0x80000000u
#define IXV_MSG_FAILURE 0x40000000u
#define IXV_MSG_CTS 0x20000000u
#define IXV_PF_CONTROL_MSG 0x0100 /* a PF-initiated notice (link or reset) */

/* API revisions as the PF numbers them (not in order of age). */
enum ixv_api { IXV_API_10 = 0, IXV_API_20 = 1, IXV_API_11 = 2, IXV_API_12 = 3, IXV_API_13 = 4, IXV_API_14 = 5 };

/* Advanced receive descriptor (read / write-back). */
struct ixv_rx_desc {
	union {
		struct {
			uint64_t pkt_addr;
			uint64_t hdr_addr;
		} read;
		struct {
			uint32_t info;
			uint32_t rss;
			uint32_t status;   /* status 19:0, extended errors 31:20 */
			uint16_t length;
			uint16_t vlan;
		} wb;
	};
};
#define IXV_RXD_DD (1u << 0)
#define IXV_RXD_EOP (1u << 1)
/* CE, LE, PE, OSE, USE/RXE; IPE and TCPE are left to the stack, which checks sums itself. */
#define IXV_RXD_ERR_FRAME 0x3f000000u

/* Advanced transmit data descriptor; the write-back sets DD in the last word. */
struct ixv_tx_desc {
	uint64_t addr;
	uint32_t cmd_type_len;
	uint32_t olinfo_status;
};
#define IXV_TXD_DTYP_DATA (3u << 20)
#define IXV_TXD_EOP (1u << 24)
#define IXV_TXD_IFCS (1u << 25)
#define IXV_TXD_RS (1u << 27)
#define IXV_TXD_DEXT (1u << 29)
#define IXV_TXD_PAYLEN_SHIFT 14
#define IXV_TXD_DD (1u << 0)

#define IXV_RING 256     /* descriptors per ring (4 KiB) */
#define IXV_BUF 2048     /* bytes per buffer */
#define IXV_MIN_FRAME 60
#define IXV_MAX_FRAME 1518

/* Results: negative errno values as Linux numbers them. */
#define IXV_EIO (-5)
#define IXV_EBUSY (-16)
#define IXV_EINVAL (-22)
#define IXV_EMSGSIZE (-90)
#define IXV_EPROTO (-71)
#define IXV_ETIMEDOUT (-110)

struct ixgbevf_ops {
	uint32_t (*rd)(void *ctx, uint32_t reg);
	void (*wr)(void *ctx, uint32_t reg, uint32_t v);
	void (*sleep_us)(void *ctx, unsigned us);
	uint64_t (*dma_addr)(void *ctx, const void *p); /* the bus address of driver memory */
};

struct ixgbevf_stats {
	uint64_t rx_packets, rx_bad, tx_packets, tx_busy, mbx_bad;
};

struct ixgbevf_hw {
	const struct ixgbevf_ops *ops;
	void *ctx;
	uint32_t mbx_bits;          /* read-to-clear mailbox bits seen, not yet used */
	int api;                    /* negotiated enum ixv_api */
	uint8_t mac[6];
	unsigned mc_filter_type;
	unsigned tx_queues, rx_queues, def_queue;
	/* The rings: memory the caller provides (ixgbevf_rings). */
	struct ixv_rx_desc *rx;
	uint8_t *rx_buf[IXV_RING];
	unsigned rx_next;
	bool rx_skip;
	struct ixv_tx_desc *tx;
	uint8_t *tx_buf[IXV_RING];
	unsigned tx_tail, tx_clean;
	struct ixgbevf_stats stats;
};

/* Mailbox: send msg[0..n), wait for the PF's reply into reply[0..rn). The
 * reply must name the same type and carry SUCCESS: 0, IXV_EIO (FAILURE),
 * IXV_EPROTO (garbled) or IXV_ETIMEDOUT. */
int ixgbevf_mbx_call(struct ixgbevf_hw *hw, const uint32_t *msg, unsigned n, uint32_t *reply, unsigned rn);
/* A message the PF sent by itself: read and acked into *msg; false when none. */
bool ixgbevf_mbx_poll(struct ixgbevf_hw *hw, uint32_t *msg);

/* Bring-up: VF reset (VFCTRL.RST, wait for the PF, VF_RESET: permanent MAC
 * and multicast filter type), API negotiation (1.4 down to 1.0), the queue
 * layout (GET_QUEUES, API >= 1.1) and the largest frame (SET_LPE). */
int ixgbevf_init(struct ixgbevf_hw *hw);
/* Program queue pair 0 on rx/tx rings of IXV_RING descriptors (4 KiB each,
 * 128-byte aligned) and IXV_RING buffers of IXV_BUF bytes each. */
void ixgbevf_rings(struct ixgbevf_hw *hw, struct ixv_rx_desc *rx, struct ixv_tx_desc *tx, uint8_t *const *rx_buf,
		   uint8_t *const *tx_buf);
/* MSI-X: receive queue 0 on vector rx_vec, the mailbox on mbx_vec; causes auto-cleared. */
void ixgbevf_irqs(struct ixgbevf_hw *hw, unsigned rx_vec, unsigned mbx_vec);
/* Hand every completed good frame to deliver(arg, frame, len) and repost the
 * buffers; bad descriptors are counted (stats.rx_bad). Returns descriptors taken. */
unsigned ixgbevf_rx(struct ixgbevf_hw *hw, void (*deliver)(void *arg, const uint8_t *frame, unsigned len), void *arg);
/* Queue one frame: 0, IXV_EBUSY (ring full) or IXV_EMSGSIZE. */
int ixgbevf_xmit(struct ixgbevf_hw *hw, const void *frame, size_t len);
bool ixgbevf_link_up(struct ixgbevf_hw *hw);

#endif
