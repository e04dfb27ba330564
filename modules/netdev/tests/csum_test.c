/* Checksum offload rules against frames built from the specifications
 * (RFC 791/793/768, RFC 8200 pseudo-header, RFC 1071 sum); their checksums
 * were computed on the host by an independent implementation. */
#include <selftest/selftest.h>
#include <netdev/netdev.h>
#include <lib/string.h>

/* 192.168.77.1:40000 -> 192.168.77.2:8080, PSH|ACK, "hello, osvb"; TCP checksum 0x9eb7 (bytes 50-51). */
static const char TCP4[] = "5254001234560200000000aa0800450000331234400040060d3dc0a84d01c0a84d029c401f90000000010000"
			   "00005018ffff9eb7000068656c6c6f2c206f737662";
/* UDP 5353 -> 53 "udp data!" with the checksum field holding the pseudo-header sum 0x1b77
 * (a local sender's NEEDS_CSUM frame); the full checksum is 0xf011 (bytes 40-41). */
static const char UDP4P[] = "5254001234560200000000aa0800450000251235400040110d3fc0a84d01c0a84d0214e9003500111b7775647020"
			    "6461746121";
/* fd00:77::1 -> fd00:77::2, ACK, "six"; TCP checksum 0x09b5. */
static const char TCP6[] = "5254001234560200000000aa86dd6000000000170640fd000077000000000000000000000001fd000077000000"
			   "0000000000000000029c411f900000000700000000501003e809b50000736978";

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	for (; h[0] && h[1]; h += 2) {
		unsigned v = 0;
		for (int i = 0; i < 2; i++) {
			char c = h[i];
			v = v * 16 + (c >= 'a' ? c - 'a' + 10 : c - '0');
		}
		out[n++] = (uint8_t)v;
	}
	return n;
}

SELFTEST(netdev_csum_rfc1071, "netdev.csum_rfc1071")
{
	/* RFC 1071 section 3's example: the one's complement sum of these bytes is 0xddf2. */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	ST_EXPECT_EQ(netdev_csum(0, b, sizeof(b)), 0xddf2);
	ST_EXPECT_EQ(netdev_csum(0, b, 7), 0xdcfb); /* odd length: the last byte padded with zero */
}

SELFTEST(netdev_csum_rx, "netdev.csum_rx")
{
	uint8_t f[128];
	size_t n = unhex(TCP4, f);
	/* Not checked by the device: TCP is checked here. */
	ST_EXPECT(netdev_rx_csum_check(f, n, NETDEV_CSUM_NONE, 0, 0));
	f[n - 1] ^= 1;
	ST_EXPECT(!netdev_rx_csum_check(f, n, NETDEV_CSUM_NONE, 0, 0));
	ST_EXPECT(netdev_rx_csum_check(f, n, NETDEV_CSUM_VALID, 0, 0)); /* the device vouched */
	f[n - 1] ^= 1;
	/* A TCP fragment nobody checked: dropped. */
	f[20] = 0x20; /* MF */
	ST_EXPECT(!netdev_rx_csum_check(f, n, NETDEV_CSUM_NONE, 0, 0));
	f[20] = 0x40;
	/* An IPv4 total length past the frame: not parsed, left to the stack (which drops it). */
	f[17] = 0xff;
	ST_EXPECT(netdev_rx_csum_check(f, n, NETDEV_CSUM_NONE, 0, 0));
	f[17] = 0x33;

	n = unhex(TCP6, f);
	ST_EXPECT(netdev_rx_csum_check(f, n, NETDEV_CSUM_NONE, 0, 0));
	f[60] ^= 0x80;
	ST_EXPECT(!netdev_rx_csum_check(f, n, NETDEV_CSUM_NONE, 0, 0));
}

SELFTEST(netdev_csum_partial, "netdev.csum_partial")
{
	uint8_t f[128];
	size_t n = unhex(UDP4P, f);
	/* csum_start/csum_offset from the device are checked against the frame. */
	ST_EXPECT(!netdev_rx_csum_check(f, n, NETDEV_CSUM_PARTIAL, 34, (uint16_t)(n - 34 - 1)));
	ST_EXPECT(!netdev_rx_csum_check(f, n, NETDEV_CSUM_PARTIAL, 4, 6));
	ST_EXPECT(!netdev_rx_csum_check(f, n, NETDEV_CSUM_PARTIAL, 0xffff, 0xffff));
	/* A partial UDP checksum is completed for the stack's own check. */
	ST_EXPECT(netdev_rx_csum_check(f, n, NETDEV_CSUM_PARTIAL, 34, 6));
	ST_EXPECT_EQ(f[40] << 8 | f[41], 0xf011);
}

SELFTEST(netdev_csum_tx, "netdev.csum_tx")
{
	uint8_t f[128];
	size_t n = unhex(TCP4, f);
	f[50] = f[51] = 0; /* as lwIP leaves it with generation off */
	uint16_t start = 0, off = 0;
	ST_ASSERT_EQ(netdev_tx_csum_tcp(f, n, &start, &off), 0);
	ST_EXPECT_EQ(start, 34);
	ST_EXPECT_EQ(off, 16);
	ST_EXPECT_EQ(f[50] << 8 | f[51], 0x1b7a); /* the folded pseudo-header sum */
	/* What the device then does (virtio 5.1.6.2): sum from start, store the complement. */
	uint16_t c = (uint16_t)~netdev_csum(0, f + start, n - start);
	ST_EXPECT_EQ(c, 0x9eb7);
	n = unhex(UDP4P, f);
	ST_EXPECT_EQ(netdev_tx_csum_tcp(f, n, &start, &off), -1); /* not TCP: left alone */
}
