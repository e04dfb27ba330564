/* tmpfs: the in-memory read-write filesystem the root is unpacked into. */
#ifndef TMPFS_TMPFS_H
#define TMPFS_TMPFS_H

#include <vfs/vfs.h>

/* A new, empty tmpfs; returns its root directory (one reference) or NULL.
 * fstype names it in /proc/self/maps-style listings ("tmpfs", "devtmpfs"...). */
struct inode *tmpfs_new(const char *fstype);

/* The page holding file page pgidx of a tmpfs regular file, or NULL for a
 * hole (or another filesystem). Valid while the file is not truncated. */
void *tmpfs_page(struct inode *ino, uint64_t pgidx);

#endif
