#!/usr/bin/env bash
# Boot and build bench (issues 3 and 7). Side by side in one hyperfine run, from
# QEMU start to QEMU exit on the same machine type (microvm + qboot, then pc +
# SeaBIOS; TCG or KVM):
#   floor    a kernel that only writes isa-debug-exit (QEMU's own cost)
#   minimal  the minimal osvb image (bench/boot/minimal/app.yaml)
#   hello    the static musl hello (examples/hello-c/app.static.yaml)
#   linux    Debian's cloud kernel with a static hello as /init in an initramfs
#            (microvm only)
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

# The static musl hello (examples/hello-c), the image issue 7's goal names.
make -s -C examples/hello-c build/hello-static >/dev/null
$OSVB build --config examples/hello-c/app.static.yaml --out "$WORK/hello" >/dev/null
# One boot of each teaches osvb run this host's clock rates (the first boot on
# a host measures them); the measured runs are then told them, as every later
# run is.
for img in minimal hello; do $OSVB run "$WORK/$img" >/dev/null 2>&1 </dev/null || true; done

# isa-debug-exit makes QEMU exit 1 for status 0: accept that, check the output.
check() { # name cmd expected-output
  local out
  out=$(eval "$2" 2>&1 </dev/null) || true
  grep -q "$3" <<<"$out" || { echo "bench: $1 did not print \"$3\":"; echo "$out" | tail -5; exit 1; } >&2
}

# QEMU start to exit on one machine type: floor, minimal, hello (and Linux on
# microvm), side by side in one hyperfine run. Each run is bounded by
# `timeout` (the same small cost for all).
boot_bench() { # machine
  local machine=$1 qemu_cmd base accel
  # All use the command line osvb run uses for the image, with 128 MiB (what
  # the Linux guest needs to boot).
  qemu_cmd=$($OSVB run "$WORK/minimal" --dry-run -m 128M --machine "$machine")
  accel=$(sed -n 's/.* -accel \([a-z]*\) .*/\1/p' <<<"$qemu_cmd")
  base=$(sed -e 's/ -kernel .*//' <<<"$qemu_cmd")
  local floor_cmd="timeout 60 $base -kernel $WORK/floor.elf"
  local min_cmd="timeout 60 $qemu_cmd"
  local hello_cmd="timeout 60 $($OSVB run "$WORK/hello" --dry-run -m 128M --machine "$machine")"
  # tsc_early_khz: under TCG on a loaded host Linux's PIT calibration of the TSC
  # fails and the boot can hang; a given TSC rate skips the calibration (which
  # only makes Linux faster).
  local linux_cmd="timeout 60 $base -kernel $VMLINUZ -initrd $WORK/initramfs.cpio.gz -append 'console=ttyS0 quiet panic=-1 tsc_early_khz=2000000'"
  check floor "$floor_cmd; echo rc=\$?" 'rc=1'
  check hello "$hello_cmd" 'GREETING'
  local cmds=(-n floor "$floor_cmd" -n "$MIN_NAME" "$min_cmd" -n hello "$hello_cmd")
  if [ "$machine" = microvm ]; then
    check linux "$linux_cmd" 'hello from Linux /init'
    cmds+=(-n linux "$linux_cmd")
  fi
  echo "== boot: QEMU start to exit, $machine, $accel, $RUNS runs each"
  hyperfine --runs "$RUNS" --warmup 1 -i -N 2>/dev/null --export-json "$WORK/boot-$machine.json" "${cmds[@]}" >/dev/null \
    || hyperfine --runs "$RUNS" --warmup 1 -i --export-json "$WORK/boot-$machine.json" "${cmds[@]}" >/dev/null
  # CPU time (user+sys) is printed too: on a busy host it varies less than wall time.
  jq -r '.results[] | "\(.command)\twall \(.mean*1000|floor) ms ± \(.stddev*1000|floor)\tcpu \((.user+.system)*1000|floor) ms"' \
    "$WORK/boot-$machine.json" | column -t -s $'\t'
  jq -r --arg m "$MIN_NAME" '
    def r(a; b): (a / b * 100 | round / 100 | tostring) + "x";
    (.results | map({(.command): .mean}) | add) as $t
    | (.results | map({(.command): (.user + .system)}) | add) as $c
    | "ratios (wall): \($m)/floor = \(r($t[$m]; $t.floor))   hello/floor = \(r($t.hello; $t.floor))"
      + (if $t.linux then "   linux/floor = \(r($t.linux; $t.floor))   linux/\($m) = \(r($t.linux; $t[$m]))" else "" end),
      "ratios (cpu):  \($m)/floor = \(r($c[$m]; $c.floor))   hello/floor = \(r($c.hello; $c.floor))"
      + (if $c.linux then "   linux/floor = \(r($c.linux; $c.floor))   linux/\($m) = \(r($c.linux; $c[$m]))" else "" end)' \
    "$WORK/boot-$machine.json"
}
boot_bench microvm
echo
boot_bench pc

echo
echo "== build: $MIN_NAME"
hyperfine --runs 5 -i --export-json "$WORK/build.json" \
  --prepare "rm -rf $WORK/cache $WORK/b1" -n "clean build" "$OSVB build ${MIN_ARGS[*]} --out $WORK/b1" \
  >/dev/null
$OSVB build "${MIN_ARGS[@]}" --out "$WORK/b2" >/dev/null
hyperfine --runs 20 --warmup 3 -N --export-json "$WORK/rebuild.json" \
  -n "node start-up" "node -e 0" -n "unchanged rebuild" "$OSVB build ${MIN_ARGS[*]} --out $WORK/b2" >/dev/null
jq -r '.results[] | "\(.command)\twall \(.mean*1000|floor) ms ± \(.stddev*1000|floor)\tcpu \((.user+.system)*1000|floor) ms"' \
  "$WORK/build.json" "$WORK/rebuild.json" \
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
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1), $(date -u +%Y-%m-%d)"
