# `python3 -m test ARGS...` for an image whose program is a script: runs
# CPython's regression-test driver (the test package) with the given arguments.
import runpy
import sys

sys.argv = ["python3 -m test"] + sys.argv[1:]
runpy.run_module("test", run_name="__main__", alter_sys=True)
