/* lwIP interfaces on netdev devices: one netif per NIC, configured from the
 * kernel command line (osvb build writes it from app.yaml network:):
 *
 *   osvb.net0=ip=10.0.2.15/24,gw=10.0.2.2,ip6=auto      static IPv4, SLAAC
 *   osvb.net1=ip=dhcp,ip6=fd00::5/64,gw6=fd00::1          DHCP (only when asked)
 *
 * The first interface with an IPv4 gateway is the default route; before it,
 * route.c picks the interface with the longest matching prefix. */
#include <lwip/tcpip.h>
#include <lwip/netif.h>
#include <lwip/etharp.h>
#include <lwip/ethip6.h>
#include <lwip/dhcp.h>
#include <lwip/nd6.h>
#include <lwip/ip6_addr.h>
#include <netif/ethernet.h>
#include <lwip_hooks.h>
#include <netdev/netdev.h>
#include <cmdline/cmdline.h>
#include <console/printk.h>
#include <lib/string.h>
#include <lib/printf.h>
#include <mm/kmalloc.h>
#include <init/initcall.h>
#include <sched/thread.h>
#include <time/clock.h>

CMDLINE_OPTION(net0, "net0", "eth0: ip=A.B.C.D/LEN|dhcp,gw=A.B.C.D,ip6=auto|ADDR/LEN,gw6=ADDR");
CMDLINE_OPTION(net1, "net1", "eth1 (as net0)");
CMDLINE_OPTION(net2, "net2", "eth2 (as net0)");
CMDLINE_OPTION(net3, "net3", "eth3 (as net0)");

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
	struct netdev *nd = netif->state;
	uint8_t stackbuf[1536];
	uint8_t *buf = p->tot_len <= sizeof(stackbuf) ? stackbuf : kmalloc(p->tot_len);
	if (!buf)
		return ERR_MEM;
	pbuf_copy_partial(p, buf, p->tot_len, 0);
	int r = netdev_xmit(nd, buf, p->tot_len);
	if (buf != stackbuf)
		kfree(buf);
	return r ? ERR_IF : ERR_OK;
}

static void rx(struct netdev *nd, const void *frame, size_t len)
{
	struct netif *netif = nd->stack;
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (!p) {
		netdev_rx_drop(nd, 0);
		return;
	}
	pbuf_take(p, frame, (u16_t)len);
	if (netif->input(p, netif) != ERR_OK)
		pbuf_free(p);
}

static err_t nif_init(struct netif *netif)
{
	struct netdev *nd = netif->state;
	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->hwaddr_len = 6;
	memcpy(netif->hwaddr, nd->mac, 6);
	netif->mtu = nd->mtu;
	netif->mtu6 = nd->mtu;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output;
	netif->linkoutput = linkoutput;
	return ERR_OK;
}

