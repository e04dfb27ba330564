/* newc ("070701"/"070702") cpio archive reader. Pure and freestanding (no
 * kernel headers) so the host unit tests compile it unchanged. Every header
 * field is untrusted: hex digits, name length and termination, and data
 * bounds are all checked before use. */
#ifndef INITRD_CPIO_H
#define INITRD_CPIO_H

#include <stddef.h>
#include <stdint.h>

struct cpio_entry {
	const char *name;      /* NUL-terminated inside the archive */
	size_t namelen;        /* without the NUL */
	uint32_t ino, mode, uid, gid, nlink, mtime;
	uint32_t rdevmajor, rdevminor;
	const uint8_t *data;
	size_t size;
	size_t offset;         /* of the header, for error messages */
};

/* Reads the entry at *off. Returns 1 with *e filled and *off advanced, 0 at
 * the "TRAILER!!!" entry, or -1 with *why set (also when the buffer ends,
 * zero padding aside, before the trailer). */
int cpio_next(const uint8_t *buf, size_t len, size_t *off, struct cpio_entry *e, const char **why);

#endif
