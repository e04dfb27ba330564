#!/usr/bin/env bash
# The Linux ABI yardstick: test suites nobody here wrote, run on the host and
# in an osvb guest, compared test by test.
#   Go:     the standard library's own tests (`go test -c`, run with
#           -test.short -test.v from the package's source directory)
#   Python: CPython's regression tests (Debian's libpython3.11-testsuite,
#           `python3 -m test -v`)
# Each suite is one image (osvb build) and one boot (osvb run, 2 vCPUs, 1 GiB,
# TCG unless KVM works). Per suite it prints: tests passed on both, failed
# only in the guest (each with the first line of why), passed on the host but
# not run in the guest (the guest stopped early), failed on the host, and
# whether the guest's run finished.
#
# Usage: bench/abi-suites.sh [--go "os time ..."] [--py "test_os ..."] [--timeout S] [--keep DIR]
#   --go ""/--py "" skips that language. Logs stay in DIR with --keep.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

GO_PKGS="os os/exec os/signal syscall time sync runtime path/filepath io/fs net"
PY_TESTS="test_os test_posix test_subprocess test_signal test_threading test_time test_select test_selectors test_fcntl test_mmap test_tempfile test_shutil test_pathlib test_io test_socket"
TIMEOUT=1200
KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --go) GO_PKGS="$2"; shift 2 ;;
    --py) PY_TESTS="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --keep) KEEP="$2"; shift 2 ;;
    *) echo "usage: bench/abi-suites.sh [--go PKGS] [--py TESTS] [--timeout S] [--keep DIR]" >&2; exit 2 ;;
  esac
done

die() { echo "abi-suites: $*" >&2; exit 1; }
for t in go python3 node qemu-system-x86_64 timeout; do
  command -v "$t" >/dev/null || die "$t missing (scripts/setup installs it)"
done
[ -z "$PY_TESTS" ] || [ -f /usr/lib/python3.11/test/regrtest.py ] || [ -d /usr/lib/python3.11/test/libregrtest ] \
  || die "CPython's tests missing: apt-get install libpython3.11-testsuite (scripts/setup does)"

npm run --silent build
OSVB="node $ROOT/bin/osvb.js"
if [ -n "$KEEP" ]; then
  WORK=$(realpath -m "$KEEP"); mkdir -p "$WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/osvb-abi-suites.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
fi
GOROOT=$(go env GOROOT)
PYTHON=/usr/bin/python3  # Debian's, whose tests libpython3.11-testsuite installs
PYVER=$($PYTHON -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
ROWS="$WORK/rows.txt"
: >"$ROWS"

echo "abi-suites: $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "abi-suites: work in $WORK; guest timeout ${TIMEOUT}s per suite"

# run_guest NAME APP_YAML: build and boot; the log gets stdout and stderr.
run_guest() {
  local name=$1 yaml=$2 st=0
  $OSVB build --config "$yaml" --out "$WORK/img-$name" -j 2 >"$WORK/$name.build.log" 2>&1 \
    || { echo "abi-suites: osvb build failed for $name (see $WORK/$name.build.log)" >&2; return 1; }
  timeout $((TIMEOUT + 60)) $OSVB run "$WORK/img-$name" --timeout "$TIMEOUT" >"$WORK/$name.guest.log" 2>&1 || st=$?
  echo "$st" >"$WORK/$name.guest.status"
}

for pkg in $GO_PKGS; do
  name="go-${pkg//\//_}"
  echo "abi-suites: Go $pkg" >&2
  bin="$WORK/$name.test"
  # Debian's Go has no lib/time/zoneinfo.zip, which time's tests load: embed it.
  tags=""; [ "$pkg" = time ] && tags="-tags=timetzdata"
  CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go test -c $tags -o "$bin" "$pkg" >"$WORK/$name.build.log" 2>&1 \
    || { echo "abi-suites: go test -c $pkg failed (see $WORK/$name.build.log)" >&2; continue; }
  src="$GOROOT/src/$pkg"
  (cd "$src" && timeout "$TIMEOUT" "$bin" -test.short -test.v -test.timeout=$((TIMEOUT - 30))s) \
    >"$WORK/$name.host.log" 2>&1 || true
  cat >"$WORK/$name.yaml" <<YAML
name: $name
app:
  exec: $bin
  args: [-test.short, -test.v, -test.timeout=$((TIMEOUT - 30))s]
  workdir: $src
files:
  $src: $src
  /usr/share/zoneinfo: /usr/share/zoneinfo
run:
  memory: 1G
  cpus: 2
YAML
  run_guest "$name" "$WORK/$name.yaml" || continue
  node bench/abi-suites/compare.mjs go "$pkg" "$WORK/$name.host.log" "$WORK/$name.guest.log" \
    "$(cat "$WORK/$name.guest.status")" | tee -a "$ROWS"
done

# The extension modules only the tests use (osvb's rootfs leaves them out).
TESTMODS=""
for m in /usr/lib/python$PYVER/lib-dynload/_test*.so /usr/lib/python$PYVER/lib-dynload/_ctypes_test*.so \
  /usr/lib/python$PYVER/lib-dynload/_xx*.so; do
  [ -e "$m" ] && TESTMODS+="  $m: $m"$'\n'
done

for t in $PY_TESTS; do
  name="py-$t"
  echo "abi-suites: Python $t" >&2
  (cd /tmp && timeout "$TIMEOUT" "$PYTHON" -m test -v --timeout 300 "$t") >"$WORK/$name.host.log" 2>&1 || true
  cat >"$WORK/$name.yaml" <<YAML
name: $name
app:
  runtime: python
  exec: $PYTHON
  script: $ROOT/bench/abi-suites/regrtest.py
  args: [-v, --timeout, "300", $t]
  workdir: /tmp
files:
  /usr/lib/python$PYVER/test: /usr/lib/python$PYVER/test
$TESTMODS
run:
  memory: 1G
  cpus: 2
YAML
  run_guest "$name" "$WORK/$name.yaml" || continue
  node bench/abi-suites/compare.mjs py "$t" "$WORK/$name.host.log" "$WORK/$name.guest.log" \
    "$(cat "$WORK/$name.guest.status")" | tee -a "$ROWS"
done

echo
echo "| suite | passed on both | failed only in the guest | not run in the guest | failed on the host | guest run |"
echo "|---|---|---|---|---|---|"
grep '^|' "$ROWS" || true
