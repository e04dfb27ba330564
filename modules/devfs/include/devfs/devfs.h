/* devfs: /dev with the character devices a Linux program expects. */
#ifndef DEVFS_DEVFS_H
#define DEVFS_DEVFS_H

#include <stddef.h>
#include <vfs/vfs.h>

/* Add a device node /dev/<name> (after devfs is mounted, INIT_LATE or later). */
int devfs_add(const char *name, uint32_t mode, uint32_t rdev, const struct file_ops *fops, void *priv);

/* Random bytes: RDSEED/RDRAND when the CPU has them, mixed with the TSC
 * through splitmix64; without them, TSC-seeded splitmix64 only (not
 * cryptographically strong: documented in the README). */
void random_bytes(void *buf, size_t n);

#endif
