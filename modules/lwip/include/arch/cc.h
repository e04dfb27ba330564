/* lwIP port: compiler and platform definitions (lwIP's fixed name arch/cc.h). */
#ifndef LWIP_ARCH_CC_H
#define LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>
#include <lib/errno.h>

#define BYTE_ORDER LITTLE_ENDIAN

/* No <inttypes.h>, <ctype.h>, <unistd.h> or <limits.h> in the kernel. */
#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H 1
#define LWIP_NO_UNISTD_H 1
#define LWIP_NO_LIMITS_H 1
#define INT_MAX 0x7fffffff
#define SSIZE_MAX INT_MAX
#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"
typedef int64_t ssize_t; /* the same type as vfs.h's */

/* Error numbers are Linux's (lib/errno.h); lwIP's socket layer sets errno,
 * which is only read under the ksock lock (ksock.c), so one variable serves. */
extern int lwip_port_errno;
#define errno lwip_port_errno

void lwip_port_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lwip_port_assert(const char *msg, const char *file, int line) __attribute__((noreturn));
#define LWIP_PLATFORM_DIAG(x) do { lwip_port_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)

/* Randomness for TCP initial sequence numbers, ports, DHCP/IPv6 identifiers. */
uint32_t lwip_port_rand(void);
#define LWIP_RAND() lwip_port_rand()

/* The Linux ABI structures are the kernel's own (ksock.c converts);
 * lwIP's BSD-style ones stay its own. */
#define LWIP_TIMEVAL_PRIVATE 1

/* Debian's patch of sockets.c ("port") leaves these to the port; lwIP's own
 * sockaddr types carry a length byte. */
#define IP4ADDR_SOCKADDR_SET_LEN(sin) ((sin)->sin_len = sizeof(struct sockaddr_in))
#define IP6ADDR_SOCKADDR_SET_LEN(sin6) ((sin6)->sin6_len = sizeof(struct sockaddr_in6))
#define IPADDR_SOCKADDR_GET_LEN(addr) ((addr)->sa.sa_len)

#endif
