/* 82576 virtual function (PCI 8086:10ca) as a netdev: reset through the PF
 * mailbox (which hands back the permanent MAC), one receive and one transmit
 * ring of advanced descriptors, MSI-X entry 0 for receive and entry 2 for
 * the mailbox; a thread per device cleans the receive ring. Transmit
 * descriptors are reclaimed when the next frame is queued. Every descriptor
 * the device writes back is checked (DD, EOP, error bits, length within the
 * buffer); a bad one is counted and its buffer reposted. */
#include "igbvf.h"
#include <arch/memlayout.h>
#include <console/printk.h>
#include <lib/compiler.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <sched/thread.h>
#include <time/clock.h>

#define MSIX_RX 0
#define MSIX_MBX 2
#define MAX_FRAME 1518 /* 1500 + Ethernet header + FCS: what SET_LPE asks for */

static void rx_irq(void *arg)
{
	struct igbvf *vf = arg;
	vf->rx_pending = true;
	wake_up_one(&vf->wq);
}

static void mbx_irq(void *arg)
{
	struct igbvf *vf = arg;
	vf->mbx_pending = true;
	wake_up_one(&vf->wq);
}

void igbvf_rx_post(struct igbvf *vf, unsigned i)
{
	vf->rx[i].read.pkt_addr = virt_to_phys(vf->rx_buf[i]);
	vf->rx[i].read.hdr_addr = 0; /* clears the write-back status (DD) */
}

/* Take every completed descriptor; hand good frames up, repost each buffer. */
void igbvf_rx_clean(struct igbvf *vf)
{
	struct netdev *nd = &vf->nd;
	unsigned done = 0;
	for (;;) {
		unsigned i = vf->rx_next;
		volatile struct vf_rx_desc *d = &vf->rx[i];
		uint32_t status = d->wb.status;
		if (!(status & VF_RXD_DD))
			break;
		barrier(); /* the length after DD */
		unsigned len = d->wb.length;
		if (!(status & VF_RXD_EOP)) {
			/* A frame larger than one buffer: we never asked for those. */
			if (!vf->rx_skip)
				netdev_rx_bad(nd, 0);
			vf->rx_skip = true;
		} else if (vf->rx_skip) {
			vf->rx_skip = false; /* the last piece of the oversized frame */
		} else if ((status & VF_RXD_ERR_FRAME) || len < ETH_MIN_FRAME || len > VF_BUF) {
			netdev_rx_bad(nd, 0);
		} else {
			netdev_rx(nd, 0, vf->rx_buf[i], len);
		}
		igbvf_rx_post(vf, i);
		vf->rx_next = (i + 1) % VF_RING;
		done++;
		if (done == VF_RING - 1)
			break; /* let the tail move before the ring could look empty to the device */
	}
	if (done) {
		barrier();
		vf_wr(vf, VF_RDT, (vf->rx_next + VF_RING - 1) % VF_RING);
	}
}

static void vf_thread(void *arg)
{
	struct igbvf *vf = arg;
	for (;;) {
		wait_event_timeout(&vf->wq, vf->rx_pending || vf->mbx_pending, 1000 * NSEC_PER_MSEC);
		vf->nd.link_up = vf_rd(vf, VF_STATUS) & VF_STATUS_LU;
		if (vf->mbx_pending) {
			vf->mbx_pending = false;
			uint32_t msg;
			if (igbvf_mbx_poll(vf, &msg))
				pr_info("igbvf: %s: PF message %#x\n", vf->nd.name, msg);
		}
		vf->rx_pending = false;
		igbvf_rx_clean(vf);
	}
}

static void tx_reclaim(struct igbvf *vf)
{
	while (vf->tx_clean != vf->tx_tail) {
		volatile struct vf_tx_desc *d = &vf->tx[vf->tx_clean];
		if (!(d->olinfo_status & VF_TXD_DD))
			break;
		vf->tx_clean = (vf->tx_clean + 1) % VF_RING;
	}
}

