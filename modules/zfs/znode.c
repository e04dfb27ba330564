/*
 * The ZPL on a dataset: MOS object directory -> root DSL dir -> head dataset
 * -> its object set -> master node (VERSION, ROOT, SA_ATTRS) -> root
 * directory. A znode's attributes come from its bonus buffer: znode_phys_t
 * (ZPL version 4 and older, what osvb build writes) or system attributes
 * (version 5, what zpool create makes): a header naming a layout, the
 * layout's attributes in order, variable-length ones sized by the header.
 * Attributes that do not fit the bonus live in a spill block.
 */
#include "zfs_impl.h"
#include <console/printk.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <vfs/errno.h>

#define SA_MAGIC 0x2F505A
#define SA_MAX_ATTRS 256
#define SA_MAX_LAYOUTS 1024
#define ZNODE_PHYS_SIZE 264

enum zpl_attr { ZA_NONE, ZA_ATIME, ZA_MTIME, ZA_CTIME, ZA_MODE, ZA_SIZE, ZA_PARENT, ZA_LINKS, ZA_RDEV,
		ZA_UID, ZA_GID, ZA_SYMLINK };
static const char *const zpl_names[] = { "", "ZPL_ATIME", "ZPL_MTIME", "ZPL_CTIME", "ZPL_MODE", "ZPL_SIZE",
					 "ZPL_PARENT", "ZPL_LINKS", "ZPL_RDEV", "ZPL_UID", "ZPL_GID",
					 "ZPL_SYMLINK" };
#define ZA_COUNT 12

struct sa_layout {
	uint16_t n;
	uint16_t attrs[];
};
struct zfs_sa {
	uint16_t len[SA_MAX_ATTRS];  /* registered length; 0: variable */
	uint8_t which[SA_MAX_ATTRS]; /* enum zpl_attr */
	struct sa_layout *layouts[SA_MAX_LAYOUTS];
};

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

struct zfs_sa *sa_new_for_test(void) { return kzalloc(sizeof(struct zfs_sa)); }

static void sa_set_attr(struct zfs_sa *sa, unsigned num, const char *name, size_t nlen, unsigned len)
{
	if (num >= SA_MAX_ATTRS)
		return;
	sa->len[num] = (uint16_t)len;
	for (unsigned i = 1; i < ZA_COUNT; i++)
		if (strlen(zpl_names[i]) == nlen && !memcmp(zpl_names[i], name, nlen))
			sa->which[num] = (uint8_t)i;
}

void sa_set_attr_for_test(struct zfs_sa *sa, unsigned num, const char *name, unsigned len)
{
	sa_set_attr(sa, num, name, strlen(name), len);
}

void sa_set_layout_for_test(struct zfs_sa *sa, unsigned layout, const uint16_t *attrs, unsigned n)
{
	struct sa_layout *l = kmalloc(sizeof(*l) + n * sizeof(uint16_t));
	if (!l || layout >= SA_MAX_LAYOUTS)
		return;
	l->n = (uint16_t)n;
	memcpy(l->attrs, attrs, n * sizeof(uint16_t));
	kfree(sa->layouts[layout]);
	sa->layouts[layout] = l;
}

static void put_attr(struct zattr *za, unsigned which, const uint8_t *p, size_t len)
{
	uint64_t *dst = NULL;
	switch (which) {
	case ZA_MODE: dst = &za->mode; break;
	case ZA_SIZE: dst = &za->size; break;
	case ZA_PARENT: dst = &za->parent; break;
	case ZA_LINKS: dst = &za->links; break;
	case ZA_RDEV: dst = &za->rdev; break;
	case ZA_UID: dst = &za->uid; break;
	case ZA_GID: dst = &za->gid; break;
	case ZA_ATIME: dst = za->atime; break;
	case ZA_MTIME: dst = za->mtime; break;
	case ZA_CTIME: dst = za->ctime; break;
	case ZA_SYMLINK:
		za->link = p;
		za->linklen = len;
		return;
	default:
		return;
	}
	if (len >= 8)
		dst[0] = rd64(p);
	if (len >= 16 && (which == ZA_ATIME || which == ZA_MTIME || which == ZA_CTIME))
		dst[1] = rd64(p + 8);
}

/* Bits of what a buffer held, so the spill only fills the rest. */
#define HAVE(w) (1u << (w))

