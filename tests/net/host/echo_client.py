"""Host side of the tap tests, run inside the test's network namespace:
connect to HOST:PORT (retrying while the guest boots), send N random bytes,
half-close, read the echo; prints "ok HOST" or "FAIL HOST: why"."""
import os
import socket
import sys
import time

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = os.urandom(n)
err = None
for _ in range(120):
    try:
        s = socket.create_connection((host, port), timeout=30)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = bytearray()
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        print(f"ok {host}" if got == data else f"FAIL {host}: {len(got)} of {n} bytes came back")
        sys.exit(0)
    except OSError as e:
        err = e
        time.sleep(1)
print(f"FAIL {host}: {err}")
