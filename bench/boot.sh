#!/usr/bin/env bash
# Boot and build bench (issue 3). Side by side in one hyperfine run, from QEMU
# start to QEMU exit on the same machine type (microvm + qboot, TCG or KVM):
#   floor    a kernel that only writes isa-debug-exit (QEMU's own cost)
#   minimal  the minimal osvb image (bench/boot/minimal/app.yaml)
#   linux    Debian's cloud kernel with a static hello as /init in an initramfs
# then the build numbers: clean build, unchanged rebuild (node start-up
# included, against bare node start-up), and the stripped kernel.elf size.
#
# Usage: bench/boot.sh [--runs N] [--fixture]
#   --fixture  use the test fixture kernel (tests/fixtures/kernel-min) as the
#              "minimal" image, e.g. while the real kernel does not build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=10
FIXTURE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --fixture) FIXTURE=1; shift ;;
    *) echo "usage: bench/boot.sh [--runs N] [--fixture]" >&2; exit 2 ;;
  esac
done

for t in hyperfine qemu-system-x86_64 gcc ld strip musl-gcc cpio jq; do
  command -v "$t" >/dev/null || { echo "bench: $t missing (scripts/setup installs it)" >&2; exit 1; }
done
if ! ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1; then
  echo "bench: installing linux-image-cloud-amd64 (kernel files in /boot only)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-image-cloud-amd64 >/dev/null
fi
VMLINUZ=$(ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -1)