static int vf_xmit(struct netdev *nd, unsigned q, const void *frame, size_t len)
{
	(void)q;
	struct igbvf *vf = nd->priv;
	if (len > VF_BUF)
		return -EMSGSIZE;
	uint64_t f = spin_lock_irqsave(&vf->tx_lock);
	tx_reclaim(vf);
	unsigned t = vf->tx_tail, next = (t + 1) % VF_RING;
	if (next == vf->tx_clean) {
		spin_unlock_irqrestore(&vf->tx_lock, f);
		return -EBUSY;
	}
	memcpy(vf->tx_buf[t], frame, len);
	if (len < VF_MIN_FRAME) {
		memset(vf->tx_buf[t] + len, 0, VF_MIN_FRAME - len);
		len = VF_MIN_FRAME;
	}
	volatile struct vf_tx_desc *d = &vf->tx[t];
	d->addr = virt_to_phys(vf->tx_buf[t]);
	d->cmd_type_len = (uint32_t)len | VF_TXD_DTYP_DATA | VF_TXD_DEXT | VF_TXD_EOP | VF_TXD_IFCS | VF_TXD_RS;
	d->olinfo_status = (uint32_t)len << VF_TXD_PAYLEN_SHIFT;
	barrier();
	vf->tx_tail = next;
	vf_wr(vf, VF_TDT, next);
	spin_unlock_irqrestore(&vf->tx_lock, f);
	return 0;
}

static const struct netdev_ops vf_ops = { .xmit = vf_xmit };

/* The 12-bit multicast-table hash of filter type 0: address bits 47:36. */
static uint16_t mc_hash(const uint8_t *mac)
{
	return (uint16_t)(((mac[4] >> 4) | (mac[5] << 4)) & 0xfff);
}

