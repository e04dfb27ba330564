/*
 * Network devices. A NIC driver fills a struct netdev (MAC, MTU, queues,
 * ops) and registers it; the stack (a NETDEV_CLIENT entry: lwIP's netif glue)
 * is attached to each device and receives its frames. Drivers hand received
 * frames to netdev_rx() from thread context (one receive thread per queue);
 * the stack sends with netdev_xmit(), which picks the calling CPU's queue.
 * Frames are Ethernet frames without any device header.
 */
#ifndef NETDEV_NETDEV_H
#define NETDEV_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lib/ktable.h>

#define NETDEV_MAX 8
#define NETDEV_MAX_QUEUES 16
#define ETH_HLEN 14
#define ETH_MIN_FRAME 14 /* a header: the device strips padding and the FCS or not */

struct netdev_queue_stats {
	uint64_t rx_packets, rx_bytes, rx_drops, rx_bad;
	uint64_t tx_packets, tx_bytes, tx_drops;
	/* Checksum offload: frames the device vouched for (valid or a local sender's partial),
	 * TCP checksums checked here because the device had not, and sends the device completed. */
	uint64_t rx_csum_dev, rx_csum_sw, tx_csum_dev;
};

/* Offloads a driver sets before netdev_register; the stack adapts to them. */
#define NETDEV_RX_CSUM_TCP 1u /* every TCP segment handed up has a checked or vouched checksum */
#define NETDEV_TX_CSUM_TCP 2u /* the driver has TCP checksums completed (the stack leaves them) */

/* What the device says about a received frame's transport checksum. */
enum netdev_csum {
	NETDEV_CSUM_NONE,    /* not checked */
	NETDEV_CSUM_VALID,   /* checked and right */
	NETDEV_CSUM_PARTIAL, /* a local sender's: pseudo-header sum at start+off, the rest to be summed */
};

struct netdev;

struct netdev_ops {
	/* Queue one frame for sending on queue q: 0, or -EBUSY (ring full) / -errno. */
	int (*xmit)(struct netdev *nd, unsigned q, const void *frame, size_t len);
};

struct netdev {
	char name[8];             /* eth<index>, set by netdev_register */
	unsigned index;
	uint8_t mac[6];
	unsigned mtu;             /* payload bytes (1500) */
	volatile bool link_up;
	unsigned nqueues;         /* queue pairs in use */
	unsigned offload;         /* NETDEV_RX_CSUM_TCP | NETDEV_TX_CSUM_TCP */
	const struct netdev_ops *ops;
	void *priv;               /* the driver's */
	struct netdev_queue_stats stats[NETDEV_MAX_QUEUES];
	/* Set by the stack when it attaches; called for each good frame. */
	void (*rx)(struct netdev *nd, const void *frame, size_t len);
	void *stack;              /* the stack's */
};

/* Stacks that want every device: attach() runs once per registered device. */
struct netdev_client {
	const char *name;
	void (*attach)(struct netdev *nd);
};
KTABLE_DECLARE(struct netdev_client, netdev_client);
#define NETDEV_CLIENT(ident) KTABLE_ENTRY(struct netdev_client, netdev_client, 5, __netdev_client_##ident)

int netdev_register(struct netdev *nd);
unsigned netdev_count(void);
struct netdev *netdev_get(unsigned index);
/* A received frame from queue q: counted, checked (length), handed to the stack. */
void netdev_rx(struct netdev *nd, unsigned q, const void *frame, size_t len);
/* The same from a device with receive checksum offload (NETDEV_RX_CSUM_TCP): the
 * frame may be changed (a partial checksum completed); start/off only for PARTIAL. */
void netdev_rx_csum(struct netdev *nd, unsigned q, void *frame, size_t len, enum netdev_csum state, uint16_t start,
		    uint16_t off);
/* A frame the driver dropped or found malformed before it could hand it up. */
void netdev_rx_bad(struct netdev *nd, unsigned q);
void netdev_rx_drop(struct netdev *nd, unsigned q);
/* Send a frame on the calling CPU's queue; 0 or -errno (counted as a drop). */
int netdev_xmit(struct netdev *nd, const void *frame, size_t len);
/* csum.c. An IPv4/IPv6 transport header in an Ethernet frame, lengths checked. */
struct netdev_l4 {
	uint8_t proto;
	bool fragment;
	size_t start, len; /* transport header offset in the frame; transport length */
	uint32_t pseudo;   /* unfolded pseudo-header sum */
};
int netdev_l4_parse(const uint8_t *frame, size_t len, struct netdev_l4 *l4);
uint16_t netdev_csum(uint32_t start, const uint8_t *p, size_t n);
bool netdev_l4_csum_ok(const uint8_t *frame, const struct netdev_l4 *l4);
bool netdev_rx_csum_check(uint8_t *frame, size_t len, enum netdev_csum state, uint16_t start, uint16_t off);
/* For a TCP frame: the pseudo-header sum into its checksum field, and where the device
 * starts summing and stores the result; -1 when the frame is not TCP over IPv4/IPv6. */
int netdev_tx_csum_tcp(uint8_t *frame, size_t len, uint16_t *start, uint16_t *off);
/* One line per device and queue ("netdev: eth0 q0 rx 12 ... tx 9 ..."), to the kernel log. */
void netdev_print_stats(void);

#endif
