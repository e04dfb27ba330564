/* The netdev layer: the device list, per-queue counters, length checks on
 * received frames, queue choice on send. */
#include <netdev/netdev.h>
#include <arch/percpu.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/printf.h>

KTABLE_DEFINE(struct netdev_client, netdev_client);

static struct netdev *devs[NETDEV_MAX];
static unsigned ndevs;

int netdev_register(struct netdev *nd)
{
	if (ndevs == NETDEV_MAX)
		return -ENOSPC;
	if (nd->nqueues == 0 || nd->nqueues > NETDEV_MAX_QUEUES || !nd->ops || !nd->ops->xmit)
		return -EINVAL;
	nd->index = ndevs;
	snprintf(nd->name, sizeof(nd->name), "eth%u", ndevs);
	devs[ndevs++] = nd;
	pr_info("netdev: %s %02x:%02x:%02x:%02x:%02x:%02x mtu %u, %u queue pair%s, link %s\n", nd->name, nd->mac[0],
		nd->mac[1], nd->mac[2], nd->mac[3], nd->mac[4], nd->mac[5], nd->mtu, nd->nqueues,
		nd->nqueues > 1 ? "s" : "", nd->link_up ? "up" : "down");
	const struct netdev_client *c;
	ktable_foreach(c, netdev_client)
		c->attach(nd);
	return 0;
}

unsigned netdev_count(void)
{
	return ndevs;
}

struct netdev *netdev_get(unsigned index)
{
	return index < ndevs ? devs[index] : NULL;
}

void netdev_rx(struct netdev *nd, unsigned q, const void *frame, size_t len)
{
	struct netdev_queue_stats *st = &nd->stats[q % NETDEV_MAX_QUEUES];
	/* Longest: the MTU, the Ethernet header and one VLAN tag. */
	if (len < ETH_MIN_FRAME || len > nd->mtu + ETH_HLEN + 4) {
		st->rx_bad++;
		return;
	}
	if (!nd->rx) {
		st->rx_drops++;
		return;
	}
	st->rx_packets++;
	st->rx_bytes += len;
	nd->rx(nd, frame, len);
}

void netdev_rx_csum(struct netdev *nd, unsigned q, void *frame, size_t len, enum netdev_csum state, uint16_t start,
		    uint16_t off)
{
	struct netdev_queue_stats *st = &nd->stats[q % NETDEV_MAX_QUEUES];
	if (len >= ETH_MIN_FRAME && len <= nd->mtu + ETH_HLEN + 4) {
		if (!netdev_rx_csum_check(frame, len, state, start, off)) {
			st->rx_bad++;
			return;
		}
		if (state == NETDEV_CSUM_NONE)
			st->rx_csum_sw++;
		else
			st->rx_csum_dev++;
	}
	netdev_rx(nd, q, frame, len);
}

void netdev_rx_bad(struct netdev *nd, unsigned q)
{
	nd->stats[q % NETDEV_MAX_QUEUES].rx_bad++;
}

void netdev_rx_drop(struct netdev *nd, unsigned q)
{
	nd->stats[q % NETDEV_MAX_QUEUES].rx_drops++;
}

int netdev_xmit(struct netdev *nd, const void *frame, size_t len)
{
	unsigned q = this_cpu()->cpu_id % nd->nqueues;
	struct netdev_queue_stats *st = &nd->stats[q];
	if (len < ETH_HLEN || len > nd->mtu + ETH_HLEN + 4 || !nd->link_up) {
		st->tx_drops++;
		return len < ETH_HLEN || len > nd->mtu + ETH_HLEN + 4 ? -EMSGSIZE : -ENETDOWN;
	}
	int r = nd->ops->xmit(nd, q, frame, len);
	if (r) {
		st->tx_drops++;
		return r;
	}
	st->tx_packets++;
	st->tx_bytes += len;
	return 0;
}

void netdev_print_stats(void)
{
	for (unsigned i = 0; i < ndevs; i++) {
		struct netdev *nd = devs[i];
		for (unsigned q = 0; q < nd->nqueues; q++) {
			struct netdev_queue_stats *s = &nd->stats[q];
			printk(LOG_NOTICE,
			       "netdev: %s q%u rx %llu pkts %llu bytes %llu drops %llu bad; tx %llu pkts %llu bytes %llu drops\n",
			       nd->name, q, (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
			       (unsigned long long)s->rx_drops, (unsigned long long)s->rx_bad,
			       (unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
			       (unsigned long long)s->tx_drops);
		}
	}
}
