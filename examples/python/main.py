"""Runs inside an osvb guest on Debian's python3: exercises json, re, os,
threading and hashlib, and writes then reads back a file in /tmp. Exits 0
only if every check passed."""

import hashlib
import json
import os
import re
import sys
import threading


def check(ok, what):
    if not ok:
        print(f"FAIL: {what}", flush=True)
        sys.exit(1)


def main():
    print(f"hello from Python {sys.version.split()[0]} on {sys.platform}, pid {os.getpid()}")

    doc = {"name": "osvb", "langs": ["c", "go", "python"], "nested": {"n": 3}}
    text = json.dumps(doc, sort_keys=True)
    check(json.loads(text) == doc, "json round trip")
    print(f"json: {text}")

    words = re.findall(r"[a-z]+", "Unikernels: one app, one address space, no fork.", re.IGNORECASE)
    check(words == ["Unikernels", "one", "app", "one", "address", "space", "no", "fork"], f"re.findall gave {words}")
    print(f"re: {len(words)} words, first {words[0]!r}")

    digest = hashlib.sha256(b"osvb\n").hexdigest()
    check(digest == "d0f0f179fd972fc0f8e26614624afbb61203fdddcc4615a742653d2a8cdbb14f", f"sha256 gave {digest}")
    print(f"hashlib: sha256(b'osvb\\n') = {digest}")

    total = 0
    lock = threading.Lock()

    def work(n):
        nonlocal total
        for _ in range(n):
            with lock:
                total += 1

    threads = [threading.Thread(target=work, args=(10000,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(total == 40000, f"threads counted {total}")
    print(f"threading: 4 threads counted to {total}")

    path = os.path.join("/tmp", "osvb-python.txt")
    with open(path, "w") as f:
        f.write(text + "\n")
    with open(path) as f:
        back = f.read()
    check(back == text + "\n", "file round trip")
    st = os.stat(path)
    os.remove(path)
    check(not os.path.exists(path), "remove")
    print(f"os: wrote {st.st_size} bytes to {path}, read them back, removed it")

    print("python: all checks passed")


if __name__ == "__main__":
    main()
