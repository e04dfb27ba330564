/*
 * XDR nvlists as vdev labels carry them (libnvpair's NV_ENCODE_XDR). Each
 * pair: encoded size, decoded size, name, type, element count, value. The
 * encoded size of a pair holding an nvlist is not its length in OpenZFS's
 * labels, so nested lists are walked to be skipped; other values are skipped
 * by their size, bounded by the buffer. Nesting is limited.
 */
#include "zfs_impl.h"
#include <lib/string.h>
#include <vfs/errno.h>

#define NVL_MAX_DEPTH 16

struct cur {
	const uint8_t *p, *end;
};

static int get32(struct cur *c, uint32_t *v)
{
	if (c->end - c->p < 4)
		return -EINVAL;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	return 0;
}

static int skip(struct cur *c, uint64_t n)
{
	if ((uint64_t)(c->end - c->p) < n)
		return -EINVAL;
	c->p += n;
	return 0;
}

static int get_str(struct cur *c, const char **s, size_t *len)
{
	uint32_t n;
	if (get32(c, &n) || n > (uint32_t)(c->end - c->p))
		return -EINVAL;
	*s = (const char *)c->p;
	*len = n;
	return skip(c, ((uint64_t)n + 3) & ~3ULL);
}

static int skip_list(struct cur *c, int depth);

struct pair {
	const char *name;
	size_t namelen;
	uint32_t type, nelem;
	const uint8_t *val; /* the value's first byte */
};

/* Read one pair header at c; 1 at the end marker. Leaves c at the value. */
static int pair_head(struct cur *c, struct pair *pr, const uint8_t **next_by_size)
{
	uint32_t esize, dsize;
	const uint8_t *start = c->p;
	if (get32(c, &esize) || get32(c, &dsize))
		return -EINVAL;
	if (esize == 0 && dsize == 0)
		return 1;
	if (esize < 24 || esize > (uint64_t)(c->end - start))
		return -EINVAL;
	*next_by_size = start + esize;
	if (get_str(c, &pr->name, &pr->namelen) || get32(c, &pr->type) || get32(c, &pr->nelem))
		return -EINVAL;
	pr->val = c->p;
	return 0;
}

/* Move c past the value of pr. */
static int skip_value(struct cur *c, const struct pair *pr, const uint8_t *next_by_size, int depth)
{
	if (pr->type == NV_NVLIST)
		return skip_list(c, depth + 1);
	if (pr->type == NV_NVLIST_ARRAY) {
		if (pr->nelem > 65536)
			return -EINVAL;
		for (uint32_t i = 0; i < pr->nelem; i++) {
			int e = skip_list(c, depth + 1);
			if (e)
				return e;
		}
		return 0;
	}
	if (next_by_size < c->p)
		return -EINVAL;
	c->p = next_by_size;
	return 0;
}

static int skip_list(struct cur *c, int depth)
{
	uint32_t ver, flag;
	if (depth > NVL_MAX_DEPTH || get32(c, &ver) || get32(c, &flag))
		return -EINVAL;
	for (;;) {
		struct pair pr;
		const uint8_t *next;
		int r = pair_head(c, &pr, &next);
		if (r == 1)
			return 0;
		if (r || (r = skip_value(c, &pr, next, depth)))
			return r;
	}
}

int nvl_open(const void *buf, size_t len, struct nvl *out)
{
	const uint8_t *b = buf;
	if (len < 12 || b[0] != 1) /* encoding 1: XDR */
		return -EINVAL;
	out->p = b + 4;
	out->end = b + len;
	return 0;
}

/* Find name in l: c at its value. */
static int find(const struct nvl *l, const char *name, uint32_t type, struct cur *c, struct pair *pr)
{
	size_t nlen = strlen(name);
	c->p = l->p;
	c->end = l->end;
	uint32_t ver, flag;
	if (get32(c, &ver) || get32(c, &flag))
		return -EINVAL;
	for (;;) {
		const uint8_t *next;
		int r = pair_head(c, pr, &next);
		if (r == 1)
			return -ENOENT;
		if (r)
			return r;
		if (pr->namelen == nlen && !memcmp(pr->name, name, nlen))
			return pr->type == type ? 0 : -EINVAL;
		if ((r = skip_value(c, pr, next, 0)))
			return r;
	}
}

int nvl_u64(const struct nvl *l, const char *name, uint64_t *out)
{
	struct cur c;
	struct pair pr;
	uint32_t hi, lo;
	int e = find(l, name, NV_UINT64, &c, &pr);
	if (e)
		return e;
	if (get32(&c, &hi) || get32(&c, &lo))
		return -EINVAL;
	*out = (uint64_t)hi << 32 | lo;
	return 0;
}

int nvl_str(const struct nvl *l, const char *name, const char **s, size_t *len)
{
	struct cur c;
	struct pair pr;
	int e = find(l, name, NV_STRING, &c, &pr);
	return e ? e : get_str(&c, s, len);
}

int nvl_list(const struct nvl *l, const char *name, struct nvl *out)
{
	struct cur c;
	struct pair pr;
	int e = find(l, name, NV_NVLIST, &c, &pr);
	if (e)
		return e;
	out->p = c.p;
	out->end = l->end;
	/* Check it ends inside the buffer now, so lookups in it are bounded too. */
	return skip_list(&c, 1);
}

int nvl_array(const struct nvl *l, const char *name, uint32_t i, struct nvl *out)
{
	struct cur c;
	struct pair pr;
	int e = find(l, name, NV_NVLIST_ARRAY, &c, &pr);
	if (e)
		return e;
	if (i >= pr.nelem)
		return -ENOENT;
	for (uint32_t k = 0; k < i; k++)
		if ((e = skip_list(&c, 1)))
			return e;
	out->p = c.p;
	out->end = l->end;
	return skip_list(&c, 1);
}