static int sa_parse(struct zfs_sa *sa, const uint8_t *buf, size_t len, struct zattr *za, unsigned *have)
{
	if (len < 8 || (rd64(buf) & 0xffffffff) != SA_MAGIC)
		return -EIO;
	uint16_t info = rd16(buf + 4);
	unsigned layout = info & 0x3ff;
	size_t hdrsz = (size_t)((info >> 10) & 0x3f) * 8;
	if (hdrsz < 8 || hdrsz > len || layout >= SA_MAX_LAYOUTS || !sa->layouts[layout])
		return -EIO;
	const struct sa_layout *l = sa->layouts[layout];
	size_t nlens = (hdrsz - 6) / 2, li = 0, off = hdrsz;
	for (unsigned i = 0; i < l->n; i++) {
		unsigned a = l->attrs[i];
		if (a >= SA_MAX_ATTRS)
			return -EIO;
		size_t alen = sa->len[a];
		if (alen == 0) {
			if (li >= nlens)
				return -EIO;
			alen = rd16(buf + 6 + 2 * li++);
		}
		if (off > len || alen > len - off)
			return -EIO;
		unsigned w = sa->which[a];
		if (w && !(*have & HAVE(w))) {
			put_attr(za, w, buf + off, alen);
			*have |= HAVE(w);
		}
		off += (alen + 7) & ~(size_t)7;
	}
	return 0;
}

int sa_parse_buf(struct zfs_sa *sa, const uint8_t *buf, size_t len, struct zattr *za, bool *need_spill)
{
	unsigned have = 0;
	int e = sa_parse(sa, buf, len, za, &have);
	*need_spill = !(have & HAVE(ZA_MODE)) || !(have & HAVE(ZA_SIZE));
	return e;
}

static int v4_attrs(struct dnode *dn, struct zattr *za)
{
	const uint8_t *b = dn->bonus;
	if (dn->bonuslen < ZNODE_PHYS_SIZE)
		return -EIO;
	za->atime[0] = rd64(b), za->atime[1] = rd64(b + 8);
	za->mtime[0] = rd64(b + 16), za->mtime[1] = rd64(b + 24);
	za->ctime[0] = rd64(b + 32), za->ctime[1] = rd64(b + 40);
	za->mode = rd64(b + 72);
	za->size = rd64(b + 80);
	za->parent = rd64(b + 88);
	za->links = rd64(b + 96);
	za->rdev = rd64(b + 112);
	za->uid = rd64(b + 128);
	za->gid = rd64(b + 136);
	if ((za->mode & 0170000) == 0120000 && za->size <= dn->bonuslen - ZNODE_PHYS_SIZE) {
		za->link = b + ZNODE_PHYS_SIZE;
		za->linklen = za->size;
	}
	return 0;
}

int znode_attrs(struct zfs_fs *fs, struct dnode *dn, struct zattr *za)
{
	memset(za, 0, sizeof(*za));
	int e;
	if (dn->phys.bonustype == DMU_OT_ZNODE) {
		e = v4_attrs(dn, za);
	} else if (dn->phys.bonustype == DMU_OT_SA && fs->sa) {
		unsigned have = 0;
		e = sa_parse(fs->sa, dn->bonus, dn->bonuslen, za, &have);
		bool want_spill = !(have & HAVE(ZA_MODE)) || !(have & HAVE(ZA_SIZE)) ||
				  (((za->mode & 0170000) == 0120000) && !(have & HAVE(ZA_SYMLINK)));
		if (!e && want_spill && dn->has_spill && !bp_hole(&dn->spill)) {
			struct zbuf *zb;
			e = zio_read(fs->zp, &dn->spill, "spill of dataset", dn->obj, &zb);
			if (!e) {
				kfree(fs->spillbuf);
				fs->spillbuf = kmalloc(zb->size);
				if (fs->spillbuf) {
					memcpy(fs->spillbuf, zb->data, zb->size);
					e = sa_parse(fs->sa, fs->spillbuf, zb->size, za, &have);
				} else {
					e = -ENOMEM;
				}
				zbuf_put(fs->zp, zb);
			}
		}
		if (!e && (!(have & HAVE(ZA_MODE)) || !(have & HAVE(ZA_SIZE)))) {
			zfs_err(fs->zp, "dataset object %lu: mode or size missing from its attributes%s",
				(unsigned long)dn->obj, dn->has_spill ? "" : " (no spill block)");
			return -EIO;
		}
	} else {
		zfs_err(fs->zp, "dataset object %lu: bonus type %u is not a znode", (unsigned long)dn->obj,
			dn->phys.bonustype);
		return -EIO;
	}
	if (e == -EIO)
		zfs_err(fs->zp, "dataset object %lu: malformed znode attributes", (unsigned long)dn->obj);
	return e;
}

/* --- the SA registry and layouts --- */
struct layout_arg {
	struct zfs_fs *fs;
	struct dnode *dn;
	int err;
};

static int registry_cb(void *arg, const struct zap_ent *e)
{
	struct zfs_sa *sa = arg;
	uint64_t v = e->value;
	sa_set_attr(sa, (unsigned)(v & 0xffff), e->name, e->namelen, (unsigned)((v >> 24) & 0xffff));
	return 0;
}

