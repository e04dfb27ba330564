/*
 * The ZFS reader's insides, in OpenZFS's layers: spa (labels, uberblocks,
 * block pointers: DVAs, checksums, decompression, a cache of decoded
 * blocks), dmu (dnodes, object sets, indirect blocks), zap (micro and fat),
 * znode (ZPL attributes from znode_phys_t or system attributes) and fs (the
 * VFS glue). Everything read from the disk is untrusted: each length and
 * index is checked before use and a failure is a negative errno, never a
 * crash. The parsers (nvlist, cksum, decomp, zap leaves) take plain buffers
 * so the self-tests can feed them corrupt input.
 *
 * Write support would add, beside these: a txg (open/quiescing/syncing) in
 * struct zfs_pool, a dirty-block list per txg, an allocator over the
 * metaslab space maps (spa_alloc), and uberblock/label writes; the read
 * path here is the one a writer reads back through.
 */
#ifndef ZFS_IMPL_H
#define ZFS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sched/mutex.h>

struct blk_dev;

/* --- on-disk constants (OpenZFS names) --- */
#define VDEV_LABEL_SIZE (256u * 1024)
#define VDEV_PHYS_OFFSET (16u * 1024)
#define VDEV_PHYS_SIZE (112u * 1024)
#define VDEV_UB_RING_OFFSET (128u * 1024)
#define VDEV_UB_RING_SIZE (128u * 1024)
#define VDEV_LABEL_START (4u * 1024 * 1024) /* 2 labels + 3.5 MiB boot region */
#define UBERBLOCK_MAGIC 0x00bab10cULL
#define ZEC_MAGIC 0x210da7ab10c7a11ULL
#define SPA_VERSION_MAX 5000
#define ZFS_MAX_BLOCK (1u << 20) /* largest logical block we decode (recordsize <= 1 MiB) */
#define ZFS_MAX_LEVELS 10        /* indirect levels: 2^64 blocks need fewer than 9 */

enum { ZIO_CKSUM_OFF = 2, ZIO_CKSUM_LABEL = 3, ZIO_CKSUM_FLETCHER2 = 6, ZIO_CKSUM_FLETCHER4 = 7,
       ZIO_CKSUM_SHA256 = 8 };
enum { ZIO_COMP_OFF = 2, ZIO_COMP_LZJB = 3, ZIO_COMP_EMPTY = 4, ZIO_COMP_LZ4 = 15 };

enum {
	DMU_OT_OBJECT_DIRECTORY = 1,
	DMU_OT_DNODE = 10,
	DMU_OT_OBJSET = 11,
	DMU_OT_DSL_DIR = 12,
	DMU_OT_DSL_DATASET = 16,
	DMU_OT_ZNODE = 17,
	DMU_OT_PLAIN_FILE = 19,
	DMU_OT_DIRECTORY = 20,
	DMU_OT_MASTER_NODE = 21,
	DMU_OT_SA = 44,
};

/* --- nvlist (XDR, as in vdev labels) --- */
enum { NV_UINT64 = 8, NV_STRING = 9, NV_NVLIST = 19, NV_NVLIST_ARRAY = 20 };
struct nvl {
	const uint8_t *p; /* at nvl_version; runs to end */
	const uint8_t *end;
};
/* The packed stream (4-byte header, then the list): its top-level list. */
int nvl_open(const void *buf, size_t len, struct nvl *out);
int nvl_u64(const struct nvl *l, const char *name, uint64_t *out);
/* The string is not terminated: *s and *len. */
int nvl_str(const struct nvl *l, const char *name, const char **s, size_t *len);
int nvl_list(const struct nvl *l, const char *name, struct nvl *out);
/* The i-th list of an nvlist array. */
int nvl_array(const struct nvl *l, const char *name, uint32_t i, struct nvl *out);

/* --- checksums --- */
struct zio_cksum {
	uint64_t w[4];
};
void fletcher2(const void *buf, size_t len, struct zio_cksum *out);
void fletcher4(const void *buf, size_t len, struct zio_cksum *out);
void zfs_sha256(const void *buf, size_t len, struct zio_cksum *out);
/* Checksum type t of buf; -ENOTSUP for a type we do not compute. */
int zio_checksum(unsigned t, const void *buf, size_t len, struct zio_cksum *out);
/* Label-style embedded checksum (SHA-256 with the block's offset as verifier). */
bool label_cksum_ok(void *buf, size_t len, uint64_t offset);

/* --- decompression: 0 when exactly dlen bytes came out, else -EIO --- */
int lz4_zfs_decompress(const void *src, size_t slen, void *dst, size_t dlen);
int lzjb_decompress(const void *src, size_t slen, void *dst, size_t dlen);
int zio_decompress(unsigned comp, const void *src, size_t slen, void *dst, size_t dlen);

