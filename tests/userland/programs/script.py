# json, re, threading, hashlib and a file in /tmp; exits with status 5.
import json, re, os, threading, hashlib, sys
print("python", sys.version.split()[0])
d = {"a": [1, 2, 3], "b": "x"}
s = json.dumps(d)
print(s, json.loads(s) == d)
print(re.findall(r"\d+", "a1b22c333"))
res = []
def work(n):
    res.append(sum(range(n)))
ts = [threading.Thread(target=work, args=(i * 1000,)) for i in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print(sorted(res))
print(hashlib.sha256(b"abc").hexdigest())
with open("/tmp/f.txt", "w") as f:
    f.write("hello tmp")
print(open("/tmp/f.txt").read(), os.listdir("/tmp"))
sys.exit(5)
