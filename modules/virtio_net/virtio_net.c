/* virtio-net (virtio 1.x section 5.1) as a netdev: queue pair i is receive
 * queue 2i and transmit queue 2i+1. Receive buffers are RX_BUF bytes each;
 * with VIRTIO_NET_F_MRG_RXBUF a frame may span several (num_buffers in the
 * first one's header). Everything the device writes back -- used lengths,
 * num_buffers, checksum flags and offsets, the GSO type -- is checked; a bad
 * frame is counted and its buffers reposted. Checksum offload: with
 * GUEST_CSUM the device vouches for (DATA_VALID) or leaves partial
 * (NEEDS_CSUM) the frames it hands us, and netdev checks TCP on the rest;
 * with CSUM it completes the TCP checksums we leave partial. */
#include <virtio/virtio.h>
#include <netdev/netdev.h>
#include <arch/smp.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <time/clock.h>

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0

#define CFG_MAC 0
#define CFG_STATUS 6
#define CFG_MAX_PAIRS 8
#define CFG_MTU 10

#define RX_BUF 2048
#define RX_POSTED 256     /* receive buffers kept in the ring (at most its size) */
#define MAX_FRAME 65550   /* header + the largest frame a merged chain may carry */
#define MAX_MERGE 40      /* num_buffers beyond this is a device error */

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers; /* with MRG_RXBUF or VERSION_1 only */
} __attribute__((packed));

struct vnet;

struct vnet_rxq {
	struct vnet *vn;
	unsigned index;
	struct virtqueue *vq;
	spinlock_t lock;
	struct wait_queue wq;
	volatile bool pending;
	uint8_t *frame;         /* reassembly of merged buffers */
};

struct vnet_txq {
	struct virtqueue *vq;
	spinlock_t lock;
};

struct vnet {
	struct netdev nd;
	struct virtio_device *vdev;
	unsigned hdr_len;
	bool mrg;
	bool rx_csum; /* VIRTIO_NET_F_GUEST_CSUM: the device may vouch for or leave partial what it hands us */
	bool tx_csum; /* VIRTIO_NET_F_CSUM: the device completes our TCP checksums */
	struct vnet_rxq rx[NETDEV_MAX_QUEUES];
	struct vnet_txq tx[NETDEV_MAX_QUEUES];
};

/* Keep the receive ring full. rxq locked. */
static void rx_fill(struct vnet_rxq *q)
{
	bool added = false;
	while (q->vq->num_free > 0) {
		void *b = kmalloc(RX_BUF);
		if (!b)
			break;
		struct vq_buf vb = { b, RX_BUF };
		if (virtqueue_add(q->vq, &vb, 0, 1, b)) {
			kfree(b);
			break;
		}
		added = true;
	}
	if (added)
		virtqueue_kick(q->vq);
}

static void *rx_get(struct vnet_rxq *q, uint32_t *len)
{
	uint64_t f = spin_lock_irqsave(&q->lock);
	void *b = virtqueue_get_buf(q->vq, len);
	spin_unlock_irqrestore(&q->lock, f);
	return b;
}

/* One frame starting with buffer b (used length len): checked, merged, handed up. */
static void rx_frame(struct vnet_rxq *q, void *b, uint32_t len)
{
	struct vnet *vn = q->vn;
	struct netdev *nd = &vn->nd;
	if (len < vn->hdr_len || len > RX_BUF) {
		kfree(b);
		netdev_rx_bad(nd, q->index);
		return;
	}
	struct vnet_hdr h;
	memcpy(&h, b, vn->hdr_len < sizeof(h) ? vn->hdr_len : sizeof(h));
	unsigned nbufs = vn->mrg ? h.num_buffers : 1;
	/* No GSO was negotiated, and checksum flags only with GUEST_CSUM (then only the two defined). */
	unsigned allowed = vn->rx_csum ? VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID : 0;
	if (nbufs == 0 || nbufs > MAX_MERGE || h.gso_type != VIRTIO_NET_HDR_GSO_NONE || (h.flags & ~allowed)) {
		kfree(b);
		netdev_rx_bad(nd, q->index);
		return;
	}
	size_t total = len - vn->hdr_len;
	memcpy(q->frame, (uint8_t *)b + vn->hdr_len, total);
	kfree(b);
	bool bad = false;
	for (unsigned i = 1; i < nbufs; i++) {
		uint32_t l;
		void *nb = rx_get(q, &l);
		if (!nb) {
			/* The device promised more buffers than it returned. */
			bad = true;
			break;
		}
		if (l > RX_BUF || total + l > MAX_FRAME)
			bad = true;
		else
			memcpy(q->frame + total, nb, l);
		total += l;
		kfree(nb);
	}
	if (bad)
		netdev_rx_bad(nd, q->index);
	else if (!vn->rx_csum)
		netdev_rx(nd, q->index, q->frame, total);
	else if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		netdev_rx_csum(nd, q->index, q->frame, total, NETDEV_CSUM_PARTIAL, h.csum_start, h.csum_offset);
	else
		netdev_rx_csum(nd, q->index, q->frame, total,
			       h.flags & VIRTIO_NET_HDR_F_DATA_VALID ? NETDEV_CSUM_VALID : NETDEV_CSUM_NONE, 0, 0);
}

