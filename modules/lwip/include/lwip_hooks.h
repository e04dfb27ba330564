/* lwIP's hook file (LWIP_HOOK_FILENAME in lwipopts.h), included by lwIP's own
 * sources after their headers: the routing hooks live in route.c. */
#ifndef OSVB_LWIP_HOOKS_H
#define OSVB_LWIP_HOOKS_H

#include <lwip/ip_addr.h>

struct netif;
struct netif *osvb_ip4_route(const ip4_addr_t *src, const ip4_addr_t *dest);
struct netif *osvb_ip6_route(const ip6_addr_t *src, const ip6_addr_t *dest);
/* netif.c: a static IPv6 address and its prefix length, for osvb_ip6_route. */
#define ROUTE6_MAX 32
void route6_add(struct netif *netif, const ip6_addr_t *addr, int len);

#endif
