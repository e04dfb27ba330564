/* Routing across several netifs: longest prefix first, then the default
 * route. lwIP's own choice is the first netif whose subnet holds the
 * destination, whatever the prefix length; its route hooks
 * (LWIP_HOOK_IP4_ROUTE_SRC, LWIP_HOOK_IP6_ROUTE) let us decide before that.
 * IPv4 prefixes come from each netif's address and mask (static or DHCP);
 * lwIP keeps no IPv6 prefix lengths, so netif.c records the static ones here.
 * A NULL answer hands the decision back to lwIP (its subnet match, then the
 * default netif). Called with the core lock held. */
#include <lwip/netif.h>
#include <lwip/ip_addr.h>
#include <lwip_hooks.h>
#include <lib/string.h>

static int mask_len(uint32_t mask_be)
{
	uint32_t m = lwip_ntohl(mask_be);
	int n = 0;
	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return n;
}

static int usable(struct netif *netif)
{
	return netif_is_up(netif) && netif_is_link_up(netif);
}

struct netif *osvb_ip4_route(const ip4_addr_t *src, const ip4_addr_t *dest)
{
	if (ip4_addr_isloopback(dest) || ip4_addr_ismulticast(dest) || ip4_addr_get_u32(dest) == IPADDR_BROADCAST)
		return NULL;
	struct netif *best = NULL, *netif;
	int best_len = -1;
	NETIF_FOREACH(netif) {
		const ip4_addr_t *a = netif_ip4_addr(netif), *m = netif_ip4_netmask(netif);
		if (!usable(netif) || ip4_addr_isany_val(*a) || !ip4_addr_netcmp(dest, a, m))
			continue;
		int len = mask_len(ip4_addr_get_u32(m));
		/* Equal prefixes: the netif that owns a bound source address wins. */
		if (len > best_len || (len == best_len && src && ip4_addr_cmp(src, a))) {
			best = netif;
			best_len = len;
		}
	}
	return best;
}

static struct route6 {
	struct netif *netif;
	ip6_addr_t addr; /* the netif's own address; its first len bits are the prefix */
	int len;
} routes6[ROUTE6_MAX];
static int nroutes6;

void route6_add(struct netif *netif, const ip6_addr_t *addr, int len)
{
	if (nroutes6 >= ROUTE6_MAX || len < 0 || len > 128)
		return;
	routes6[nroutes6++] = (struct route6){ netif, *addr, len };
}

static int prefix6_match(const ip6_addr_t *a, const ip6_addr_t *b, int len)
{
	for (int i = 0; i < 4 && len > 0; i++, len -= 32) {
		uint32_t mask = len >= 32 ? 0xffffffffu : ~(0xffffffffu >> len);
		if ((lwip_ntohl(a->addr[i]) ^ lwip_ntohl(b->addr[i])) & mask)
			return 0;
	}
	return 1;
}

struct netif *osvb_ip6_route(const ip6_addr_t *src, const ip6_addr_t *dest)
{
	struct route6 *best = NULL;
	for (int i = 0; i < nroutes6; i++) {
		struct route6 *r = &routes6[i];
		if (!usable(r->netif) || !prefix6_match(dest, &r->addr, r->len))
			continue;
		if (!best || r->len > best->len ||
		    (r->len == best->len && src && ip6_addr_cmp_zoneless(src, &r->addr)))
			best = r;
	}
	return best ? best->netif : NULL;
}