static void rx_thread(void *arg)
{
	struct vnet_rxq *q = arg;
	for (;;) {
		wait_event(&q->wq, q->pending);
		q->pending = false;
		for (;;) {
			uint32_t len;
			void *b;
			while ((b = rx_get(q, &len)))
				rx_frame(q, b, len);
			uint64_t f = spin_lock_irqsave(&q->lock);
			rx_fill(q);
			bool idle = virtqueue_enable_cb(q->vq) || q->vq->broken;
			spin_unlock_irqrestore(&q->lock, f);
			if (idle)
				break;
		}
	}
}

static void rx_irq(struct virtqueue *vq)
{
	struct vnet *vn = vq->vdev->priv;
	struct vnet_rxq *q = &vn->rx[vq->index / 2];
	virtqueue_disable_cb(vq);
	q->pending = true;
	wake_up_one(&q->wq);
}

/* Completed sends are reclaimed when the next one is queued. txq locked. */
static void tx_reclaim(struct vnet_txq *q)
{
	uint32_t len;
	void *b;
	while ((b = virtqueue_get_buf(q->vq, &len)))
		kfree(b);
}

static void tx_irq(struct virtqueue *vq)
{
	virtqueue_disable_cb(vq);
}

/* Queues of pairs we do not use (and the control queue): nothing to do. */
static void idle_irq(struct virtqueue *vq)
{
	virtqueue_disable_cb(vq);
}

static int vnet_xmit(struct netdev *nd, unsigned qi, const void *frame, size_t len)
{
	struct vnet *vn = nd->priv;
	struct vnet_txq *q = &vn->tx[qi];
	uint8_t *b = kmalloc(vn->hdr_len + len);
	if (!b)
		return -ENOMEM;
	memset(b, 0, vn->hdr_len);
	memcpy(b + vn->hdr_len, frame, len);
	uint16_t start, off;
	if (vn->tx_csum && !netdev_tx_csum_tcp(b + vn->hdr_len, len, &start, &off)) {
		struct vnet_hdr *h = (struct vnet_hdr *)b;
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = start;
		h->csum_offset = off;
		nd->stats[qi].tx_csum_dev++;
	}
	struct vq_buf vb = { b, (uint32_t)(vn->hdr_len + len) };
	uint64_t f = spin_lock_irqsave(&q->lock);
	tx_reclaim(q);
	int r = virtqueue_add(q->vq, &vb, 1, 0, b);
	if (!r)
		virtqueue_kick(q->vq);
	spin_unlock_irqrestore(&q->lock, f);
	if (r) {
		kfree(b);
		return r == -ENOSPC ? -EBUSY : r;
	}
	return 0;
}

static const struct netdev_ops vnet_ops = { .xmit = vnet_xmit };

/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET on the control queue, polled (probe time,
 * before interrupts matter); the device must answer VIRTIO_NET_OK. */
static int set_pairs(struct virtqueue *cvq, uint16_t pairs)
{
	struct ctrl {
		uint8_t class, cmd;
		uint16_t pairs;
		uint8_t ack;
	} __attribute__((packed)) *c = kzalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->class = VIRTIO_NET_CTRL_MQ;
	c->cmd = VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
	c->pairs = pairs;
	c->ack = 0xff;
	struct vq_buf b[3] = { { &c->class, 2 }, { &c->pairs, 2 }, { &c->ack, 1 } };
	virtqueue_disable_cb(cvq);
	int r = virtqueue_add(cvq, b, 2, 1, c);
	if (!r) {
		virtqueue_kick(cvq);
		uint32_t len = 0;
		void *t = NULL;
		uint64_t deadline = clock_monotonic_ns() + 1000 * NSEC_PER_MSEC;
		while (!(t = virtqueue_get_buf(cvq, &len)) && clock_monotonic_ns() < deadline)
			clock_delay_us(50);
		/* The ack byte must have been written (len) and say OK. */
		r = t == c && len >= 1 && c->ack == VIRTIO_NET_OK ? 0 : -EIO;
		if (!t)
			return -ETIMEDOUT; /* the device still owns c: leak it rather than reuse */
	}
	kfree(c);
	return r;
}