static int layout_cb(void *arg, const struct zap_ent *e)
{
	struct layout_arg *a = arg;
	uint64_t num = 0;
	for (size_t i = 0; i < e->namelen; i++) {
		if (e->name[i] < '0' || e->name[i] > '9' || num >= SA_MAX_LAYOUTS)
			return -EIO;
		num = num * 10 + (unsigned)(e->name[i] - '0');
	}
	if (num >= SA_MAX_LAYOUTS || e->intlen != 2 || e->numints > SA_MAX_ATTRS)
		return -EIO;
	uint64_t vals[SA_MAX_ATTRS];
	uint16_t attrs[SA_MAX_ATTRS];
	size_t n;
	int r = zap_lookup_ints(a->dn, e->name, e->namelen, 2, vals, SA_MAX_ATTRS, &n);
	if (r)
		return r;
	for (size_t i = 0; i < n; i++)
		attrs[i] = (uint16_t)vals[i];
	sa_set_layout_for_test(a->fs->sa, (unsigned)num, attrs, (unsigned)n);
	return a->fs->sa->layouts[num] ? 0 : -ENOMEM;
}

static int sa_load(struct zfs_fs *fs, uint64_t sa_obj)
{
	struct dnode master, reg, lay;
	uint64_t reg_obj, lay_obj;
	int e = dnode_get(&fs->os, sa_obj, &master);
	if (e)
		return e;
	e = zap_lookup(&master, "REGISTRY", 8, &reg_obj);
	if (!e)
		e = zap_lookup(&master, "LAYOUTS", 7, &lay_obj);
	dnode_release(&master);
	if (e)
		return e;
	fs->sa = kzalloc(sizeof(*fs->sa));
	if (!fs->sa)
		return -ENOMEM;
	if ((e = dnode_get(&fs->os, reg_obj, &reg)))
		return e;
	e = zap_iterate(&reg, registry_cb, fs->sa);
	dnode_release(&reg);
	if (e)
		return e;
	if ((e = dnode_get(&fs->os, lay_obj, &lay)))
		return e;
	struct layout_arg a = { fs, &lay, 0 };
	e = zap_iterate(&lay, layout_cb, &a);
	dnode_release(&lay);
	return e;
}

int zfs_fs_open(struct zfs_pool *zp, struct zfs_fs *fs)
{
	struct objset *mos = kzalloc(sizeof(*mos));
	struct dnode dn;
	uint64_t dd_obj, ds_obj;
	memset(fs, 0, sizeof(*fs));
	fs->zp = zp;
	if (!mos)
		return -ENOMEM;
	int e = objset_open(zp, &zp->rootbp, "MOS", mos);
	if (e)
		goto out;
	if ((e = dnode_get(mos, 1, &dn)))
		goto out;
	e = zap_lookup(&dn, "root_dataset", 12, &dd_obj);
	dnode_release(&dn);
	if (e)
		goto out;
	if ((e = dnode_get(mos, dd_obj, &dn)))
		goto out;
	e = dn.phys.bonustype != DMU_OT_DSL_DIR || dn.bonuslen < 16 ? -EIO : 0;
	if (!e)
		ds_obj = rd64(dn.bonus + 8);
	dnode_release(&dn);
	if (e)
		goto bad;
	if ((e = dnode_get(mos, ds_obj, &dn)))
		goto out;
	struct blkptr bp;
	e = dn.phys.bonustype != DMU_OT_DSL_DATASET || dn.bonuslen < 256 ? -EIO : 0;
	if (!e)
		memcpy(&bp, dn.bonus + 128, sizeof(bp));
	dnode_release(&dn);
	if (e)
		goto bad;
	if ((e = objset_open(zp, &bp, "dataset", &fs->os)))
		goto out;
	if (fs->os.type != 2) { /* DMU_OST_ZFS */
		zfs_err(zp, "the root dataset is not a filesystem (type %lu)", (unsigned long)fs->os.type);
		e = -EINVAL;
		goto out;
	}
	if ((e = dnode_get(&fs->os, 1, &dn)))
		goto out;
	uint64_t sa_obj = 0;
	e = zap_lookup(&dn, "VERSION", 7, &fs->version);
	if (!e)
		e = zap_lookup(&dn, "ROOT", 4, &fs->root_obj);
	if (!e && fs->version >= 5 && zap_lookup(&dn, "SA_ATTRS", 8, &sa_obj))
		e = -EIO;
	dnode_release(&dn);
	if (e)
		goto bad;
	if (sa_obj && (e = sa_load(fs, sa_obj))) {
		zfs_err(zp, "cannot read the system attribute registry (%d)", e);
		goto out;
	}
	kfree(mos);
	return 0;
bad:
	zfs_err(zp, "malformed MOS or master node");
	e = e ? e : -EIO;
out:
	kfree(mos);
	if (e == -ENOENT)
		e = -EIO;
	return e;
}
