/* netvsc in the kernel: each Hyper-V synthetic NIC channel becomes a
 * netdev (eth0...). Received frames reach netdev_rx from the vmbus thread
 * (the channel callback); netdev_xmit sends through a send section. */
#include "netvsc_core.h"
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <netdev/netdev.h>

#define RING_BYTES (128 * 1024)
#define RXBUF_BYTES (1024 * 1024)
#define TXBUF_BYTES (512 * 1024)

static const uint8_t netvsc_guid[16] =
	VMBUS_GUID(0xf8615163, 0xdf3e, 0x46c5, 0x91, 0x3f, 0xf2, 0xd2, 0xf9, 0x65, 0xed, 0x0e);

struct netvsc_nic {
	struct netvsc nv;
	struct netdev nd;
	volatile bool registered; /* frames before netdev_register are dropped */
};

static void nic_rx(struct netvsc *nv, const void *frame, size_t len)
{
	struct netvsc_nic *nic = nv->priv;
	if (nic->registered)
		netdev_rx(&nic->nd, 0, frame, len);
}

static void nic_link(struct netvsc *nv, bool up)
{
	struct netvsc_nic *nic = nv->priv;
	nic->nd.link_up = up;
	printk(LOG_INFO, "netvsc: %s link %s\n", nic->nd.name, up ? "up" : "down");
}

static int nic_xmit(struct netdev *nd, unsigned q, const void *frame, size_t len)
{
	(void)q;
	struct netvsc_nic *nic = nd->priv;
	return netvsc_xmit(&nic->nv, frame, len);
}

static const struct netdev_ops nic_ops = { nic_xmit };

static int netvsc_probe(struct vmbus_channel *ch)
{
	struct netvsc_nic *nic = kzalloc(sizeof(*nic));
	if (!nic)
		return -ENOMEM;
	nic->nv.ring_bytes = RING_BYTES;
	nic->nv.rxbuf_len = RXBUF_BYTES;
	nic->nv.txbuf_len = TXBUF_BYTES;
	nic->nv.priv = nic;
	nic->nv.rx = nic_rx;
	nic->nv.link = nic_link;
	int r = netvsc_attach(&nic->nv, ch);
	if (r) {
		kfree(nic);
		return r;
	}
	memcpy(nic->nd.mac, nic->nv.mac, 6);
	nic->nd.mtu = nic->nv.mtu;
	nic->nd.link_up = nic->nv.link_up;
	nic->nd.nqueues = 1;
	nic->nd.ops = &nic_ops;
	nic->nd.priv = nic;
	ch->driver_data = nic;
	r = netdev_register(&nic->nd);
	if (r)
		return r; /* the channel stays open: the host's buffers are ours */
	nic->registered = true;
	printk(LOG_INFO, "netvsc: %s %02x:%02x:%02x:%02x:%02x:%02x mtu %u, NVSP %#x, %u send sections\n", nic->nd.name,
	       nic->nd.mac[0], nic->nd.mac[1], nic->nd.mac[2], nic->nd.mac[3], nic->nd.mac[4], nic->nd.mac[5],
	       nic->nd.mtu, nic->nv.nvsp_version, nic->nv.nsections);
	return 0;
}

VMBUS_DRIVER(netvsc) = { "netvsc", netvsc_guid, netvsc_probe, NULL };