static int vnet_probe(struct virtio_device *vdev)
{
	struct vnet *vn = kzalloc(sizeof(*vn));
	if (!vn)
		return -ENOMEM;
	vn->vdev = vdev;
	vdev->priv = vn;
	vn->mrg = virtio_has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF);
	vn->hdr_len = vn->mrg || virtio_has_feature(vdev, VIRTIO_F_VERSION_1) ? 12 : 10;
	vn->rx_csum = virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM);
	vn->tx_csum = virtio_has_feature(vdev, VIRTIO_NET_F_CSUM);

	struct netdev *nd = &vn->nd;
	if (virtio_has_feature(vdev, VIRTIO_NET_F_MAC)) {
		vdev->config->read_config(vdev, CFG_MAC, nd->mac, 6);
	} else {
		/* A locally administered address of our own. */
		nd->mac[0] = 0x02;
		nd->mac[5] = (uint8_t)vdev->index;
	}
	nd->mtu = 1500;
	if (virtio_has_feature(vdev, VIRTIO_NET_F_MTU)) {
		uint16_t mtu = virtio_cread(vdev, uint16_t, CFG_MTU);
		if (mtu >= 576 && mtu <= 1500)
			nd->mtu = mtu;
	}
	nd->link_up = !virtio_has_feature(vdev, VIRTIO_NET_F_STATUS) ||
		      (virtio_cread(vdev, uint16_t, CFG_STATUS) & VIRTIO_NET_S_LINK_UP);
	/* One queue pair per CPU when the device has several (MQ + control queue). */
	unsigned np = 1;
	bool mq = virtio_has_feature(vdev, VIRTIO_NET_F_MQ) && virtio_has_feature(vdev, VIRTIO_NET_F_CTRL_VQ);
	if (mq) {
		uint16_t max = virtio_cread(vdev, uint16_t, CFG_MAX_PAIRS);
		np = max < cpu_count() ? max : cpu_count();
		if (np > NETDEV_MAX_QUEUES)
			np = NETDEV_MAX_QUEUES;
		if (np == 0)
			np = 1;
	}
	struct virtqueue *vqs[2 * NETDEV_MAX_QUEUES + 1];
	vq_callback_t cbs[2 * NETDEV_MAX_QUEUES + 1];
	for (unsigned i = 0; i < np; i++) {
		cbs[2 * i] = rx_irq;
		cbs[2 * i + 1] = tx_irq;
	}
	/* The control queue comes after every queue pair the device has, not only the ones used. */
	unsigned nvq = 2 * np;
	if (mq) {
		uint16_t max = virtio_cread(vdev, uint16_t, CFG_MAX_PAIRS);
		if (max > NETDEV_MAX_QUEUES)
			mq = false, np = 1, nvq = 2; /* the control queue would be out of reach */
		else {
			for (unsigned i = 2 * np; i < 2u * max; i++)
				cbs[i] = idle_irq;
			nvq = 2 * max + 1;
			cbs[nvq - 1] = idle_irq;
		}
	}
	int r = vdev->config->find_vqs(vdev, nvq, vqs, cbs);
	if (r)
		goto fail;
	if (mq && np > 1 && (r = set_pairs(vqs[nvq - 1], (uint16_t)np))) {
		pr_warn("virtio%u: the device refused %u queue pairs; using one\n", vdev->index, np);
		np = 1;
	}
	for (unsigned i = 0; i < np; i++) {
		struct vnet_rxq *q = &vn->rx[i];
		q->vn = vn;
		q->index = i;
		q->vq = vqs[2 * i];
		spin_init(&q->lock);
		wait_queue_init(&q->wq);
		q->frame = kmalloc(MAX_FRAME);
		if (!q->frame) {
			r = -ENOMEM;
			goto fail;
		}
		vn->tx[i].vq = vqs[2 * i + 1];
		spin_init(&vn->tx[i].lock);
		virtqueue_disable_cb(vn->tx[i].vq);
		uint64_t f = spin_lock_irqsave(&q->lock);
		rx_fill(q);
		spin_unlock_irqrestore(&q->lock, f);
		struct thread *t = thread_create("vnet-rx", rx_thread, q);
		if (!t) {
			r = -ENOMEM;
			goto fail;
		}
		thread_detach(t);
	}
	nd->nqueues = np;
	nd->offload = (vn->rx_csum ? NETDEV_RX_CSUM_TCP : 0) | (vn->tx_csum ? NETDEV_TX_CSUM_TCP : 0);
	nd->ops = &vnet_ops;
	nd->priv = vn;
	return netdev_register(nd);
fail:
	vdev->priv = NULL;
	return r;
}

VIRTIO_DRIVER(virtio_net) = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |
		    VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) | VIRTIO_BIT(VIRTIO_NET_F_MQ),
	.probe = vnet_probe,
};