/* --- block pointers --- */
struct blkptr {
	uint64_t dva[6];
	uint64_t prop;
	uint64_t pad[2];
	uint64_t phys_birth, birth, fill;
	struct zio_cksum cksum;
};
_Static_assert(sizeof(struct blkptr) == 128, "blkptr_t is 128 bytes");

#define BF64(x, low, len) (((x) >> (low)) & ((1ULL << (len)) - 1))
#define BP_EMBEDDED(bp) BF64((bp)->prop, 39, 1)
#define BP_LSIZE(bp) ((BF64((bp)->prop, 0, 16) + 1) << 9)
#define BP_PSIZE(bp) ((BF64((bp)->prop, 16, 16) + 1) << 9)
#define BPE_LSIZE(bp) (BF64((bp)->prop, 0, 25) + 1)
#define BPE_PSIZE(bp) (BF64((bp)->prop, 25, 7) + 1)
#define BPE_ETYPE(bp) BF64((bp)->prop, 40, 8)
#define BP_COMP(bp) BF64((bp)->prop, 32, 7)
#define BP_CKSUM(bp) BF64((bp)->prop, 40, 8)
#define BP_TYPE(bp) BF64((bp)->prop, 48, 8)
#define BP_LEVEL(bp) BF64((bp)->prop, 56, 5)
#define BP_CRYPT(bp) BF64((bp)->prop, 61, 1)
#define BP_DEDUP(bp) BF64((bp)->prop, 62, 1)
#define BP_LITTLE(bp) BF64((bp)->prop, 63, 1)
#define DVA_VDEV(d) BF64((d)[0], 32, 24)
#define DVA_ASIZE(d) (BF64((d)[0], 0, 24) << 9)
#define DVA_OFFSET(d) (BF64((d)[1], 0, 63) << 9)
#define DVA_GANG(d) BF64((d)[1], 63, 1)
static inline bool dva_empty(const uint64_t *d) { return d[0] == 0 && d[1] == 0; }
static inline bool bp_hole(const struct blkptr *bp) { return !BP_EMBEDDED(bp) && dva_empty(&bp->dva[0]); }
/* Logical size of what bp describes (holes: their recorded size, may be 0). */
uint64_t bp_lsize(const struct blkptr *bp);

/* Copy the payload of an embedded bp (data in the bp itself). */
int bp_embedded_payload(const struct blkptr *bp, void *dst, size_t cap);

/* --- the pool --- */
struct zcache_ent;

struct zfs_pool {
	struct blk_dev *dev;
	char name[64];
	uint64_t guid, txg, ashift;
	uint64_t dev_bytes;      /* usable size (a multiple of the label size) */
	struct blkptr rootbp;    /* the MOS, from the chosen uberblock */
	struct mutex lock;       /* the block cache and every read below */
	struct zcache_ent *cache;
	unsigned cache_n;
	size_t cache_bytes;
	uint64_t cache_clock;
	/* Future writes: the open txg, allocation classes and dirty lists go here. */
};

/* A decoded block, shared from the cache: hold while using data. */
struct zbuf {
	void *data;
	size_t size;
};
/* Open the pool on dev (labels, best uberblock). what names the device in errors. */
int spa_open(struct blk_dev *dev, struct zfs_pool *zp);
/* Read and verify bp into a cached decoded buffer (held: release with zbuf_put).
 * obj names the object in the log line of a checksum failure. */
int zio_read(struct zfs_pool *zp, const struct blkptr *bp, const char *what, uint64_t obj, struct zbuf **out);
void zbuf_put(struct zfs_pool *zp, struct zbuf *zb);
/* A zero-filled block of size (holes). */
int zio_zero(struct zfs_pool *zp, size_t size, struct zbuf **out);
/* Pick the uberblock: highest txg with a good checksum over the ring. Host-free
 * core for the self-tests: ring of n slots of size slot at device offset base. */
int ub_select(const uint8_t *ring, size_t ringlen, unsigned slot_shift, uint64_t base, uint64_t *best_txg,
	      const uint8_t **best);

/* --- dnodes and object sets --- */
struct dnode_phys {
	uint8_t type, indblkshift, nlevels, nblkptr, bonustype, checksum, compress, flags;
	uint16_t datablkszsec, bonuslen;
	uint8_t extra_slots, pad[3];
	uint64_t maxblkid, used;
	uint64_t pad2[4];
	struct blkptr bp[3];
	uint8_t tail[64]; /* bonus tail / spill for 512-byte dnodes */
};
_Static_assert(sizeof(struct dnode_phys) == 512, "dnode_phys_t is 512 bytes");
#define DNODE_FLAG_SPILL_BLKPTR 4

