/* The 9p module's own interface between the client (client.c) and the VFS glue (fs.c). */
#ifndef NINEP_CLIENT_H
#define NINEP_CLIENT_H

#include <9p/9p.h>
#include <stddef.h>
#include <vfs/vfs.h>

#define P9_MSIZE (128u * 1024u + 4096u)
/* Fids a mount may hold: one per server file it has looked up, for the
 * mount's life (see fs.c), plus open files. A bitmap of 128 KiB. */
#define P9_MAX_FIDS (1u << 20)

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

struct p9_session {
	struct p9_trans *trans;
	uint32_t msize;
	unsigned order;
	uint8_t *req, *rep;
	uint16_t tag;
	uint32_t fid_hint;
	uint64_t *fids;           /* P9_MAX_FIDS bits */
};

struct p9_trans *p9_trans_find(const char *tag, size_t len);
struct p9_session *p9_connect(struct p9_trans *t, uint32_t *rootfid);
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
ssize_t p9_read(struct p9_session *s, uint32_t fid, uint64_t off, void *buf, uint32_t n);
ssize_t p9_write(struct p9_session *s, uint32_t fid, uint64_t off, const void *buf, uint32_t n);
/* One Treaddir from off: *out holds the entries (count bytes). */
int p9_readdir(struct p9_session *s, uint32_t fid, uint64_t off, struct p9_msg *out);

#endif
