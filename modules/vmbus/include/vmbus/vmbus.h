/*
 * VMBus: the connection to the host (INITIATE_CONTACT with version
 * negotiation, channel offers), channels (open/close over a ring-buffer
 * GPADL, packets in and out), and GPADLs for buffers a driver shares with
 * the host. Drivers (netvsc, storvsc) register with VMBUS_DRIVER and are
 * probed for the offers whose interface type GUID they name.
 *
 * The protocol code is pure C (it also runs on the host against a simulated
 * VMBus host in the tests): everything that touches the hypervisor or the
 * scheduler goes through struct vmbus_ops, which the kernel's glue
 * (vmbus.c) fills with HvPostMessage, HvSignalEvent, the page allocator and
 * a wait queue. Everything the host hands back is checked.
 */
#ifndef VMBUS_VMBUS_H
#define VMBUS_VMBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lib/ktable.h>
#include <vmbus/proto.h>

struct vmbus_conn;
struct vmbus_channel;

struct vmbus_ops {
	/* HvPostMessage(conn_id, VMBUS_POST_MESSAGE_TYPE, msg): 0, -EAGAIN (busy) or -errno. */
	int (*post)(void *ctx, uint32_t conn_id, const void *msg, size_t len);
	/* HvSignalEvent(conn_id). */
	void (*signal)(void *ctx, uint32_t conn_id);
	uint64_t (*phys)(void *ctx, const void *va);
	/* Zeroed, page-aligned, physically contiguous; NULL when out of memory. */
	void *(*alloc)(void *ctx, size_t bytes);
	void (*free)(void *ctx, void *va, size_t bytes);
	/* Sleep until done(arg) (state changed by vmbus_conn_message and
	 * vmbus_channel_event, which run elsewhere), at most timeout_ms:
	 * 0 or -ETIMEDOUT. */
	int (*wait)(void *ctx, bool (*done)(void *arg), void *arg, unsigned timeout_ms);
	void *ctx;
};

/* Byte ring, one per direction (ring.c). */
struct vmbus_ring {
	struct hv_ring_buffer *hdr;
	uint8_t *data;
	uint32_t size; /* bytes in the data area */
};

struct vmbus_iov {
	const void *base;
	size_t len;
};

enum vmbus_chan_state {
	VMBUS_CHAN_OFFERED,
	VMBUS_CHAN_OPENING,
	VMBUS_CHAN_OPEN,
	VMBUS_CHAN_RESCINDED,
};

struct vmbus_channel {
	struct vmbus_conn *conn;
	uint32_t relid;
	uint32_t signal_id;        /* connection id HvSignalEvent names */
	uint8_t type[16];          /* interface type GUID (wire byte order) */
	uint8_t instance[16];
	uint16_t sub_index;
	volatile int state;        /* enum vmbus_chan_state */
	volatile int open_status;  /* OPENCHANNEL_RESULT's, or 1 while waiting */
	uint32_t ring_gpadl;
	void *ring_mem;
	size_t ring_bytes;
	struct vmbus_ring out, in; /* guest-to-host, host-to-guest */
	void (*callback)(struct vmbus_channel *ch, void *arg);
	void *cb_arg;
	volatile bool broken;      /* the inbound ring was corrupt: no more reads */
	volatile int out_lock;     /* senders on several CPUs share the outbound ring */
	uint64_t bad_packets;      /* malformed ring contents seen */
	void *driver_data;
};

#define VMBUS_MAX_CHANNELS 32

#define VMBUS_MAX_WAITERS 8

/* A request that a message from the host answers. */
struct vmbus_waiter {
	uint32_t msgtype; /* the answer's type; 0: slot free */
	uint32_t key;     /* relid or GPADL handle it must name */
	uint32_t relid;   /* and the channel (GPADL_CREATED) */
	volatile bool done;
	uint32_t status;
};

struct vmbus_conn {
	struct vmbus_ops ops;
	volatile int state;           /* 0 idle, 1 contacting, 2 connected, 3 offers done, -1 failed */
	uint32_t version;             /* negotiated */
	uint32_t msg_conn_id;         /* where channel messages go */
	volatile uint32_t answered_version; /* the version a VERSION_RESPONSE answered (0: none yet) */
	volatile int version_ok;
	void *monitor_pages;          /* two pages the host writes (we signal by hypercall) */
	void *interrupt_page;         /* before 5.0 */
	uint32_t next_gpadl;
	volatile int lock;
	struct vmbus_waiter waiters[VMBUS_MAX_WAITERS];
	struct vmbus_channel channels[VMBUS_MAX_CHANNELS];
	volatile unsigned nchannels;
	uint64_t bad_messages;        /* malformed or unexpected host messages */
};