struct dnode {
	uint64_t obj;
	struct objset *os;
	struct dnode_phys phys;   /* the first 512 bytes */
	uint8_t *bonus;           /* bonuslen bytes (kmalloc'd, may span slots) */
	size_t bonuslen;
	struct blkptr spill;      /* valid when has_spill */
	bool has_spill;
	uint32_t blksz;
};

struct objset {
	struct zfs_pool *zp;
	struct dnode meta;        /* the object set's dnode of dnodes */
	uint64_t type;
	const char *what;         /* "MOS", "dataset" */
};

int objset_open(struct zfs_pool *zp, const struct blkptr *bp, const char *what, struct objset *os);
/* Dnode obj of os (bonus copied). */
int dnode_get(struct objset *os, uint64_t obj, struct dnode *dn);
void dnode_release(struct dnode *dn);
/* Logical block blkid of dn (decoded, held; a hole reads as a zeroed buffer). */
int dnode_block(struct dnode *dn, uint64_t blkid, struct zbuf **out);
/* Read len bytes at off (beyond the data: zeros). */
int dnode_read(struct dnode *dn, uint64_t off, void *buf, size_t len);
/* The dnode array's slot-walk core (tests): find dnode slot i in a dnode block. */
int dnode_parse(const uint8_t *blk, size_t blklen, size_t slot, struct dnode *dn);

/* --- ZAP --- */
#define ZBT_LEAF ((1ULL << 63) + 0)
#define ZBT_HEADER ((1ULL << 63) + 1)
#define ZBT_MICRO ((1ULL << 63) + 3)
#define ZAP_MAGIC 0x2F52AB2ABULL
#define ZAP_NAME_MAX 256

struct zap_ent {
	char name[ZAP_NAME_MAX + 1];
	size_t namelen;
	uint64_t value;    /* the first integer */
	unsigned intlen;   /* 1, 2, 4 or 8 */
	uint64_t numints;
};
/* Look name up in a ZAP object: value integers (up to cap of intlen each, as
 * host integers) into vals; *n their count. */
int zap_lookup_ints(struct dnode *dn, const char *name, size_t len, unsigned intlen, uint64_t *vals, size_t cap,
		    size_t *n);
int zap_lookup(struct dnode *dn, const char *name, size_t len, uint64_t *value);
/* Call fn for each entry (stopping when it returns nonzero; that value is returned). */
typedef int (*zap_iter_fn)(void *arg, const struct zap_ent *e);
int zap_iterate(struct dnode *dn, zap_iter_fn fn, void *arg);
/* The parsers on one block (tests). */
int mzap_block_lookup(const uint8_t *blk, size_t len, const char *name, size_t nlen, uint64_t *value);
int fzap_leaf_lookup(const uint8_t *blk, size_t len, uint64_t hash, const char *name, size_t nlen,
		     unsigned intlen, uint64_t *vals, size_t cap, size_t *n);
int fzap_leaf_iterate(const uint8_t *blk, size_t len, zap_iter_fn fn, void *arg);
uint64_t zap_hash(uint64_t salt, const char *name, size_t len, unsigned hashbits);

/* --- ZPL --- */
struct zfs_sa; /* the dataset's SA registry and layouts */

struct zattr {
	uint64_t mode, size, links, uid, gid, rdev, parent;
	uint64_t atime[2], mtime[2], ctime[2];
	/* Symlinks: where the target is. */
	const uint8_t *link;    /* inside the dnode's bonus/spill copy, or NULL: in the data */
	size_t linklen;
};
struct zfs_fs {
	struct zfs_pool *zp;
	struct objset os;
	uint64_t root_obj, version;
	struct zfs_sa *sa;      /* NULL: ZPL v4 znode_phys_t */
	uint8_t *spillbuf;      /* a spill block's copy for the last znode_attrs */
};
int zfs_fs_open(struct zfs_pool *zp, struct zfs_fs *fs);
int znode_attrs(struct zfs_fs *fs, struct dnode *dn, struct zattr *za);
/* SA parsing core (tests): attributes of one SA buffer. */
int sa_parse_buf(struct zfs_sa *sa, const uint8_t *buf, size_t len, struct zattr *za, bool *need_spill);
struct zfs_sa *sa_new_for_test(void);
void sa_set_attr_for_test(struct zfs_sa *sa, unsigned num, const char *name, unsigned len);
void sa_set_layout_for_test(struct zfs_sa *sa, unsigned layout, const uint16_t *attrs, unsigned n);

/* Log helper: one line naming the pool and the thing that failed. */
#define zfs_err(zp, fmt, ...) pr_err("zfs: %s: " fmt "\n", (zp)->name, ##__VA_ARGS__)

#endif
