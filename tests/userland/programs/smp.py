# Python sees the CPUs: os.cpu_count() (sysconf, i.e. /sys/devices/system/cpu)
# and os.sched_getaffinity (the kernel's CPU set), and one thread per CPU
# sums into a shared total under a lock.
import os
import threading

print("python cpus", os.cpu_count(), len(os.sched_getaffinity(0)))
total = 0
lock = threading.Lock()


def work(n):
    global total
    s = 0
    for i in range(n):
        s += i
    with lock:
        total += s


threads = [threading.Thread(target=work, args=(20000,)) for _ in range(os.cpu_count())]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("python total", total, "want", os.cpu_count() * sum(range(20000)))
