/* lwIP includes <stdlib.h> for atoi (interface names "en0"). */
#ifndef LWIP_PORT_STDLIB_H
#define LWIP_PORT_STDLIB_H
#include <lib/string.h>
static inline int atoi(const char *s)
{
	return (int)strtoll(s, 0, 10);
}
#endif
