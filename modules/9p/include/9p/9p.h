/*
 * 9P2000.L client (9P2000.u where the server refuses .L). Transports
 * (virtio_9p) register a channel with a mount tag; the client mounts it through the VFS where the kernel command line
 * says (9p.mount=TAG:/path[:ro]). Messages are checked against the request
 * (type, tag) and the negotiated msize before anything in them is used.
 */
#ifndef NINEP_9P_H
#define NINEP_9P_H

#include <stdbool.h>
#include <stdint.h>
#include <sched/wait.h>

#define P9_TAG_MAX 64
#define P9_CALL_BUFS 4

/* One buffer of a request: kernel memory, physically contiguous (the direct map). */
struct p9_buf {
	void *addr;
	uint32_t len;
};

/* A request on its way: bufs[0..nout) the device reads, then nin it writes
 * (the reply's header first, zero-copy data after). The transport calls
 * p9_call_done() when the device has answered (usually in interrupt context). */
struct p9_call {
	struct p9_buf bufs[P9_CALL_BUFS];
	unsigned nout, nin;
	uint32_t got;            /* what the device says it wrote */
	volatile bool done;
	struct wait_queue *wq;   /* woken on completion (lives as long as the session) */
};

struct p9_trans {
	char tag[P9_TAG_MAX];         /* mount tag, NUL-terminated */
	uint32_t max_msize;           /* largest message the channel carries */
	/* Queue c: 0, -EAGAIN when the channel is full, or another -errno. */
	int (*submit)(struct p9_trans *t, struct p9_call *c);
	/* Complete what the device has answered (for callers that cannot sleep). */
	void (*poll)(struct p9_trans *t);
	/* The device broke the protocol: nothing in flight will complete. */
	bool (*broken)(struct p9_trans *t);
	void *priv;
	struct p9_trans *next;
};

void p9_trans_register(struct p9_trans *t);
/* The transport's completion: records got and wakes the requester. */
void p9_call_done(struct p9_call *c, uint32_t got);

/* Message types (9P2000.L). */
enum {
	P9_RLERROR = 7,
	P9_TSTATFS = 8,
	P9_TLOPEN = 12,
	P9_TLCREATE = 14,
	P9_TSYMLINK = 16,
	P9_TMKNOD = 18,
	P9_TREADLINK = 22,
	P9_TGETATTR = 24,
	P9_TSETATTR = 26,
	P9_TREADDIR = 40,
	P9_TFSYNC = 50,
	P9_TLOCK = 52,
	P9_TGETLOCK = 54,
	P9_TLINK = 70,
	P9_TMKDIR = 72,
	P9_TRENAMEAT = 74,
	P9_TUNLINKAT = 76,
	P9_TVERSION = 100,
	P9_TATTACH = 104,
	P9_TWALK = 110,
	P9_TREAD = 116,
	P9_TWRITE = 118,
	P9_TCLUNK = 120,
	/* 9P2000(.u) only */
	P9_RERROR = 107,
	P9_TOPEN = 112,
	P9_TCREATE = 114,
	P9_TREMOVE = 122,
	P9_TSTAT = 124,
	P9_TWSTAT = 126,
};

#define P9_NOTAG 0xffffu
#define P9_NOFID 0xffffffffu
#define P9_HDR 7u /* size[4] type[1] tag[2] */

/* A reply being read: every get checks the bounds; err sticks. */
struct p9_msg {
	uint8_t *buf;
	uint32_t len, off;
	bool err;
};

uint8_t p9_get8(struct p9_msg *m);
uint16_t p9_get16(struct p9_msg *m);
uint32_t p9_get32(struct p9_msg *m);
uint64_t p9_get64(struct p9_msg *m);
/* A string: points into the message (not terminated); *len its length. */
const char *p9_getstr(struct p9_msg *m, uint16_t *len);
void p9_put8(struct p9_msg *m, uint8_t v);
void p9_put16(struct p9_msg *m, uint16_t v);
void p9_put32(struct p9_msg *m, uint32_t v);
void p9_put64(struct p9_msg *m, uint64_t v);
void p9_putstr(struct p9_msg *m, const char *s, uint32_t len);
void p9_putdata(struct p9_msg *m, const void *data, uint32_t len);

/* Starts a T-message of type with tag (size filled by p9_finish). */
void p9_begin(struct p9_msg *m, uint8_t *buf, uint32_t cap, uint8_t type, uint16_t tag);
uint32_t p9_finish(struct p9_msg *m);
/* Checks a reply of got bytes against the request type and tag and msize:
 * 0 and m positioned after the header, -errno from Rlerror, or -EIO. */
int p9_check_reply(struct p9_msg *m, uint8_t *buf, uint32_t got, uint32_t msize, uint8_t ttype, uint16_t tag);
/* The same for a reply whose header went to hdr (hdrlen bytes) and the rest
 * to a caller's buffer (zero-copy): *size the whole reply's size. */
int p9_check_reply_split(struct p9_msg *m, uint8_t *hdr, uint32_t hdrlen, uint32_t got, uint32_t msize,
			 uint8_t ttype, uint16_t tag, uint32_t *size);

#endif
