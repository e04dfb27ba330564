"""Host side of the multi-homing test, inside the test's network namespace:
accept COUNT connections on 0.0.0.0:PORT and answer each with the peer
address the host saw; prints "peer ADDR" per connection."""
import socket
import sys

port, count = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(8)
s.settimeout(200)
for _ in range(count):
    c, peer = s.accept()
    c.recv(16)
    c.sendall(f"{peer[0]}\n".encode())
    c.close()
    print(f"peer {peer[0]}", flush=True)
