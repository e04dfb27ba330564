#!/usr/bin/env bash
# Unmodified Linux programs on osvb against Debian's Linux cloud kernel, side
# by side in one run on the same QEMU, machine (microvm + qboot) and devices:
#   1. boot to main: a static musl hello, QEMU start to QEMU exit; osvb runs it
#      with osvb.exec, Linux as /init (rdinit) from an initramfs; plus the QEMU
#      floor (a kernel that only writes isa-debug-exit)
#   2. image size: stripped kernel.elf + rootfs cpio of the hello image
#      (Linux: vmlinuz + the same cpio as initramfs, for reference)
#   3. Python: `print("hi")` with Debian's python3, QEMU start to exit, the
#      same rootfs cpio (osvb's rootfs builder) in both guests
#   4. syscall cost: a raw-`syscall` getpid loop timed inside each guest
# Both guests end the VM when the program exits: osvb through its exit
# protocol (isa-debug-exit), Linux by panicking when init exits (panic=-1,
# reboot=t, QEMU -no-reboot). Ratios compare medians of wall-clock time, and
# the QEMU process's CPU time (user+sys, less disturbed by a busy host).
#
# Usage: bench/userland.sh [--runs N] [--calls N]   (default 5 runs, 1000000 calls)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=5
CALLS=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --calls) CALLS="$2"; shift 2 ;;
    *) echo "usage: bench/userland.sh [--runs N] [--calls N]" >&2; exit 2 ;;
  esac
done

die() { echo "bench: $*" >&2; exit 1; }
for t in hyperfine qemu-system-x86_64 musl-gcc gcc ld strip jq node python3 timeout; do
  command -v "$t" >/dev/null || die "$t missing (scripts/setup installs it)"
done
[ -e /usr/share/qemu/qboot.rom ] || [ -n "$(find "$(dirname "$(dirname "$(readlink -f "$(command -v qemu-system-x86_64)")")")/share/qemu" -name qboot.rom 2>/dev/null)" ] \
  || die "qboot.rom missing (QEMU's firmware files, package qemu-system-data)"
if ! ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1; then
  echo "bench: installing linux-image-cloud-amd64 (it only adds files to /boot)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-image-cloud-amd64 >/dev/null \
    || die "cannot install linux-image-cloud-amd64"
fi
VMLINUZ=$(ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -n1)
[ -r "$VMLINUZ" ] || die "$VMLINUZ is not readable"
# Under TCG the guest's TSC counts at the host's rate; Linux is told that rate
# (tsc_early_khz) because its PIT calibration fails and hangs on a busy host.
TSC_KHZ=${TSC_KHZ:-$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)}
[ -n "$TSC_KHZ" ] || die "cannot read the CPU frequency from /proc/cpuinfo; set TSC_KHZ"

npm run --silent build
WORK=$(mktemp -d "${TMPDIR:-/tmp}/osvb-bench-userland.XXXXXX")
RECORDS=()
cleanup() {
  rm -rf "$WORK"
  for r in "${RECORDS[@]}"; do rm -f "$r"; done
}
trap cleanup EXIT

# --- the programs, the floor, and both guests' QEMU command lines -------------
mkdir -p "$WORK/bin"
musl-gcc -static -O2 -s -o "$WORK/bin/hello" bench/userland/hello.c
musl-gcc -static -O2 -s -o "$WORK/bin/getpid" bench/userland/getpid.c
cp bench/userland/hi.py "$WORK/bin/hi.py"
gcc -c bench/userland/floor.S -o "$WORK/floor.o"
ld -nostdlib -z max-page-size=4096 -T bench/userland/floor.ld -o "$WORK/floor.elf" "$WORK/floor.o"

GETPID_CALLS="$CALLS" TSC_KHZ="$TSC_KHZ" VMLINUZ="$VMLINUZ" \
  node bench/userland/prepare.mjs "$WORK" >"$WORK/prep.json"
P="$WORK/prep.json"
mapfile -t RECORDS < <(jq -r '.[].record' "$P")
# cmd APP GUEST: the QEMU command as one shell-quoted string, bounded by timeout.
cmd() { echo "timeout 300 $(jq -r --arg a "$1" --arg g "$2" '.[$a][$g] | @sh' "$P")"; }
# The floor: the osvb hello's QEMU command up to -kernel (same machine, firmware, devices).
FLOOR="timeout 60 $(jq -r '.hello.osvb | .[:index("-kernel")] | @sh' "$P") -kernel $WORK/floor.elf"

# run APP GUEST: one boot, console output on stdout.
run() { eval "$(cmd "$1" "$2")" </dev/null 2>&1 || true; }
expect() { # APP GUEST TEXT
  local out
  out=$(run "$1" "$2")
  grep -q "$3" <<<"$out" || die "$1 on $2 did not print \"$3\"; its last lines:
$(tail -n 8 <<<"$out")"
}
expect hello osvb 'hello from main'
expect hello linux 'hello from main'
expect python osvb '^hi'
expect python linux '^hi'
out=$(eval "$FLOOR" </dev/null 2>&1) && st=0 || st=$?
[ "$st" = 1 ] || die "the floor kernel did not exit through isa-debug-exit (QEMU exit $st): $out"

