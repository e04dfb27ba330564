/* The split ring against a fake device: this test writes the used ring the
 * way a broken or hostile device could, and the driver side must log and drop
 * what is wrong without crashing or handing back a wrong token. */
#include <selftest/selftest.h>
#include <virtio/virtio.h>
#include <lib/errno.h>

static unsigned notified;

static void fake_notify(struct virtqueue *vq)
{
	(void)vq;
	notified++;
}

static uint64_t fake_features(struct virtio_device *v)
{
	(void)v;
	return 0;
}

static const struct virtio_config_ops fake_ops = { .get_features = fake_features };

/* The device side: put (id, len) in the used ring. */
static void device_complete(struct virtqueue *vq, uint32_t id, uint32_t len)
{
	uint16_t idx = vq->used->idx;
	vq->used->ring[idx & (vq->num - 1)] = (struct vring_used_elem){ id, len };
	__atomic_store_n(&vq->used->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

/* The head descriptor of the request with this avail slot. */
static uint16_t head_of(struct virtqueue *vq, uint16_t slot)
{
	return vq->avail->ring[slot & (vq->num - 1)];
}

static void check_ring(struct selftest_ctx *ctx, uint64_t features)
{
	struct virtio_device vdev = { .id = 0, .features = features, .config = &fake_ops };
	struct virtqueue *vq = vring_new(&vdev, 0, 8, 64, fake_notify, NULL);
	ST_ASSERT(vq != NULL);
	static uint8_t hdr[16], data[512], status;
	struct vq_buf bufs[3] = { { hdr, sizeof(hdr) }, { data, sizeof(data) }, { &status, 1 } };
	int tok1, tok2, tok3;
	uint32_t len = 99;

	ST_ASSERT(virtqueue_add(vq, bufs, 1, 2, &tok1) == 0);
	ST_ASSERT(virtqueue_add(vq, bufs, 1, 2, &tok2) == 0);
	unsigned before = notified;
	virtqueue_kick(vq);
	ST_EXPECT(notified == before + 1);
	uint16_t h1 = head_of(vq, 0), h2 = head_of(vq, 1);

	/* An id past the ring: dropped. */
	device_complete(vq, 1000, 1);
	/* An id in range that is not a chain in flight: dropped. */
	uint16_t idle = 0;
	while (idle == h1 || idle == h2)
		idle++;
	device_complete(vq, idle, 1);
	/* A length past the buffers given (512 + 1 writable bytes): token back, length 0. */
	device_complete(vq, h1, 513 + 4096);
	ST_EXPECT(virtqueue_get_buf(vq, &len) == &tok1);
	ST_EXPECT_EQ(len, 0);
	ST_EXPECT_EQ(vq->bad_entries, 3);
	/* The same id again (already completed): dropped. */
	device_complete(vq, h1, 1);
	device_complete(vq, h2, 513);
	ST_EXPECT(virtqueue_get_buf(vq, &len) == &tok2);
	ST_EXPECT_EQ(len, 513);
	ST_EXPECT(virtqueue_get_buf(vq, &len) == NULL);
	ST_EXPECT_EQ(vq->bad_entries, 4);
	/* Every descriptor came back to the free list. */
	ST_EXPECT_EQ(vq->num_free, 8);
	ST_EXPECT(!vq->broken);

	/* The ring keeps working after the bad entries. */
	ST_ASSERT(virtqueue_add(vq, bufs, 1, 2, &tok3) == 0);
	device_complete(vq, head_of(vq, vq->avail_idx - 1), 1);
	ST_EXPECT(virtqueue_get_buf(vq, &len) == &tok3);
	ST_EXPECT_EQ(len, 1);

	/* A used index further ahead than the ring is long: the queue stops,
	 * nothing is handed back, adding fails cleanly. */
	ST_ASSERT(virtqueue_add(vq, bufs, 1, 2, &tok1) == 0);
	__atomic_store_n(&vq->used->idx, (uint16_t)(vq->used->idx + 100), __ATOMIC_RELEASE);
	ST_EXPECT(virtqueue_get_buf(vq, &len) == NULL);
	ST_EXPECT(vq->broken);
	ST_EXPECT(virtqueue_add(vq, bufs, 1, 2, &tok2) < 0);
	vring_free(vq);
}

SELFTEST(vring_bad_used, "virtio.vring_bad_used")
{
	check_ring(ctx, 0);
}

SELFTEST(vring_bad_used_indirect, "virtio.vring_bad_used_indirect")
{
	check_ring(ctx, VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
}

SELFTEST(vring_full, "virtio.vring_full")
{
	struct virtio_device vdev = { .config = &fake_ops };
	struct virtqueue *vq = vring_new(&vdev, 0, 4, 64, fake_notify, NULL);
	ST_ASSERT(vq != NULL);
	static uint8_t a[8], b[8];
	struct vq_buf bufs[2] = { { a, 8 }, { b, 8 } };
	int t;
	ST_EXPECT(virtqueue_add(vq, bufs, 1, 1, &t) == 0);
	ST_EXPECT(virtqueue_add(vq, bufs, 1, 1, &t) == 0);
	ST_EXPECT(virtqueue_add(vq, bufs, 1, 1, &t) == -ENOSPC);
	vring_free(vq);
}
