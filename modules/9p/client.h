/* The 9p module's own interface between the client (client.c) and the VFS glue (fs.c). */
#ifndef NINEP_CLIENT_H
#define NINEP_CLIENT_H

#include <9p/9p.h>
#include <stddef.h>
#include <vfs/vfs.h>

#include <arch/spinlock.h>

/* The msize asked for: Tread/Twrite data go straight between the device and
 * the caller's buffer, so a large msize costs no memory, and fewer, larger
 * requests are what makes 9p fast. */
#define P9_MSIZE (512u * 1024u + 4096u)
/* Requests in flight per mount (tag = slot index), each with a request and a
 * reply buffer of P9_SLOT_BUF for everything but read/write data. */
#define P9_SLOTS 8
#define P9_SLOT_BUF (16u * 1024u)
/* Fids a mount may hold: one per server file it has looked up, for the
 * mount's life (see fs.c), plus open files. A bitmap of 128 KiB. */
#define P9_MAX_FIDS (1u << 20)
#define P9_DEFERRED_CLUNKS 64

struct p9_qid {
	uint8_t type;
	uint32_t version;
	uint64_t path;
};

struct p9_attr {
	struct p9_qid qid;
	uint32_t mode, uid, gid;
	uint64_t nlink, rdev, size;
	uint64_t atime_sec, atime_nsec, mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

struct p9_slot {
	struct p9_call call;
	uint8_t *req, *rep;
	struct wait_queue wq;
	bool lost;                /* in flight when the channel broke: never reused */
	uint8_t type;             /* Tread/Treaddir in flight: what was asked */
	uint32_t want;
};

struct p9_session {
	struct p9_trans *trans;
	uint32_t msize;
	bool dotu;                /* the server speaks 9P2000.u, not .L */
	struct p9_slot slots[P9_SLOTS];
	spinlock_t lock;          /* slot_free, fids, clunks */
	uint32_t slot_free;       /* bit i: slots[i] is free */
	struct wait_queue slot_wq;
	uint32_t fid_hint;
	uint64_t *fids;           /* P9_MAX_FIDS bits */
	uint32_t clunks[P9_DEFERRED_CLUNKS]; /* fids released where we could not wait */
	unsigned nclunks;
};

/* Building blocks of the requests (client.c, dotu.c): a slot with a
 * T-message of type begun; send it and check the reply (valid until end);
 * give the slot back. */
struct p9_slot *p9_req_start(struct p9_session *s, struct p9_msg *t, uint8_t type);
int p9_req_rpc(struct p9_session *s, struct p9_slot *sl, struct p9_msg *t, uint8_t type, struct p9_msg *r);
void p9_req_end(struct p9_session *s, struct p9_slot *sl);
/* The server has dropped fid (Tclunk, Tremove): it may be handed out again. */
void p9_fid_forget(struct p9_session *s, uint32_t fid);

/* Wait for replies by polling the transport even where a requester could
 * sleep (9p.poll=1; for measuring). */
extern bool p9_poll_replies;

/* A session on t with its buffers, not yet talking (NULL: no memory). */
struct p9_session *p9_session_new(struct p9_trans *t, uint32_t msize);
void p9_session_free(struct p9_session *s);
/* Tversion (9P2000.L, else 9P2000.u) and Tattach: 0 and *rootfid. */
int p9_session_start(struct p9_session *s, uint32_t *rootfid);
struct p9_trans *p9_trans_find(const char *tag, size_t len);
struct p9_session *p9_connect(struct p9_trans *t, uint32_t msize, uint32_t *rootfid);
/* Clunks fid now, or (where the caller cannot sleep) before the next request. */
void p9_clunk_later(struct p9_session *s, uint32_t fid);
int p9_fid_alloc(struct p9_session *s, uint32_t *fid);
int p9_clunk(struct p9_session *s, uint32_t fid);
/* Walk one name (or clone with name NULL) from fid to a new fid. */
int p9_walk(struct p9_session *s, uint32_t fid, const char *name, size_t len, uint32_t *newfid);
int p9_getattr(struct p9_session *s, uint32_t fid, struct p9_attr *a);
int p9_lopen(struct p9_session *s, uint32_t fid, uint32_t flags, uint32_t *iounit);
int p9_lcreate(struct p9_session *s, uint32_t fid, const char *name, size_t len, uint32_t flags, uint32_t mode);
int p9_mkdir(struct p9_session *s, uint32_t dfid, const char *name, size_t len, uint32_t mode);
int p9_symlink(struct p9_session *s, uint32_t dfid, const char *name, size_t len, const char *target);
int p9_link(struct p9_session *s, uint32_t dfid, uint32_t fid, const char *name, size_t len);
int p9_unlinkat(struct p9_session *s, uint32_t dfid, const char *name, size_t len, bool dir);
int p9_renameat(struct p9_session *s, uint32_t odfid, const char *on, size_t ol, uint32_t ndfid, const char *nn,
		size_t nl);
ssize_t p9_readlink(struct p9_session *s, uint32_t fid, char *buf, size_t size);
int p9_setsize(struct p9_session *s, uint32_t fid, uint64_t size);
int p9_fsync(struct p9_session *s, uint32_t fid);
uint32_t p9_io_max(struct p9_session *s);
/* Do reads and writes of buf go straight between the device and buf (up to
 * p9_io_max a request)? Otherwise through a slot, P9_SLOT_BUF at a time. */
bool p9_zero_copy(struct p9_session *s, const void *buf);
ssize_t p9_read(struct p9_session *s, uint32_t fid, uint64_t off, void *buf, uint32_t n);
/* p9_read in two halves, so that several reads can be in flight: start
 * returns the slot carrying it (NULL and *err on failure); end waits for the
 * reply, checks it and frees the slot. buf must stay valid in between. */
struct p9_slot *p9_read_start(struct p9_session *s, uint32_t fid, uint64_t off, void *buf, uint32_t n, int *err);
ssize_t p9_read_end(struct p9_session *s, struct p9_slot *slot, void *buf, uint32_t n);
struct p9_statfs {
	uint32_t type, bsize;
	uint64_t blocks, bfree, bavail, files, ffree, fsid;
	uint32_t namelen;
};
int p9_statfs(struct p9_session *s, uint32_t fid, struct p9_statfs *st);
int p9_mknod(struct p9_session *s, uint32_t dfid, const char *name, size_t len, uint32_t mode, uint32_t major,
	     uint32_t minor);
/* Tlock: type 0 read, 1 write, 2 unlock; returns the server's status (0
 * success, 1 blocked, 2 error, 3 grace) or -errno. */
struct p9_flock {
	uint8_t type;
	uint32_t flags;
	uint64_t start, length;
	uint32_t proc_id;
	const char *client_id;
};
int p9_lock(struct p9_session *s, uint32_t fid, const struct p9_flock *l);
/* Tgetlock: l in, the conflicting lock (or type 2, unlocked) out. */
int p9_getlock(struct p9_session *s, uint32_t fid, struct p9_flock *l);
ssize_t p9_write(struct p9_session *s, uint32_t fid, uint64_t off, const void *buf, uint32_t n);
/* One Treaddir from off into buf (cap bytes): *out holds the entries (.L
 * dirent encoding, also for 9P2000.u sessions). */
int p9_readdir(struct p9_session *s, uint32_t fid, uint64_t off, void *buf, uint32_t cap, struct p9_msg *out);

#endif