static int vf_handshake(struct igbvf *vf)
{
	uint32_t msg[VF_MBX_WORDS] = { 0 }, reply[VF_MBX_WORDS];
	vf_wr(vf, VF_CTRL, VF_CTRL_RST);
	int r = igbvf_wait_reset(vf);
	if (r) {
		pr_warn("igbvf: the PF did not finish its reset\n");
		return r;
	}
	msg[0] = VF_MSG_RESET;
	r = igbvf_mbx_call(vf, msg, 1, reply, 3);
	if (r) {
		pr_warn("igbvf: VF_RESET: no usable reply (%d)\n", r);
		return r;
	}
	uint8_t *mac = vf->nd.mac;
	memcpy(mac, &reply[1], 4);
	mac[4] = (uint8_t)reply[2];
	mac[5] = (uint8_t)(reply[2] >> 8);
	static const uint8_t zero[6];
	if ((mac[0] & 1) || !memcmp(mac, zero, 6)) {
		pr_warn("igbvf: the PF gave no usable MAC\n");
		return -EIO;
	}
	/* Largest frame: a standard MTU. */
	msg[0] = VF_MSG_SET_LPE;
	msg[1] = MAX_FRAME;
	if ((r = igbvf_mbx_call(vf, msg, 2, reply, 1)))
		pr_warn("igbvf: SET_LPE refused (%d)\n", r);
	/* IPv6 needs the all-nodes group and our solicited-node group (33:33:ff + the MAC's last three bytes). */
	const uint8_t all_nodes[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	const uint8_t solicited[6] = { 0x33, 0x33, 0xff, mac[3], mac[4], mac[5] };
	uint16_t h[2] = { mc_hash(all_nodes), mc_hash(solicited) };
	memset(msg, 0, sizeof(msg));
	msg[0] = VF_MSG_SET_MULTICAST | 2u << VF_MSGINFO_SHIFT;
	msg[1] = h[0] | (uint32_t)h[1] << 16;
	if ((r = igbvf_mbx_call(vf, msg, 2, reply, 1)))
		pr_warn("igbvf: SET_MULTICAST refused (%d)\n", r);
	return 0;
}

static int rings_init(struct igbvf *vf)
{
	vf->rx = page_alloc(0, PAGE_ZERO);
	vf->tx = page_alloc(0, PAGE_ZERO);
	if (!vf->rx || !vf->tx)
		return -ENOMEM;
	for (unsigned i = 0; i < VF_RING; i++) {
		vf->rx_buf[i] = kmalloc(VF_BUF);
		vf->tx_buf[i] = kmalloc(VF_BUF);
		if (!vf->rx_buf[i] || !vf->tx_buf[i])
			return -ENOMEM;
		igbvf_rx_post(vf, i);
	}
	paddr_t rx = virt_to_phys(vf->rx), tx = virt_to_phys(vf->tx);
	vf_wr(vf, VF_RXDCTL, 0);
	vf_wr(vf, VF_RDBAL, (uint32_t)rx);
	vf_wr(vf, VF_RDBAH, (uint32_t)(rx >> 32));
	vf_wr(vf, VF_RDLEN, VF_RING * sizeof(struct vf_rx_desc));
	vf_wr(vf, VF_SRRCTL, VF_SRRCTL_BSIZE_2K | VF_SRRCTL_ADV_ONEBUF | VF_SRRCTL_DROP_EN);
	vf_wr(vf, VF_RDH, 0);
	vf_wr(vf, VF_RDT, 0);
	vf_wr(vf, VF_RXDCTL, VF_QUEUE_ENABLE);
	vf_wr(vf, VF_RDT, VF_RING - 1);
	vf_wr(vf, VF_TXDCTL, 0);
	vf_wr(vf, VF_TDBAL, (uint32_t)tx);
	vf_wr(vf, VF_TDBAH, (uint32_t)(tx >> 32));
	vf_wr(vf, VF_TDLEN, VF_RING * sizeof(struct vf_tx_desc));
	vf_wr(vf, VF_TDH, 0);
	vf_wr(vf, VF_TDT, 0);
	vf_wr(vf, VF_TXDCTL, VF_QUEUE_ENABLE);
	return 0;
}

static int igbvf_probe(struct pci_dev *dev, const struct pci_id *id)
{
	(void)id;
	struct igbvf *vf = kzalloc(sizeof(*vf));
	if (!vf)
		return -ENOMEM;
	vf->pdev = dev;
	spin_init(&vf->tx_lock);
	wait_queue_init(&vf->wq);
	pci_enable(dev);
	vf->regs = pci_map_bar(dev, 0, 0, VF_BAR_SIZE);
	int r = -ENODEV;
	if (!vf->regs)
		goto fail;
	/* The VF has no INTx: MSI-X or nothing. */
	if ((r = pci_msix_enable(dev)) < 3) {
		pr_warn("igbvf: MSI-X unavailable (%d)\n", r);
		r = r < 0 ? r : -ENODEV;
		goto fail;
	}
	vf_wr(vf, VF_EIMC, 7);
	if ((r = vf_handshake(vf)))
		goto fail;
	if ((r = rings_init(vf)))
		goto fail;
	if ((r = pci_msix_attach(dev, MSIX_RX, rx_irq, vf)) < 0 || (r = pci_msix_attach(dev, MSIX_MBX, mbx_irq, vf)) < 0)
		goto fail;
	vf_wr(vf, VF_IVAR0, VF_IVAR_VALID | MSIX_RX);
	vf_wr(vf, VF_IVAR_MISC, VF_IVAR_VALID | MSIX_MBX);
	/* Auto-clear the causes when the vector fires, so each new frame interrupts again. */
	vf_wr(vf, VF_EIAC, 1u << MSIX_RX | 1u << MSIX_MBX);
	vf_wr(vf, VF_EIMS, 1u << MSIX_RX | 1u << MSIX_MBX);
	struct thread *t = thread_create("igbvf", vf_thread, vf);
	if (!t) {
		r = -ENOMEM;
		goto fail;
	}
	thread_detach(t);
	struct netdev *nd = &vf->nd;
	nd->mtu = 1500;
	nd->nqueues = 1;
	nd->ops = &vf_ops;
	nd->priv = vf;
	nd->link_up = vf_rd(vf, VF_STATUS) & VF_STATUS_LU;
	dev->priv = vf;
	return netdev_register(nd);
fail:
	/* The device may still point at the rings: leak them rather than reuse. */
	if (vf->regs) {
		vf_wr(vf, VF_EIMC, 7);
		vf_wr(vf, VF_RXDCTL, 0);
		vf_wr(vf, VF_TXDCTL, 0);
	}
	return r;
}

static const struct pci_id igbvf_ids[] = {
	PCI_ID_DEV(0x8086, 0x10ca), /* 82576 VF */
	{ 0, 0, 0, 0 },
};

PCI_DRIVER(igbvf) = {
	.name = "igbvf",
	.ids = igbvf_ids,
	.probe = igbvf_probe,
};
