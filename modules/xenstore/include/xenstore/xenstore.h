/* xenstore client (Xen platform): synchronous requests over the xenstore
 * ring, one at a time; watch callbacks run in the "xenwatch" thread. Paths
 * are absolute ("/local/domain/N/...") or relative to the domain's home. */
#ifndef XENSTORE_XENSTORE_H
#define XENSTORE_XENSTORE_H

#include <stddef.h>

/* Read a value into buf (NUL-terminated); returns its length or a negative
 * errno (-ENOENT, -E2BIG when cap is too small, -ETIMEDOUT, -ENODEV). */
long xs_read(const char *path, char *buf, size_t cap);
int xs_write(const char *path, const char *value);
/* The children's names, NUL-separated, into buf; returns how many. */
int xs_directory(const char *path, char *buf, size_t cap);

typedef void (*xs_watch_fn)(const char *path, const char *token, void *arg);
/* Xen fires a watch once when it is set, then on every change under path. */
int xs_watch(const char *path, const char *token, xs_watch_fn fn, void *arg);
int xs_unwatch(const char *path, const char *token);

#endif
