# Python's subprocess and multiprocessing (fork start method) on real
# processes: pipes both ways with more than a pipe holds, a timeout that
# kills the child, cwd and env, and a pool of forked workers.
import multiprocessing as mp
import os
import subprocess
import sys
import time

big = "x" * 300000
p = subprocess.run(
    [sys.executable, "-c", "import sys; d = sys.stdin.read(); sys.stdout.write(d.upper()); sys.exit(4)"],
    input=big, capture_output=True, text=True,
)
print("pipes", len(p.stdout), p.stdout == big.upper(), p.returncode)

try:
    subprocess.run([sys.executable, "-c", "import time; time.sleep(60)"], timeout=1)
    print("timeout none")
except subprocess.TimeoutExpired as e:
    print("timeout expired", round(e.timeout))

os.makedirs("/tmp/work", exist_ok=True)
out = subprocess.check_output(
    [sys.executable, "-c", "import os; print(os.getcwd(), os.environ.get('ONLY'), 'PATH' in os.environ)"],
    cwd="/tmp/work", env={"ONLY": "this"}, text=True,
)
print("cwd env", out.strip())

with subprocess.Popen([sys.executable, "-c", "import sys\nfor l in sys.stdin: print(l.strip()[::-1], flush=True)"],
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as q:
    q.stdin.write("abc\n")
    q.stdin.flush()
    first = q.stdout.readline().strip()
    q.stdin.write("hello\n")
    q.stdin.close()
    rest = q.stdout.read().strip()
print("interactive", first, rest, q.wait())


def square(x):
    return x * x, os.getpid()


if __name__ == "__main__":
    ctx = mp.get_context("fork")
    with ctx.Pool(2) as pool:
        res = pool.map(square, range(20))
    print("pool", sum(r[0] for r in res), len({r[1] for r in res}) >= 1, os.getpid() not in {r[1] for r in res})
    qq = ctx.Queue()
    kids = [ctx.Process(target=lambda i=i: qq.put(i * 10)) for i in range(3)]
    for k in kids:
        k.start()
    got = sorted(qq.get(timeout=30) for _ in kids)
    for k in kids:
        k.join()
    print("process", got, [k.exitcode for k in kids])
    sys.exit(5)
