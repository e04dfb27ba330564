/* Generated /proc files of other modules: PROC_FILE(ident, "/proc/net/dev", fn)
 * makes the file (and its missing parent directory) when /proc is mounted; fn
 * writes the whole content into buf (size bytes) on each open and returns its
 * length. */
#ifndef PROCFS_PROCFS_H
#define PROCFS_PROCFS_H

#include <stddef.h>
#include <lib/ktable.h>

struct proc_file {
	const char *path;
	size_t (*gen)(char *buf, size_t size);
};
KTABLE_DECLARE(struct proc_file, proc_file);
#define PROC_FILE(ident, path, fn) KTABLE_ENTRY(struct proc_file, proc_file, 5, __proc_file_##ident) = { path, fn }

#endif
