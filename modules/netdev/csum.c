/* Transport checksums for NIC drivers with checksum offload: the Internet
 * checksum (RFC 1071) over TCP/UDP in IPv4 and IPv6 Ethernet frames, the
 * pseudo-header sum a device completes (virtio's NEEDS_CSUM, Linux's
 * CHECKSUM_PARTIAL), and the receive-side rule of netdev_rx_csum. Frames
 * come from devices and the network: every header length is checked
 * against the frame before it is read. */
#include <netdev/netdev.h>
#include <lib/string.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPV6_FRAGMENT 44

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		s += be16(p);
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

int netdev_l4_parse(const uint8_t *f, size_t len, struct netdev_l4 *l4)
{
	if (len < ETH_HLEN)
		return -1;
	uint16_t type = be16(f + 12);
	const uint8_t *ip = f + ETH_HLEN;
	size_t iplen = len - ETH_HLEN;
	memset(l4, 0, sizeof(*l4));
	if (type == ETHERTYPE_IPV4) {
		if (iplen < 20 || (ip[0] >> 4) != 4)
			return -1;
		size_t ihl = (size_t)(ip[0] & 15) * 4, tot = be16(ip + 2);
		if (ihl < 20 || tot < ihl || tot > iplen)
			return -1;
		l4->proto = ip[9];
		l4->fragment = (be16(ip + 6) & 0x3fff) != 0; /* MF or an offset */
		l4->start = ETH_HLEN + ihl;
		l4->len = tot - ihl;
		/* Pseudo-header: addresses, protocol, transport length. */
		l4->pseudo = sum16(0, ip + 12, 8) + l4->proto + (uint32_t)l4->len;
		return 0;
	}
	if (type == ETHERTYPE_IPV6) {
		if (iplen < 40 || (ip[0] >> 4) != 6)
			return -1;
		size_t plen = be16(ip + 4);
		if (40 + plen > iplen)
			return -1;
		/* Only the next header right after the fixed header (lwIP adds no extension headers to TCP/UDP). */
		l4->proto = ip[6];
		l4->fragment = l4->proto == IPV6_FRAGMENT;
		l4->start = ETH_HLEN + 40;
		l4->len = plen;
		l4->pseudo = sum16(0, ip + 8, 32) + l4->proto + (uint32_t)l4->len;
		return 0;
	}
	return -1;
}

uint16_t netdev_csum(uint32_t start, const uint8_t *p, size_t n)
{
	return fold(sum16(start, p, n));
}

bool netdev_l4_csum_ok(const uint8_t *f, const struct netdev_l4 *l4)
{
	/* A correct checksum makes the sum over pseudo-header and segment all ones. */
	return netdev_csum(l4->pseudo, f + l4->start, l4->len) == 0xffff;
}

/* Receive rule, with the stack's TCP check off (NETDEV_RX_CSUM_TCP): what the
 * device vouched for passes; a partial checksum (a local sender's) passes
 * for TCP and is completed for anything else, so the stack's own check of
 * UDP and ICMP holds; what the device did not check is checked here for TCP
 * (bad: dropped). A TCP fragment the device did not vouch for cannot be
 * checked before reassembly, and the stack would not check it after: it is
 * dropped (TCP sets DF and sizes segments to the path; hosts do not
 * fragment it). Returns false to drop the frame. */
bool netdev_rx_csum_check(uint8_t *f, size_t len, enum netdev_csum state, uint16_t start, uint16_t off)
{
	if (state == NETDEV_CSUM_VALID)
		return true;
	struct netdev_l4 l4;
	bool ok = netdev_l4_parse(f, len, &l4) == 0;
	if (state == NETDEV_CSUM_PARTIAL) {
		/* The device's csum_start/csum_offset: checked against the frame before use. */
		if ((size_t)start + off + 2 > len || start < ETH_HLEN)
			return false;
		if (ok && l4.proto == IPPROTO_TCP)
			return true;
		size_t end = ok && l4.start + l4.len <= len ? l4.start + l4.len : len; /* Ethernet padding is not summed */
		if (end < (size_t)start + off + 2)
			return false;
		uint16_t c = (uint16_t)~netdev_csum(0, f + start, end - start);
		f[start + off] = (uint8_t)(c >> 8);
		f[start + off + 1] = (uint8_t)c;
		return true;
	}
	if (!ok || l4.proto != IPPROTO_TCP)
		return true; /* not TCP: the stack checks it */
	if (l4.fragment)
		return false;
	return l4.len >= 20 && netdev_l4_csum_ok(f, &l4);
}

int netdev_tx_csum_tcp(uint8_t *f, size_t len, uint16_t *start, uint16_t *off)
{
	struct netdev_l4 l4;
	if (netdev_l4_parse(f, len, &l4) || l4.proto != IPPROTO_TCP || l4.fragment || l4.len < 20)
		return -1;
	/* The checksum field holds the folded pseudo-header sum; the device sums from start and stores the complement. */
	uint16_t ph = fold(l4.pseudo);
	f[l4.start + 16] = (uint8_t)(ph >> 8);
	f[l4.start + 17] = (uint8_t)ph;
	*start = (uint16_t)l4.start;
	*off = 16;
	return 0;
}
