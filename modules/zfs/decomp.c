/* Decompressors, every read and every copy bounded by the source and the
 * destination: lz4 as ZFS stores it (a 4-byte big-endian length, then one
 * lz4 block) and lzjb (metadata of pools without lz4). Output shorter than
 * the block is zero-filled, as OpenZFS leaves it. */
#include "zfs_impl.h"
#include <lib/string.h>
#include <vfs/errno.h>

static int lz4_block(const uint8_t *s, size_t slen, uint8_t *d, size_t dlen)
{
	size_t ip = 0, op = 0;
	while (ip < slen) {
		unsigned token = s[ip++];
		size_t lit = token >> 4;
		if (lit == 15) {
			unsigned b;
			do {
				if (ip >= slen)
					return -EIO;
				b = s[ip++];
				lit += b;
			} while (b == 255 && lit < dlen + 255);
		}
		if (lit > slen - ip || lit > dlen - op)
			return -EIO;
		memcpy(d + op, s + ip, lit);
		ip += lit;
		op += lit;
		if (ip == slen)
			break; /* the last sequence has literals only */
		if (slen - ip < 2)
			return -EIO;
		size_t off = s[ip] | (size_t)s[ip + 1] << 8;
		ip += 2;
		if (off == 0 || off > op)
			return -EIO;
		size_t mlen = (token & 15);
		if (mlen == 15) {
			unsigned b;
			do {
				if (ip >= slen)
					return -EIO;
				b = s[ip++];
				mlen += b;
			} while (b == 255 && mlen < dlen + 255);
		}
		mlen += 4;
		if (mlen > dlen - op)
			return -EIO;
		/* Overlapping copies repeat the pattern: byte by byte. */
		for (size_t i = 0; i < mlen; i++, op++)
			d[op] = d[op - off];
	}
	return (int)(op > 0x7fffffff ? 0x7fffffff : op);
}

int lz4_zfs_decompress(const void *src, size_t slen, void *dst, size_t dlen)
{
	const uint8_t *s = src;
	if (slen < 4)
		return -EIO;
	uint32_t n = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
	if (n > slen - 4)
		return -EIO;
	int r = lz4_block(s + 4, n, dst, dlen);
	if (r < 0)
		return r;
	memset((uint8_t *)dst + r, 0, dlen - (size_t)r);
	return 0;
}

int lzjb_decompress(const void *src, size_t slen, void *dst, size_t dlen)
{
	const uint8_t *s = src;
	uint8_t *d = dst;
	size_t ip = 0, op = 0;
	unsigned copymap = 0, copymask = 1u << 7;
	while (op < dlen) {
		if ((copymask <<= 1) == 256) {
			copymask = 1;
			if (ip >= slen)
				return -EIO;
			copymap = s[ip++];
		}
		if (copymap & copymask) {
			if (slen - ip < 2)
				return -EIO;
			size_t mlen = (s[ip] >> 2) + 3;
			size_t off = ((size_t)s[ip] << 8 | s[ip + 1]) & 0x3ff;
			ip += 2;
			if (off == 0 || off > op)
				return -EIO;
			for (; mlen > 0 && op < dlen; mlen--, op++)
				d[op] = d[op - off];
		} else {
			if (ip >= slen)
				return -EIO;
			d[op++] = s[ip++];
		}
	}
	return 0;
}

int zio_decompress(unsigned comp, const void *src, size_t slen, void *dst, size_t dlen)
{
	switch (comp) {
	case ZIO_COMP_LZ4:
		return lz4_zfs_decompress(src, slen, dst, dlen);
	case ZIO_COMP_LZJB:
		return lzjb_decompress(src, slen, dst, dlen);
	case ZIO_COMP_EMPTY:
		memset(dst, 0, dlen);
		return 0;
	case ZIO_COMP_OFF:
	case 0: /* inherit never reaches a bp; 1 (on) neither: both as stored */
	case 1:
		if (slen < dlen)
			return -EIO;
		memcpy(dst, src, dlen);
		return 0;
	default:
		return -ENOTSUP; /* gzip, zle, zstd */
	}
}
