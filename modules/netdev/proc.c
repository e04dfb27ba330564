/* /proc/net/dev in Linux's format (errs = bad frames), and
 * /proc/net/netdev_queues: the same counters per queue pair. */
#include <netdev/netdev.h>
#include <procfs/procfs.h>
#include <lib/printf.h>

static size_t put(size_t size, size_t n, int w)
{
	return w < 0 ? n : (n + (size_t)w < size ? n + (size_t)w : size);
}

static size_t gen_dev(char *buf, size_t size)
{
	size_t n = 0;
	n = put(size, n,
		snprintf(buf + n, size - n,
			 "Inter-|   Receive                                                |  Transmit\n"
			 " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop "
			 "fifo colls carrier compressed\n"));
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *nd = netdev_get(i);
		struct netdev_queue_stats t = { 0 };
		for (unsigned q = 0; q < nd->nqueues; q++) {
			t.rx_packets += nd->stats[q].rx_packets;
			t.rx_bytes += nd->stats[q].rx_bytes;
			t.rx_drops += nd->stats[q].rx_drops;
			t.rx_bad += nd->stats[q].rx_bad;
			t.tx_packets += nd->stats[q].tx_packets;
			t.tx_bytes += nd->stats[q].tx_bytes;
			t.tx_drops += nd->stats[q].tx_drops;
		}
		n = put(size, n,
			snprintf(buf + n, size - n, "%6s: %llu %llu %llu %llu 0 0 0 0 %llu %llu 0 %llu 0 0 0 0\n", nd->name,
				 (unsigned long long)t.rx_bytes, (unsigned long long)t.rx_packets,
				 (unsigned long long)t.rx_bad, (unsigned long long)t.rx_drops,
				 (unsigned long long)t.tx_bytes, (unsigned long long)t.tx_packets,
				 (unsigned long long)t.tx_drops));
	}
	return n;
}

static size_t gen_queues(char *buf, size_t size)
{
	size_t n = 0;
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *nd = netdev_get(i);
		for (unsigned q = 0; q < nd->nqueues; q++) {
			struct netdev_queue_stats *s = &nd->stats[q];
			n = put(size, n,
				snprintf(buf + n, size - n,
					 "%s q%u rx_packets %llu rx_bytes %llu rx_drops %llu rx_bad %llu tx_packets %llu "
					 "tx_bytes %llu tx_drops %llu rx_csum_dev %llu rx_csum_sw %llu tx_csum_dev %llu\n",
					 nd->name, q, (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
					 (unsigned long long)s->rx_drops, (unsigned long long)s->rx_bad,
					 (unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
					 (unsigned long long)s->tx_drops, (unsigned long long)s->rx_csum_dev,
					 (unsigned long long)s->rx_csum_sw, (unsigned long long)s->tx_csum_dev));
		}
	}
	return n;
}

PROC_FILE(net_dev, "/proc/net/dev", gen_dev);
PROC_FILE(netdev_queues, "/proc/net/netdev_queues", gen_queues);