/* The value of key= in a comma list, copied into out; false when absent. */
static bool opt(const char *list, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t vl = n - kl - 1;
			if (vl >= size)
				vl = size - 1;
			memcpy(out, p + kl + 1, vl);
			out[vl] = 0;
			return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* "ADDR/LEN" into addr and prefix length; false when malformed. */
static bool split_prefix(char *s, int *len, int max)
{
	char *slash = strchr(s, '/');
	if (!slash)
		return false;
	*slash = 0;
	char *end;
	long long v = strtoll(slash + 1, &end, 10);
	if (*end || v < 0 || v > max)
		return false;
	*len = (int)v;
	return true;
}

static bool have_default;

#define DHCP_WAIT_MS 10000
static struct netif *dhcp_ifs[NETDEV_MAX];
static int ndhcp;

/* Returns true when the interface asked for DHCP. */
static bool configure(struct netif *netif, const char *cfg)
{
	char v[64];
	bool dhcp = false;
	if (opt(cfg, "ip", v, sizeof(v))) {
		int plen;
		ip4_addr_t a, m, g;
		if (!strcmp(v, "dhcp")) {
			dhcp = true;
		} else if (split_prefix(v, &plen, 32) && ip4addr_aton(v, &a)) {
			ip4_addr_set_u32(&m, plen ? lwip_htonl(0xffffffffu << (32 - plen)) : 0);
			ip4_addr_set_zero(&g);
			char gv[64];
			if (opt(cfg, "gw", gv, sizeof(gv)) && !ip4addr_aton(gv, &g))
				pr_err("net: %s: bad gw=%s\n", cfg, gv);
			netif_set_addr(netif, &a, &m, &g);
			if (!ip4_addr_isany_val(g) && !have_default) {
				netif_set_default(netif);
				have_default = true;
			}
		} else {
			pr_err("net: bad ip=%s (want A.B.C.D/LEN or dhcp)\n", v);
		}
	}
	netif_create_ip6_linklocal_address(netif, 1);
	if (opt(cfg, "ip6", v, sizeof(v))) {
		int plen;
		ip6_addr_t a;
		s8_t idx;
		if (!strcmp(v, "auto")) {
			netif_set_ip6_autoconfig_enabled(netif, 1);
		} else if (split_prefix(v, &plen, 128) && ip6addr_aton(v, &a)) {
			/* lwIP keeps no prefix length (it assumes /64): route.c keeps it. */
			if (netif_add_ip6_address(netif, &a, &idx) == ERR_OK) {
				netif_ip6_addr_set_state(netif, idx, IP6_ADDR_PREFERRED);
				route6_add(netif, &a, plen);
			}
		} else {
			pr_err("net: bad ip6=%s (want ADDR/LEN or auto)\n", v);
		}
	}
	return dhcp;
}

static void attach(struct netdev *nd)
{
	struct netif *netif = kzalloc(sizeof(*netif));
	if (!netif)
		return;
	char name[8];
	snprintf(name, sizeof(name), "net%u", nd->index);
	const char *cfg = cmdline_get(name);
	LOCK_TCPIP_CORE();
	if (!netif_add(netif, NULL, NULL, NULL, nd, nif_init, tcpip_input)) {
		UNLOCK_TCPIP_CORE();
		kfree(netif);
		pr_err("net: %s: lwIP refused the interface\n", nd->name);
		return;
	}
	nd->stack = netif;
	/* TCP checksums the device completes or netdev checks: lwIP leaves them (IP, UDP, ICMP stay its own). */
	u16_t csum = NETIF_CHECKSUM_ENABLE_ALL;
	if (nd->offload & NETDEV_RX_CSUM_TCP)
		csum &= ~NETIF_CHECKSUM_CHECK_TCP;
	if (nd->offload & NETDEV_TX_CSUM_TCP)
		csum &= ~NETIF_CHECKSUM_GEN_TCP;
	NETIF_SET_CHECKSUM_CTRL(netif, csum);
	bool dhcp = cfg && configure(netif, cfg);
	netif_set_up(netif);
	if (nd->link_up)
		netif_set_link_up(netif);
	nd->rx = rx;
	UNLOCK_TCPIP_CORE();
	pr_info("net: %s %s%s%s\n", nd->name, cfg ? cfg : "(not configured)",
		nd->offload & NETDEV_RX_CSUM_TCP ? ", rx csum offload" : "",
		nd->offload & NETDEV_TX_CSUM_TCP ? ", tx csum offload" : "");
	if (dhcp && ndhcp < NETDEV_MAX)
		dhcp_ifs[ndhcp++] = netif;
}

/* After the drivers are up (a device starts only once its probe returned):
 * only interfaces that asked for DHCP make the boot wait, and not forever. */
static int dhcp_wait(void)
{
	LOCK_TCPIP_CORE();
	for (int i = 0; i < ndhcp; i++)
		dhcp_start(dhcp_ifs[i]);
	UNLOCK_TCPIP_CORE();
	uint64_t deadline = clock_monotonic_ns() + DHCP_WAIT_MS * NSEC_PER_MSEC;
	for (int i = 0; i < ndhcp; i++) {
		struct netif *netif = dhcp_ifs[i];
		struct netdev *nd = netif->state;
		while (!dhcp_supplied_address(netif) && clock_monotonic_ns() < deadline)
			thread_sleep_ns(10 * NSEC_PER_MSEC);
		char a[16];
		ip4addr_ntoa_r(netif_ip4_addr(netif), a, sizeof(a));
		if (!dhcp_supplied_address(netif)) {
			pr_warn("net: %s no DHCP answer in %d s; going on without an address\n", nd->name,
				DHCP_WAIT_MS / 1000);
			continue;
		}
		LOCK_TCPIP_CORE();
		if (!have_default && !ip4_addr_isany_val(*netif_ip4_gw(netif))) {
			netif_set_default(netif);
			have_default = true;
		}
		UNLOCK_TCPIP_CORE();
		pr_info("net: %s DHCP address %s\n", nd->name, a);
	}
	return 0;
}
INITCALL(INIT_LATE, dhcp_wait);

NETDEV_CLIENT(lwip) = { "lwip", attach };
