/*
 * virtio core (modelled on Linux's drivers/virtio): devices found by a
 * transport (virtio_pci, virtio_mmio) are registered here, features are
 * negotiated and the VIRTIO_DRIVER entry for the device id is probed. Drivers
 * use only this header: virtqueues, config space and status go through the
 * transport's virtio_config_ops, so a driver never knows which transport it is on.
 */
#ifndef VIRTIO_VIRTIO_H
#define VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lib/ktable.h>

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Device-independent feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* Device ids. */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_9P 9

#define VIRTIO_BIT(b) (1ull << (b))

struct virtio_device;
struct virtqueue;
typedef void (*vq_callback_t)(struct virtqueue *vq);

/* What a transport provides. */
struct virtio_config_ops {
	uint8_t (*get_status)(struct virtio_device *vdev);
	void (*set_status)(struct virtio_device *vdev, uint8_t status);
	void (*reset)(struct virtio_device *vdev);
	uint64_t (*get_features)(struct virtio_device *vdev);
	void (*set_features)(struct virtio_device *vdev, uint64_t features);
	/* Device-specific configuration space (little-endian fields). */
	void (*read_config)(struct virtio_device *vdev, unsigned off, void *buf, unsigned len);
	void (*write_config)(struct virtio_device *vdev, unsigned off, const void *buf, unsigned len);
	/* Number of virtqueues the device has (0 when the transport cannot tell). */
	unsigned (*max_vqs)(struct virtio_device *vdev);
	/* Create virtqueues 0..n-1 with an interrupt each where the transport
	 * can (MSI-X), shared otherwise; cbs[i] runs in interrupt context. */
	int (*find_vqs)(struct virtio_device *vdev, unsigned n, struct virtqueue *vqs[], const vq_callback_t cbs[]);
};

struct virtio_device {
	uint32_t id;              /* VIRTIO_ID_* */
	uint64_t features;        /* negotiated */
	bool legacy;              /* pre-1.0 transport (no VERSION_1) */
	unsigned index;           /* virtio<index> */
	const struct virtio_config_ops *config;
	const struct virtio_driver *driver;
	void *transport;          /* the transport's */
	void *priv;               /* the driver's */
};

struct virtio_driver {
	const char *name;
	uint32_t device_id;
	uint64_t features;        /* device-specific features the driver understands */
	/* Called with the features negotiated (vdev->features), before DRIVER_OK. */
	int (*probe)(struct virtio_device *vdev);
};
KTABLE_DECLARE(struct virtio_driver, virtio_driver);
#define VIRTIO_DRIVER(ident) KTABLE_ENTRY(struct virtio_driver, virtio_driver, 5, __virtio_driver_##ident)

static inline bool virtio_has_feature(const struct virtio_device *vdev, unsigned bit)
{
	return vdev->features & VIRTIO_BIT(bit);
}

/* Transports: hand over a device; the core negotiates features, probes the
 * matching driver and sets DRIVER_OK (or FAILED). 0 when a driver took it. */
int virtio_register_device(struct virtio_device *vdev);

/* Read a config field (handles legacy/modern the same: little-endian). */
#define virtio_cread(vdev, type, off)                                    \
	({                                                               \
		type __v;                                                \
		(vdev)->config->read_config((vdev), (off), &__v, sizeof(__v)); \
		__v;                                                     \
	})

/* --- split virtqueues --- */

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* then used_event */
};
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};
struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[]; /* then avail_event */
};
#define VRING_USED_F_NO_NOTIFY 1

/* One buffer of a request: kernel memory, physically contiguous. */
struct vq_buf {
	void *addr;
	uint32_t len;
};

struct vq_state;
struct virtqueue {
	struct virtio_device *vdev;
	unsigned index;
	unsigned num;                  /* ring size (power of two) */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t desc_pa, avail_pa, used_pa;
	uint16_t free_head, num_free;
	uint16_t avail_idx;            /* next avail index we publish */
	uint16_t last_used;            /* next used entry we read */
	uint16_t kicked_idx;           /* avail_idx at the last notification decision */
	bool event_idx, indirect;
	bool broken;                   /* the device broke the ring protocol */
	uint64_t bad_entries;          /* used entries dropped as invalid */
	struct vq_state *state;        /* per head descriptor: token, lengths */
	vq_callback_t callback;
	void (*notify)(struct virtqueue *vq); /* the transport's doorbell */
	void *transport;               /* the transport's (notify address...) */
	void *priv;                    /* the driver's */
	void *mem;                     /* the ring pages */
	unsigned mem_order;
};

/* Ring memory size for num entries with the used ring aligned to align bytes
 * (legacy layout: one block, used ring at an aligned offset). */
size_t vring_size(unsigned num, unsigned align);
/* A virtqueue of num entries (rings zeroed, physically contiguous below 4 GiB). */
struct virtqueue *vring_new(struct virtio_device *vdev, unsigned index, unsigned num, unsigned align,
			    void (*notify)(struct virtqueue *vq), vq_callback_t cb);
void vring_free(struct virtqueue *vq);

/* Queue a request: out[] the device reads, then in[] it writes. 0, or -ENOSPC
 * when the ring is full, -EIO when the queue is broken. The caller serialises
 * calls on one queue (and against its interrupt). */
int virtqueue_add(struct virtqueue *vq, const struct vq_buf *bufs, unsigned nout, unsigned nin, void *token);
/* Tell the device about what was added, when it asked to be told. */
void virtqueue_kick(struct virtqueue *vq);
/* The next completed request's token, NULL when none. *len is what the device
 * says it wrote; entries with an id out of range or not in flight are logged
 * and skipped; a length past the buffers given is logged and reported as 0. */
void *virtqueue_get_buf(struct virtqueue *vq, uint32_t *len);
/* Interrupts on/off for this queue; enable returns false when completions
 * arrived meanwhile (poll again). */
bool virtqueue_enable_cb(struct virtqueue *vq);
void virtqueue_disable_cb(struct virtqueue *vq);
/* Transports call this from the queue's interrupt. */
void vring_interrupt(struct virtqueue *vq);

#endif