# --- measurements -------------------------------------------------------------
TIMEFMT='\(.command)\t\(.median*1000|round) ms median\t\(.mean*1000|round) ± \(.stddev*1000|round) ms mean\t\((.user+.system)*1000|round) ms cpu'
table() { jq -r ".results[] | \"  $TIMEFMT\"" "$1" | column -t -s $'\t'; }
# ratio FILE A B: "median wall A/B, cpu A/B"
ratio() {
  jq -r --arg a "$2" --arg b "$3" '(.results | map({(.command): .}) | add) as $r
    | "\($r[$a].median / $r[$b].median * 100 | round / 100)x wall, \(($r[$a].user + $r[$a].system) / ($r[$b].user + $r[$b].system) * 100 | round / 100)x cpu"' "$1"
}
bench() { # JSON name cmd name cmd ...
  local json=$1; shift
  hyperfine -N -i --runs "$RUNS" --warmup 1 --export-json "$json" "$@" >/dev/null 2>&1 \
    || die "hyperfine failed ($*)"
}

echo "== 1. boot to main: static musl hello, QEMU start to exit (microvm + qboot, TCG, 128 MiB)"
bench "$WORK/boot.json" -n floor "$FLOOR" -n osvb "$(cmd hello osvb)" -n linux "$(cmd hello linux)"
table "$WORK/boot.json"
echo "  osvb / floor   $(ratio "$WORK/boot.json" osvb floor)   (goal: 1.3x)"
echo "  linux / floor  $(ratio "$WORK/boot.json" linux floor)"
echo "  linux / osvb   $(ratio "$WORK/boot.json" linux osvb)"

echo
echo "== 2. image size: static hello (kernel.elf stripped + rootfs cpio)"
strip -o "$WORK/kernel.stripped" "$(jq -r .hello.kernel "$P")"
K=$(stat -c %s "$WORK/kernel.stripped")
C=$(stat -c %s "$(jq -r .hello.archive "$P")")
V=$(stat -c %s "$VMLINUZ")
printf '  osvb   kernel.elf %8d B (unstripped %d B, %s modules) + rootfs.cpio %6d B = %8d B (goal: < 256000 B)\n' \
  "$K" "$(stat -c %s "$(jq -r .hello.kernel "$P")")" "$(jq -r .hello.modules "$P")" "$C" $((K + C))
printf '  linux  vmlinuz    %8d B + initramfs (the same cpio) %6d B = %8d B (no modules needed)\n' "$V" "$C" $((V + C))
echo "  linux / osvb   $(awk -v a=$((V + C)) -v b=$((K + C)) 'BEGIN { printf "%.1fx", a / b }')"

echo
echo "== 3. Python: print(\"hi\") with Debian's $(python3 -V), QEMU start to exit (256 MiB)"
echo "  rootfs.cpio $(stat -c %s "$(jq -r .python.archive "$P")") B, in both guests"
bench "$WORK/python.json" -n osvb "$(cmd python osvb)" -n linux "$(cmd python linux)"
table "$WORK/python.json"
echo "  linux / osvb   $(ratio "$WORK/python.json" linux osvb)   (goal: > 1)"

echo
echo "== 4. syscall cost: getpid via the syscall instruction, $CALLS calls in 10 rounds, timed in the guest"
GP_RUNS=$(( RUNS < 3 ? RUNS : 3 ))
for g in osvb linux; do
  for _ in $(seq "$GP_RUNS"); do
    line=$(run getpid "$g" | grep -a 'getpid-bench:' | tr -d '\r') || die "getpid on $g printed no result"
    echo "$g $line" >>"$WORK/getpid.txt"
  done
done
# Per guest: the median over boots of each boot's mean, and the fastest round of all.
gp() { # GUEST FIELD(mean_ns|min_ns) median|min
  grep "^$1 " "$WORK/getpid.txt" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p" | sort -n \
    | awk -v how="$3" '{ v[NR] = $1 } END { print (how == "min") ? v[1] : v[int((NR + 1) / 2)] }'
}
for g in osvb linux; do
  printf '  %-6s %7.1f ns/call (median of %d boots; fastest round %.1f ns/call)\n' "$g" "$(gp "$g" mean_ns median)" \
    "$GP_RUNS" "$(gp "$g" min_ns min)"
done
echo "  linux / osvb   $(awk -v a="$(gp linux mean_ns median)" -v b="$(gp osvb mean_ns median)" 'BEGIN { printf "%.2fx", a / b }') (median), $(awk -v a="$(gp linux min_ns min)" -v b="$(gp osvb min_ns min)" 'BEGIN { printf "%.2fx", a / b }') (fastest round)"

echo
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), TCG (no KVM), $(qemu-system-x86_64 --version | head -n1 | sed 's/ (.*//'), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "linux: $(basename "$VMLINUZ"), console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=$TSC_KHZ; $RUNS runs each (+1 warm-up)"
