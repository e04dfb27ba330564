#!/usr/bin/env bash
# SMP scaling: a CPU-bound program with one thread per CPU (C pthreads, and
# Go with GOMAXPROCS = the CPUs it sees), the same total work on 1 and 2
# vCPUs, on osvb and on Debian's Linux cloud kernel, side by side in one run on
# the same QEMU command (microvm + qboot, TCG runs each vCPU on a host thread).
# Each guest times the parallel part itself (CLOCK_MONOTONIC) and prints it;
# boots alternate between the guests and vCPU counts, and the median of the
# runs is compared. Goals: osvb on 2 vCPUs >= 1.8x its 1-vCPU speed, and no
# slower than Linux on 2 vCPUs.
#
# Linux is booted as in bench/userland.sh: the osvb image's rootfs.cpio is its
# initramfs, the program its rdinit, the same QEMU argv with -kernel/-append
# changed, tsc_early_khz and tsc=reliable (its calibration fails under TCG).
#
# Usage: bench/smp.sh [--runs N] [--rounds N]   (default 3 runs, 400000000 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=3
ROUNDS=400000000
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    *) echo "usage: bench/smp.sh [--runs N] [--rounds N]" >&2; exit 2 ;;
  esac
done

die() { echo "bench: $*" >&2; exit 1; }
for t in qemu-system-x86_64 musl-gcc go jq node timeout; do
  command -v "$t" >/dev/null || die "$t missing (scripts/setup installs it)"
done
if ! ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1; then
  echo "bench: installing linux-image-cloud-amd64 (it only adds files to /boot)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-image-cloud-amd64 >/dev/null \
    || die "cannot install linux-image-cloud-amd64"
fi
VMLINUZ=$(ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -n1)
[ -r "$VMLINUZ" ] || die "$VMLINUZ is not readable"
TSC_KHZ=${TSC_KHZ:-$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)}
[ -n "$TSC_KHZ" ] || die "cannot read the CPU frequency from /proc/cpuinfo; set TSC_KHZ"

npm run --silent build
OSVB="node $ROOT/bin/osvb.js"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/osvb-bench-smp.XXXXXX")
cleanup() {
  if [ -f "$WORK/records" ]; then xargs -r rm -f <"$WORK/records"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/bin"
musl-gcc -static -O2 -s -o "$WORK/bin/spin" bench/smp/spin.c -lpthread
(cd bench/smp/gospin && CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -o "$WORK/bin/gospin" .)
for app in spin gospin; do
  printf 'name: bench-%s\napp:\n  exec: bin/%s\n  args: ["%s"]\nrun:\n  memory: 256M\n  cpus: 2\n' \
    "$app" "$app" "$ROUNDS" >"$WORK/$app.yaml"
done

LINUX_OPTS="console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=$TSC_KHZ tsc=reliable"
for app in spin gospin; do
  $OSVB build --config "$WORK/$app.yaml" --out "$WORK/img/$app" >/dev/null
  prog=$(jq -r '.rootfs.command[0]' "$WORK/img/$app/manifest.json")
  args=$(jq -r '.kernel.cmdline | sub("^.*? -- ?"; "")' "$WORK/img/$app/manifest.json")
  for n in 1 2; do
    $OSVB run "$WORK/img/$app" -c "$n" --dry-run --json | jq .argv >"$WORK/$app.$n.osvb.json"
    jq -r '.[] | select(startswith("file,id=osvb-exit,path=")) | sub("^.*path="; "")' "$WORK/$app.$n.osvb.json" \
      >>"$WORK/records"
    jq --arg k "$VMLINUZ" --arg a "$LINUX_OPTS rdinit=$prog -- $args" \
      'index("-kernel") as $i | index("-append") as $j | .[$i + 1] = $k | .[$j + 1] = $a' \
      "$WORK/$app.$n.osvb.json" >"$WORK/$app.$n.linux.json"
  done
done

# one APP N GUEST: boot once, append "APP N GUEST MS" to results.
one() {
  local out ms
  out=$(eval "timeout 600 $(jq -r '@sh' "$WORK/$1.$2.$3.json")" </dev/null 2>&1 || true)
  ms=$(tr -d '\r' <<<"$out" | grep -o "spin threads $2 ms [0-9]*" | head -n1 | sed 's/.* //')
  [ -n "$ms" ] || die "$1 on $3 with $2 vCPUs printed no result; its last lines:
$(tail -n 8 <<<"$out")"
  echo "$1 $2 $3 $ms" >>"$WORK/results"
}
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
for _ in $(seq "$RUNS"); do
  for app in spin gospin; do
    for n in 1 2; do
      for g in osvb linux; do one "$app" "$n" "$g"; done
    done
  done
done

med() { # APP N GUEST
  awk -v a="$1" -v n="$2" -v g="$3" '$1 == a && $2 == n && $3 == g { print $4 }' "$WORK/results" | sort -n \
    | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo "== CPU-bound, $ROUNDS rounds split over one thread per vCPU; median of $RUNS runs, ms in the guest"
for app in spin gospin; do
  label=$([ "$app" = spin ] && echo "C pthreads" || echo "Go")
  o1=$(med "$app" 1 osvb) o2=$(med "$app" 2 osvb) l1=$(med "$app" 1 linux) l2=$(med "$app" 2 linux)
  printf '  %-10s osvb  1 vCPU %6d ms, 2 vCPUs %6d ms: %s speed-up (goal: 1.8x)\n' "$label" "$o1" "$o2" "$(div "$o1" "$o2")"
  printf '  %-10s linux 1 vCPU %6d ms, 2 vCPUs %6d ms: %s speed-up\n' "$label" "$l1" "$l2" "$(div "$l1" "$l2")"
  printf '  %-10s linux / osvb at 2 vCPUs: %s (goal: >= 1)\n' "$label" "$(div "$l2" "$o2")"
done
echo "  every run (app vcpus guest ms):"
sed 's/^/    /' "$WORK/results"
echo
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), $(jq -r '.[index("-accel") + 1]' "$WORK/spin.1.osvb.json"), $(qemu-system-x86_64 --version | head -n1 | sed 's/ (.*//'), load average $LOAD_BEFORE before / $(cut -d' ' -f1 /proc/loadavg) after, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "linux: $(basename "$VMLINUZ"), $LINUX_OPTS"
