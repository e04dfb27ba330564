"""Sends COUNT malformed Ethernet frames to the guest MAC through IFACE (a
packet socket, inside the test's network namespace): truncated headers, bad
IPv4/IPv6 lengths, bad header and TCP checksums, fragments that never
complete, truncated ARP, random bytes. Prints "sent N"."""
import os
import random
import socket
import struct
import sys

iface, count, dst_mac = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3].replace(":", ""))
guest_ip = socket.inet_aton(sys.argv[4])
host_ip = socket.inet_aton(sys.argv[5])
rng = random.Random(7)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
src_mac = s.getsockname()[4][:6]


def eth(ethertype, payload):
    return dst_mac + src_mac + struct.pack("!H", ethertype) + payload


def ip4(proto, payload, total=None, ihl=5, csum=None, frag=0, ident=None):
    total = 20 + len(payload) if total is None else total
    ident = rng.randrange(65536) if ident is None else ident
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, ident, frag, 64, proto, 0, host_ip, guest_ip)
    if csum is None:
        c = sum(struct.unpack("!10H", h))
        c = (c & 0xFFFF) + (c >> 16)
        c = (c & 0xFFFF) + (c >> 16)
        csum = ~c & 0xFFFF
    return h[:10] + struct.pack("!H", csum) + h[12:] + payload


def tcp_bad(dport=8080):
    return struct.pack("!HHIIBBHHH", rng.randrange(1024, 65535), dport, rng.getrandbits(32), 0, 0x50, 0x02, 65535, 0xDEAD, 0)


kinds = [
    lambda: eth(0x0800, b""),                                           # no IP header at all
    lambda: eth(0x0800, os.urandom(10)),                                # truncated IP header
    lambda: eth(0x0800, ip4(6, tcp_bad(), ihl=3)),                      # IHL below 5
    lambda: eth(0x0800, ip4(6, tcp_bad(), total=1400)),                 # total length past the frame
    lambda: eth(0x0800, ip4(6, tcp_bad(), csum=0x1234)),                # bad header checksum
    lambda: eth(0x0800, ip4(6, tcp_bad())),                             # SYN with a bad TCP checksum
    lambda: eth(0x0800, ip4(17, os.urandom(30), frag=0x2000)),          # first fragment, never completed
    lambda: eth(0x0800, ip4(17, os.urandom(64), frag=0x2000 | rng.randrange(1, 4000))),  # middle fragment
    lambda: eth(0x0806, os.urandom(rng.randrange(0, 20))),              # truncated ARP
    lambda: eth(0x86DD, struct.pack("!IHBB", 0x60000000, 1200, 6, 64) + os.urandom(32)),  # IPv6 length past the frame
    lambda: eth(0x86DD, os.urandom(rng.randrange(0, 39))),             # truncated IPv6 header
    lambda: eth(rng.randrange(65536), os.urandom(rng.randrange(0, 1400))),  # random
]
sent = 0
for i in range(count):
    try:
        s.send(kinds[i % len(kinds)]())
        sent += 1
    except OSError:
        pass  # a full queue: the frame is lost, as on a wire
print(f"sent {sent}")
