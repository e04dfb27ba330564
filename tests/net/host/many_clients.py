"""Host side of the concurrency test, inside the test's network namespace:
open N connections to HOST:PORT at once (retrying while the guest boots),
then on each send BYTES random bytes, half-close and read the echo. Prints
"ok N HOST" when every echo is exact, else "FAIL ..."."""
import os
import socket
import sys
import threading
import time

host, port, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

# Wait for the server with one probe-free connect loop: the first connection counts.
socks = []
deadline = time.time() + 150
while True:
    try:
        socks.append(socket.create_connection((host, port), timeout=60))
        break
    except OSError as e:
        if time.time() > deadline:
            print(f"FAIL {host}: {e}")
            sys.exit(0)
        time.sleep(1)
for _ in range(n - 1):
    socks.append(socket.create_connection((host, port), timeout=60))

errors = []
start = threading.Barrier(n)


def run(s):
    data = os.urandom(size)
    try:
        start.wait()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = bytearray()
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        if got != data:
            errors.append(f"{len(got)} of {size} bytes came back")
    except OSError as e:
        errors.append(str(e))
    finally:
        s.close()


threads = [threading.Thread(target=run, args=(s,)) for s in socks]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"ok {n} {host}" if not errors else f"FAIL {host}: {len(errors)} errors, first: {errors[0]}")