[ -f dist/cli/main.js ] || npm run --silent build
OSVB="node $ROOT/bin/osvb.js"
WORK=$(mktemp -d /tmp/osvb-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export XDG_CACHE_HOME="$WORK/cache"

# --- the three kernels -------------------------------------------------------
gcc -c bench/boot/floor/floor.S -o "$WORK/floor.o"
ld -nostdlib -z max-page-size=4096 -T bench/boot/floor/floor.ld -o "$WORK/floor.elf" "$WORK/floor.o"

if [ -n "$FIXTURE" ]; then
  MIN_ARGS=(--config tests/fixtures/kernel-min-app/app.yaml --srctree tests/fixtures/kernel-min)
  MIN_NAME="fixture kernel"
else
  MIN_ARGS=(--config bench/boot/minimal/app.yaml)
  MIN_NAME="minimal osvb"
fi
$OSVB build "${MIN_ARGS[@]}" --out "$WORK/minimal" >/dev/null

musl-gcc -static -O2 -o "$WORK/init" bench/boot/linux/hello.c
mkdir -p "$WORK/initramfs"
cp "$WORK/init" "$WORK/initramfs/init"
(cd "$WORK/initramfs" && printf 'init\n' | cpio -o -H newc --quiet | gzip -1 > "$WORK/initramfs.cpio.gz")

# All three use the command line osvb run uses for the minimal image, with
# 128 MiB (what the Linux guest needs to boot).
QEMU_CMD=$($OSVB run "$WORK/minimal" --dry-run -m 128M)
ACCEL=$(sed -n 's/.* -accel \([a-z]*\) .*/\1/p' <<<"$QEMU_CMD")
BASE=$(sed -e 's/ -kernel .*//' <<<"$QEMU_CMD")
# Each run is bounded by `timeout` (the same small cost for all three).
# tsc_early_khz: under TCG on a loaded host Linux's PIT calibration of the TSC
# fails and the boot can hang; a given TSC rate skips the calibration (which
# only makes Linux faster).
FLOOR_CMD="timeout 60 $BASE -kernel $WORK/floor.elf"
MIN_CMD="timeout 60 $QEMU_CMD"
LINUX_CMD="timeout 60 $BASE -kernel $VMLINUZ -initrd $WORK/initramfs.cpio.gz -append 'console=ttyS0 quiet panic=-1 tsc_early_khz=2000000'"

# isa-debug-exit makes QEMU exit 1 for status 0: accept that, check the output.
check() { # name cmd expected-output
  local out
  out=$(eval "$2" 2>&1 </dev/null) || true
  grep -q "$3" <<<"$out" || { echo "bench: $1 did not print \"$3\":"; echo "$out" | tail -5; exit 1; } >&2
}
check floor "$FLOOR_CMD; echo rc=\$?" 'rc=1'
check linux "$LINUX_CMD" 'hello from Linux /init'

echo "== boot: QEMU start to exit, microvm + qboot, $ACCEL, $RUNS runs each"
hyperfine --runs "$RUNS" --warmup 1 -i -N 2>/dev/null --export-json "$WORK/boot.json" \
  -n floor "$FLOOR_CMD" -n "$MIN_NAME" "$MIN_CMD" -n linux "$LINUX_CMD" >/dev/null \
  || hyperfine --runs "$RUNS" --warmup 1 -i --export-json "$WORK/boot.json" \
    -n floor "$FLOOR_CMD" -n "$MIN_NAME" "$MIN_CMD" -n linux "$LINUX_CMD" >/dev/null
jq -r '.results[] | "\(.command)\t\(.mean*1000|floor) ms ± \(.stddev*1000|floor)"' "$WORK/boot.json" | column -t -s $'\t'
jq -r --arg m "$MIN_NAME" '
  (.results | map({(.command): .mean}) | add) as $t
  | "ratios: \($m)/floor = \($t[$m]/$t.floor*100|round/100)x   linux/floor = \($t.linux/$t.floor*100|round/100)x   linux/\($m) = \($t.linux/$t[$m]*100|round/100)x"' \
  "$WORK/boot.json"

echo
echo "== build: $MIN_NAME"
hyperfine --runs 5 -i --export-json "$WORK/build.json" \
  --prepare "rm -rf $WORK/cache $WORK/b1" -n "clean build" "$OSVB build ${MIN_ARGS[*]} --out $WORK/b1" \
  >/dev/null
$OSVB build "${MIN_ARGS[@]}" --out "$WORK/b2" >/dev/null
hyperfine --runs 20 --warmup 3 -N --export-json "$WORK/rebuild.json" \
  -n "node start-up" "node -e 0" -n "unchanged rebuild" "$OSVB build ${MIN_ARGS[*]} --out $WORK/b2" >/dev/null
jq -r '.results[] | "\(.command)\t\(.mean*1000|floor) ms ± \(.stddev*1000|floor)"' "$WORK/build.json" "$WORK/rebuild.json" \
  | column -t -s $'\t'
jq -r '(.results | map({(.command): .mean}) | add) as $t
  | "ratio: unchanged rebuild / node start-up = \($t["unchanged rebuild"]/$t["node start-up"]*100|round/100)x"' \
  "$WORK/rebuild.json"
if [ -z "$FIXTURE" ]; then
  # One changed symbol: SCHED_SLICE_MS is named by sched.c only.
  printf 'name: bench-minimal\nkernel:\n  profile: microvm\n  config:\n    SCHED_SLICE_MS: 5\nrun:\n  memory: 128M\n' \
    > "$WORK/slice.yaml"
  t0=$(date +%s%N)
  $OSVB build --config "$WORK/slice.yaml" --out "$WORK/b3" --json > "$WORK/slice.json"
  t1=$(date +%s%N)
  jq -r --arg ms "$(( (t1 - t0) / 1000000 ))" \
    '"one changed symbol (SCHED_SLICE_MS=5): \(.compiled) of \(.compiled + .cached) objects compiled, \($ms) ms"' \
    "$WORK/slice.json"
fi
strip -o "$WORK/kernel.stripped" "$WORK/b2/kernel.elf"
echo "kernel.elf: $(stat -c %s "$WORK/b2/kernel.elf") bytes, stripped $(stat -c %s "$WORK/kernel.stripped") bytes"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1), $(date -u +%Y-%m-%d)"
