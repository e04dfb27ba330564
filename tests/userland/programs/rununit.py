# Runs the unittest names given as arguments (Python's own regression tests).
import sys
import unittest

sys.exit(unittest.main(module=None, argv=["rununit", "-v"] + sys.argv[1:]))
