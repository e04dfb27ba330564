/* 9P2000.u (the Unix extension of 9P2000, spoken by novm-style hosts): the
 * requests whose encoding differs from 9P2000.L. client.c calls these when
 * the server refused .L; they take and give the same shapes as the .L ones. */
#ifndef NINEP_DOTU_H
#define NINEP_DOTU_H

#include "client.h"

#define P9U_DMDIR 0x80000000u
#define P9U_DMSYMLINK 0x02000000u
#define P9U_DMLINK 0x01000000u
#define P9U_DMDEVICE 0x00800000u
#define P9U_DMNAMEDPIPE 0x00200000u
#define P9U_DMSOCKET 0x00100000u
#define P9U_DMSETUID 0x00080000u
#define P9U_DMSETGID 0x00040000u
#define P9U_DMSETVTX 0x00010000u

/* Topen/Tcreate's mode byte for Linux O_* flags. */
uint8_t p9u_open_mode(uint32_t flags);
/* A stat structure (size[2] ... n_muid[4]) at m's position into a (the
 * extension, a symlink's target, into link/linkcap when link is not NULL:
 * *linklen its length). 0 or -EIO. */
int p9u_parse_stat(struct p9_msg *m, struct p9_attr *a, char *link, size_t linkcap, size_t *linklen);
/* Encodes a stat that changes only what is given (name when nlen > 0, the
 * length when length != ~0): everything else "don't touch". */
void p9u_put_wstat(struct p9_msg *t, const char *name, size_t nlen, uint64_t length);
/* Rewrites n bytes of stat entries read from a directory at off into .L
 * Rreaddir entries (qid offset type name) in place; the new length, or -EIO. */
int p9u_dir_to_dirents(uint8_t *buf, uint32_t n, uint64_t off);

/* Tstat: attributes; with link, the extension (symlink target) is copied
 * there and its length returned. */
ssize_t p9u_stat(struct p9_session *s, uint32_t fid, struct p9_attr *a, char *link, size_t linkcap);
/* Tcreate on fid (which then is the new, open file). */
int p9u_create(struct p9_session *s, uint32_t fid, const char *name, size_t len, uint32_t perm, uint8_t mode,
	       const char *ext);
/* Tcreate in directory dfid through a clone that is clunked after. */
int p9u_create_in(struct p9_session *s, uint32_t dfid, const char *name, size_t len, uint32_t perm, const char *ext);
int p9u_mknod(struct p9_session *s, uint32_t dfid, const char *name, size_t len, uint32_t mode, uint32_t major,
	      uint32_t minor);
int p9u_link(struct p9_session *s, uint32_t dfid, uint32_t fid, const char *name, size_t len);
int p9u_remove(struct p9_session *s, uint32_t dfid, const char *name, size_t len);
int p9u_rename(struct p9_session *s, uint32_t odfid, const char *on, size_t ol, uint32_t ndfid, const char *nn,
	       size_t nl);
int p9u_wstat(struct p9_session *s, uint32_t fid, const char *name, size_t nlen, uint64_t length);
int p9u_readdir(struct p9_session *s, uint32_t fid, uint64_t off, void *buf, uint32_t cap, struct p9_msg *out);

#endif
