/* The 82599 VF (PCI 8086:10ed) in the kernel: hw.c's steps over the VF's
 * BAR0 and MSI-X (entry 0 receive, entry 1 mailbox), a thread that cleans
 * the receive ring when woken, registered as a netdev. Not boot-tested: no
 * emulator models the 82599 (hw.c is tested on the host instead). */
#include "ixgbevf_hw.h"
#include <arch/io.h>
#include <arch/memlayout.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <netdev/netdev.h>
#include <pci/pci.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <time/clock.h>

#define MSIX_RX 0
#define MSIX_MBX 1

struct ixgbevf {
	struct netdev nd;
	struct ixgbevf_hw hw;
	volatile uint8_t *regs;
	spinlock_t tx_lock;
	struct wait_queue wq;
	volatile bool rx_pending, mbx_pending;
};

static uint32_t mmio_rd(void *ctx, uint32_t reg)
{
	struct ixgbevf *v = ctx;
	return reg < IXV_BAR_SIZE ? mmio_read32(v->regs + reg) : 0xffffffffu;
}

static void mmio_wr(void *ctx, uint32_t reg, uint32_t val)
{
	struct ixgbevf *v = ctx;
	if (reg < IXV_BAR_SIZE)
		mmio_write32(v->regs + reg, val);
}

static void sleep_us(void *ctx, unsigned us)
{
	(void)ctx;
	thread_sleep_ns((uint64_t)us * 1000);
}

static uint64_t dma_addr(void *ctx, const void *p)
{
	(void)ctx;
	return virt_to_phys(p);
}

static const struct ixgbevf_ops kernel_ops = { mmio_rd, mmio_wr, sleep_us, dma_addr };

static void rx_irq(void *arg)
{
	struct ixgbevf *v = arg;
	v->rx_pending = true;
	wake_up_one(&v->wq);
}

static void mbx_irq(void *arg)
{
	struct ixgbevf *v = arg;
	v->mbx_pending = true;
	wake_up_one(&v->wq);
}

static void deliver(void *arg, const uint8_t *frame, unsigned len)
{
	struct ixgbevf *v = arg;
	netdev_rx(&v->nd, 0, frame, len);
}

static void vf_thread(void *arg)
{
	struct ixgbevf *v = arg;
	for (;;) {
		wait_event_timeout(&v->wq, v->rx_pending || v->mbx_pending, 1000 * NSEC_PER_MSEC);
		v->nd.link_up = ixgbevf_link_up(&v->hw);
		if (v->mbx_pending) {
			v->mbx_pending = false;
			uint32_t msg;
			if (ixgbevf_mbx_poll(&v->hw, &msg))
				pr_info("ixgbevf: %s: PF message %#x\n", v->nd.name, msg);
		}
		v->rx_pending = false;
		uint64_t bad = v->hw.stats.rx_bad;
		ixgbevf_rx(&v->hw, deliver, v);
		for (; bad < v->hw.stats.rx_bad; bad++)
			netdev_rx_bad(&v->nd, 0);
	}
}

static int vf_xmit(struct netdev *nd, unsigned q, const void *frame, size_t len)
{
	(void)q;
	struct ixgbevf *v = nd->priv;
	uint64_t f = spin_lock_irqsave(&v->tx_lock);
	int r = ixgbevf_xmit(&v->hw, frame, len);
	spin_unlock_irqrestore(&v->tx_lock, f);
	return r;
}

static const struct netdev_ops vf_ops = { .xmit = vf_xmit };

static int ixgbevf_probe(struct pci_dev *dev, const struct pci_id *id)
{
	(void)id;
	struct ixgbevf *v = kzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	spin_init(&v->tx_lock);
	wait_queue_init(&v->wq);
	pci_enable(dev);
	v->regs = pci_map_bar(dev, 0, 0, IXV_BAR_SIZE);
	if (!v->regs)
		return -ENODEV;
	v->hw.ops = &kernel_ops;
	v->hw.ctx = v;
	int r = pci_msix_enable(dev);
	if (r < 2) {
		pr_warn("ixgbevf: MSI-X unavailable (%d)\n", r);
		return r < 0 ? r : -ENODEV;
	}
	if ((r = ixgbevf_init(&v->hw))) {
		pr_warn("ixgbevf: bring-up failed (%d)\n", r);
		return r;
	}
	struct ixv_rx_desc *rx = page_alloc(0, PAGE_ZERO);
	struct ixv_tx_desc *tx = page_alloc(0, PAGE_ZERO);
	uint8_t **bufs = kcalloc(2 * IXV_RING, sizeof(*bufs));
	if (!rx || !tx || !bufs)
		return -ENOMEM;
	for (unsigned i = 0; i < 2 * IXV_RING; i++)
		if (!(bufs[i] = kmalloc(IXV_BUF)))
			return -ENOMEM;
	ixgbevf_rings(&v->hw, rx, tx, bufs, bufs + IXV_RING);
	if ((r = pci_msix_attach(dev, MSIX_RX, rx_irq, v)) < 0 || (r = pci_msix_attach(dev, MSIX_MBX, mbx_irq, v)) < 0)
		return r;
	ixgbevf_irqs(&v->hw, MSIX_RX, MSIX_MBX);
	struct thread *t = thread_create("ixgbevf", vf_thread, v);
	if (!t)
		return -ENOMEM;
	thread_detach(t);
	struct netdev *nd = &v->nd;
	for (int i = 0; i < 6; i++)
		nd->mac[i] = v->hw.mac[i];
	nd->mtu = 1500;
	nd->nqueues = 1;
	nd->ops = &vf_ops;
	nd->priv = v;
	nd->link_up = ixgbevf_link_up(&v->hw);
	dev->priv = v;
	pr_info("ixgbevf: mailbox API %d, %u/%u queues offered\n", v->hw.api, v->hw.tx_queues, v->hw.rx_queues);
	return netdev_register(nd);
}

static const struct pci_id ixgbevf_ids[] = {
	PCI_ID_DEV(0x8086, 0x10ed), /* 82599 VF */
	{ 0, 0, 0, 0 },
};

PCI_DRIVER(ixgbevf) = {
	.name = "ixgbevf",
	.ids = ixgbevf_ids,
	.probe = ixgbevf_probe,
};
