/* Intel 82576 physical function (PCI 8086:10c9): reset, link, VMDq pools and
 * the SR-IOV capability; then a thread answers the VFs' mailbox, woken by the
 * PF's MSI-X "other" cause (VMMB) or, without MSI-X, every 100 ms. The PF's
 * own queues stay off: the guest's traffic goes through its VFs (igbvf), and
 * the PF pool is not the default pool, so unmatched frames are dropped. */
#include "igb.h"
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <sched/thread.h>
#include <time/clock.h>

#define IGB_BAR_SIZE 0x20000

static void igb_irq(void *arg)
{
	struct igb_pf *pf = arg;
	pf->pending = true;
	wake_up_one(&pf->wq);
}

static void mbx_thread(void *arg)
{
	struct igb_pf *pf = arg;
	bool link = igb_rd(pf, IGB_STATUS) & IGB_STATUS_LU;
	for (;;) {
		/* With MSI-X the poll only refreshes the link state; without it, it is the mailbox's only service. */
		wait_event_timeout(&pf->wq, pf->pending, (pf->irq ? 1000 : 100) * NSEC_PER_MSEC);
		pf->pending = false;
		(void)igb_rd(pf, IGB_ICR); /* GPIE.NSICR: the read clears it, so the next cause interrupts again */
		bool now = igb_rd(pf, IGB_STATUS) & IGB_STATUS_LU;
		if (now != link)
			pr_info("igb: link %s\n", now ? "up" : "down");
		link = now;
		uint32_t mask = (1u << pf->nvfs) - 1;
		uint32_t flr = igb_rd(pf, IGB_VFLRE) & mask;
		if (flr) {
			igb_wr(pf, IGB_VFLRE, flr);
			for (unsigned v = 0; v < pf->nvfs; v++)
				if (flr & 1u << v)
					igb_vf_reset_event(pf, v);
		}
		uint32_t icr = igb_rd(pf, IGB_MBVFICR);
		for (unsigned v = 0; v < pf->nvfs; v++) {
			if (icr & IGB_MBVFICR_REQ(v))
				igb_vf_message(pf, v);
			if (icr & IGB_MBVFICR_ACK(v))
				igb_wr(pf, IGB_MBVFICR, IGB_MBVFICR_ACK(v));
		}
	}
}

/* VF n's permanent MAC: the PF's, locally administered, with a byte of its own. */
static void vf_mac(const uint8_t *pf_mac, unsigned vf, uint8_t *mac)
{
	memcpy(mac, pf_mac, 6);
	mac[0] = (uint8_t)((mac[0] | 0x02) & ~0x01);
	mac[3] ^= (uint8_t)(0x80 | vf);
}

/* Write a PHY register through MDIC; false when the PHY does not answer. */
static bool phy_write(struct igb_pf *pf, unsigned reg, uint16_t v)
{
	igb_wr(pf, IGB_MDIC, v | reg << IGB_MDIC_REG_SHIFT | IGB_PHY_ADDR << IGB_MDIC_PHY_SHIFT | IGB_MDIC_OP_WRITE);
	for (int i = 0; i < 1000; i++) {
		uint32_t m = igb_rd(pf, IGB_MDIC);
		if (m & IGB_MDIC_READY)
			return !(m & IGB_MDIC_ERROR);
		clock_delay_us(10);
	}
	return false;
}

