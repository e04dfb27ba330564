"""Host side of the SLAAC test, inside the test's network namespace: a
router advertisement (RFC 4861 4.2) for PREFIX/64 with the autonomous flag
(and router lifetime 0: not a default router), sent to all nodes on IFACE
every half second until killed. The kernel fills in the ICMPv6 checksum."""
import socket
import struct
import sys
import time

iface, prefix = sys.argv[1], socket.inet_pton(socket.AF_INET6, sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
idx = socket.if_nametoindex(iface)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
mac = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0)
ra += struct.pack("!BB6s", 1, 1, mac)  # source link-layer address
ra += struct.pack("!BBBBIII16s", 3, 4, 64, 0xC0, 86400, 14400, 0, prefix)  # prefix: on-link, autonomous
while True:
    try:
        s.sendto(ra, ("ff02::1", 0, 0, idx))
    except OSError:
        pass  # the link-local source address may still be tentative
    time.sleep(0.5)