/* --- connection (core.c) --- */
void vmbus_conn_init(struct vmbus_conn *c, const struct vmbus_ops *ops);
/* INITIATE_CONTACT from the newest version down; REQUESTOFFERS; wait for
 * ALLOFFERS_DELIVERED. 0, -EPROTONOSUPPORT (no common version) or -errno. */
int vmbus_connect(struct vmbus_conn *c, unsigned timeout_ms);
/* A message from the host (the SynIC slot's payload, len <= 240): checked,
 * then applied. Returns 0, or -EINVAL for a malformed/unexpected one (counted). */
int vmbus_conn_message(struct vmbus_conn *c, const void *msg, size_t len);
/* The host signalled relid: run its callback (inbound interrupts masked
 * meanwhile, and again while packets keep arriving). */
void vmbus_conn_event(struct vmbus_conn *c, uint32_t relid);
struct vmbus_channel *vmbus_find_channel(struct vmbus_conn *c, uint32_t relid);
/* The versions tried, newest first, 0-terminated. */
extern const uint32_t vmbus_versions[];

/* --- channels --- */
/* Open with ring buffers of ring_bytes each way (a multiple of the page
 * size, header page included); cb runs for every host signal. */
int vmbus_open(struct vmbus_channel *ch, size_t ring_bytes, const void *user, size_t user_len,
	       void (*cb)(struct vmbus_channel *, void *), void *arg, unsigned timeout_ms);
void vmbus_close(struct vmbus_channel *ch, unsigned timeout_ms);
/* Share len bytes at buf (page-aligned, physically contiguous) with the host. */
int vmbus_gpadl_create(struct vmbus_channel *ch, void *buf, size_t len, uint32_t *handle, unsigned timeout_ms);
int vmbus_gpadl_teardown(struct vmbus_channel *ch, uint32_t handle, unsigned timeout_ms);
/* Packets (any thread; not from interrupts). 0, -EAGAIN when the ring is
 * full, -ENOTCONN, -EMSGSIZE. */
int vmbus_send(struct vmbus_channel *ch, uint16_t type, uint16_t flags, uint64_t trans_id, const void *data,
	       size_t len);
/* A VM_PKT_DATA_USING_GPA_DIRECT packet: data (the request) plus one range
 * of guest memory buf/buflen (physically contiguous) the host reads or writes. */
int vmbus_send_gpa(struct vmbus_channel *ch, uint64_t trans_id, const void *data, size_t len, void *buf,
		   size_t buflen);
/* The next packet from the host, whole (descriptor first), into buf.
 * Returns its length, 0 when the ring is empty, -EMSGSIZE for a packet
 * larger than buflen (skipped; its descriptor is in buf when buflen >= 16,
 * so it can still be answered), -EIO for a corrupt ring (the channel stops
 * reading). Descriptor fields are checked against the packet. */
int vmbus_recv(struct vmbus_channel *ch, void *buf, size_t buflen);

/* --- rings (ring.c), exposed for the tests --- */
int vmbus_ring_init(struct vmbus_ring *r, void *mem, size_t bytes);
int vmbus_ring_write(struct vmbus_ring *r, const struct vmbus_iov *iov, unsigned n, bool *signal);
int vmbus_ring_read(struct vmbus_ring *r, void *buf, size_t buflen, bool *signal);
uint32_t vmbus_ring_avail_read(const struct vmbus_ring *r);

/* GUIDs: the text form's first three fields are little-endian on the wire. */
#define VMBUS_GUID(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)                                          \
	{ (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff, (b) & 0xff, ((b) >> 8) & 0xff, \
	  (c) & 0xff, ((c) >> 8) & 0xff, d0, d1, d2, d3, d4, d5, d6, d7 }

/* --- drivers (kernel) --- */
struct vmbus_driver {
	const char *name;
	const uint8_t *type;  /* 16-byte interface type GUID */
	int (*probe)(struct vmbus_channel *ch);
	void *reserved;
};
KTABLE_DECLARE(struct vmbus_driver, vmbus_driver);
#define VMBUS_DRIVER(ident) KTABLE_ENTRY(struct vmbus_driver, vmbus_driver, 5, __vmbus_driver_##ident)

#endif