static int igb_probe(struct pci_dev *dev, const struct pci_id *id)
{
	(void)id;
	if (dev->physfn)
		return -ENODEV;
	struct igb_pf *pf = kzalloc(sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	pf->pdev = dev;
	pci_enable(dev);
	pf->regs = pci_map_bar(dev, 0, 0, IGB_BAR_SIZE);
	if (!pf->regs) {
		kfree(pf);
		return -ENODEV;
	}
	wait_queue_init(&pf->wq);
	igb_wr(pf, IGB_IMC, ~0u);
	igb_wr(pf, IGB_EIMC, ~0u);
	igb_wr(pf, IGB_CTRL, igb_rd(pf, IGB_CTRL) | IGB_CTRL_RST);
	thread_sleep_ns(10 * NSEC_PER_MSEC);
	igb_wr(pf, IGB_IMC, ~0u);
	igb_wr(pf, IGB_EIMC, ~0u);
	/* The permanent address: the NVM loads it into receive address 0. */
	uint32_t ral = igb_rd(pf, IGB_RAL(0)), rah = igb_rd(pf, IGB_RAH(0));
	for (int i = 0; i < 4; i++)
		pf->mac[i] = (uint8_t)(ral >> (8 * i));
	pf->mac[4] = (uint8_t)rah;
	pf->mac[5] = (uint8_t)(rah >> 8);
	if (!(rah & IGB_RAH_AV) || (pf->mac[0] & 1)) {
		pr_warn("igb: no valid permanent MAC in RAL0/RAH0 (%08x %08x)\n", ral, rah);
		kfree(pf);
		return -EIO;
	}

	unsigned total = pci_sriov_total_vfs(dev);
	pf->nvfs = CONFIG_IGB_VFS;
	if (pf->nvfs > total)
		pf->nvfs = total;
	if (pf->nvfs > IGB_MAX_VFS)
		pf->nvfs = IGB_MAX_VFS;
	if (!pf->nvfs) {
		pr_warn("igb: no SR-IOV capability (TotalVFs 0): nothing to serve\n");
		kfree(pf);
		return -ENODEV;
	}
	for (unsigned v = 0; v < pf->nvfs; v++)
		vf_mac(pf->mac, v, pf->vf[v].mac);

	igb_wr(pf, IGB_CTRL, igb_rd(pf, IGB_CTRL) | IGB_CTRL_SLU);
	/* The reset took the link down: autonegotiate again. */
	if (!phy_write(pf, MII_BMCR, MII_BMCR_ANENABLE | MII_BMCR_ANRESTART | MII_BMCR_FULLDPLX | MII_BMCR_SPEED1000))
		pr_warn("igb: the PHY did not take the autonegotiation restart\n");
	/* MSI-X mode: the VFs' vectors are EICR bits too, and the PF's "other" cause goes to entry 0. */
	igb_wr(pf, IGB_GPIE, IGB_GPIE_NSICR | IGB_GPIE_MSIX_MODE | IGB_GPIE_EIAME | IGB_GPIE_PBA);
	pf->irq = pci_msix_enable(dev) > 0 && pci_msix_attach(dev, 0, igb_irq, pf) >= 0;
	if (pf->irq) {
		igb_wr(pf, IGB_IVAR_MISC, (IGB_IVAR_VALID | 0) << 8);
		igb_wr(pf, IGB_EIAC, 1);
		igb_wr(pf, IGB_EIMS, 1);
		igb_wr(pf, IGB_IMS, IGB_ICR_VMMB | IGB_ICR_LSC);
	} else {
		pr_info("igb: no MSI-X; the mailbox is polled\n");
	}
	/* VMDq: one pool per VF; the PF's pool (nvfs) is not a default for unmatched frames. */
	igb_wr(pf, IGB_MRQC, IGB_MRQC_VMDQ);
	igb_wr(pf, IGB_VT_CTL, pf->nvfs << IGB_VT_CTL_POOL_SHIFT | IGB_VT_CTL_DIS_DEF_POOL);
	igb_wr(pf, IGB_VFRE, 0);
	igb_wr(pf, IGB_VFTE, 0);
	for (unsigned i = 0; i < 128; i++)
		igb_wr(pf, IGB_MTA(i), 0);
	igb_wr(pf, IGB_MBVFIMR, (1u << pf->nvfs) - 1);
	/* Strip the CRC: VFs get frames without it. */
	igb_wr(pf, IGB_RCTL, IGB_RCTL_EN | IGB_RCTL_BAM | IGB_RCTL_SECRC);
	igb_wr(pf, IGB_TCTL, IGB_TCTL_EN | IGB_TCTL_PSP | 0x0f << 4 | 0x3f << 12);

	struct thread *t = thread_create("igb-mbx", mbx_thread, pf);
	if (!t) {
		kfree(pf);
		return -ENOMEM;
	}
	thread_detach(t);
	/* Tell the VFs the PF is ready (their mailbox shows RSTD, RSTI clears). */
	igb_wr(pf, IGB_CTRL_EXT, igb_rd(pf, IGB_CTRL_EXT) | IGB_CTRL_EXT_PFRSTD | IGB_CTRL_EXT_DRV_LOAD);
	/* Link: autonegotiation completes within a few hundred ms after the reset. */
	uint64_t deadline = clock_monotonic_ns() + 3000 * NSEC_PER_MSEC;
	while (!(igb_rd(pf, IGB_STATUS) & IGB_STATUS_LU) && clock_monotonic_ns() < deadline)
		thread_sleep_ns(10 * NSEC_PER_MSEC);
	dev->priv = pf;
	int n = pci_sriov_enable(dev, pf->nvfs);
	if (n < 0) {
		pr_warn("igb: enabling %u VFs failed (%d)\n", pf->nvfs, n);
		return 0; /* bound: the thread runs; nothing to serve */
	}
	pf->nvfs = (unsigned)n;
	pr_info("igb: %02x:%02x:%02x:%02x:%02x:%02x, link %s, %u VF%s enabled\n", pf->mac[0], pf->mac[1], pf->mac[2],
		pf->mac[3], pf->mac[4], pf->mac[5], igb_rd(pf, IGB_STATUS) & IGB_STATUS_LU ? "up" : "down", pf->nvfs,
		pf->nvfs == 1 ? "" : "s");
	return 0;
}

static const struct pci_id igb_ids[] = {
	PCI_ID_DEV(0x8086, 0x10c9), /* 82576 */
	PCI_ID_DEV(0x8086, 0x10e6), /* 82576 fiber */
	PCI_ID_DEV(0x8086, 0x10e7), /* 82576 serdes */
	{ 0, 0, 0, 0 },
};

PCI_DRIVER(igb) = {
	.name = "igb",
	.ids = igb_ids,
	.probe = igb_probe,
};
