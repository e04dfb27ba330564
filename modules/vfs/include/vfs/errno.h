/* lib/errno.h plus the Linux errno values the filesystem and syscall layers
 * need that it does not (yet) define. Same numbers as Linux x86-64. */
#ifndef VFS_ERRNO_H
#define VFS_ERRNO_H

#include <lib/errno.h>

#ifndef EXDEV
#define EXDEV 18
#endif
#ifndef ENOTBLK
#define ENOTBLK 15
#endif
#ifndef EMLINK
#define EMLINK 31
#endif
#ifndef EDOM
#define EDOM 33
#endif
#ifndef ENOLCK
#define ENOLCK 37
#endif
#ifndef ENODATA
#define ENODATA 61
#endif
#ifndef ETIME
#define ETIME 62
#endif
#ifndef EOVERFLOW
#define EOVERFLOW 75
#endif
#ifndef ENOTSOCK
#define ENOTSOCK 88
#endif
#ifndef EAFNOSUPPORT
#define EAFNOSUPPORT 97
#endif
#ifndef EWOULDBLOCK
#define EWOULDBLOCK EAGAIN
#endif
#ifndef ECHILD
#define ECHILD 10
#endif
#ifndef ELIBBAD
#define ELIBBAD 80
#endif
#ifndef ENOTCONN
#define ENOTCONN 107
#endif
#ifndef ERESTARTSYS
#define ERESTARTSYS 512 /* kernel-internal: restart the syscall after a signal */
#endif

#endif
