#!/usr/bin/env bash
# Raw block device throughput, osvb against Debian's Linux cloud kernel, side
# by side in one run: the same QEMU command (q35, virtio-blk-pci with MSI-X,
# the same raw disk file, cache=none off: QEMU's default writeback), the same
# program (bench/block/blkbench.c, static musl) on /dev/vda with O_DIRECT:
# 4 KiB sequential write+fsync and read over the first MIB MiB, then OPS random
# 4 KiB reads and OPS random writes+fsync. The guest times itself
# (CLOCK_MONOTONIC); each guest boots RUNS times, alternating, and the table
# shows the median MB/s and IOPS and the ratio osvb / Linux (> 1: osvb faster);
# then the host CPU time one operation costs (full run less a tenth-size run).
# Linux runs the program as /init from the osvb image's rootfs.cpio (which
# also carries the virtio modules the cloud kernel needs; the program loads
# them with finit_module). NVMe rows can be added the same way (disks: with
# interface: nvme; the cloud kernel has NVMe built in).
#
# Usage: bench/block.sh [--runs N] [--mib N] [--ops N]   (default 3 runs, 16 MiB, 2048 ops)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=3
MIB=16
OPS=2048
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --mib) MIB="$2"; shift 2 ;;
    --ops) OPS="$2"; shift 2 ;;
    *) echo "usage: bench/block.sh [--runs N] [--mib N] [--ops N]" >&2; exit 2 ;;
  esac
done

die() { echo "bench: $*" >&2; exit 1; }
for t in qemu-system-x86_64 musl-gcc jq node timeout; do
  command -v "$t" >/dev/null || die "$t missing (scripts/setup installs it)"
done
VMLINUZ=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n1)
[ -n "$VMLINUZ" ] && [ -r "$VMLINUZ" ] || die "no readable /boot/vmlinuz-*-cloud-amd64 (bench/userland.sh installs linux-image-cloud-amd64)"
KVER=${VMLINUZ#/boot/vmlinuz-}
MODDIR=/lib/modules/$KVER/kernel/drivers
# Dependency order (modules.dep): the ring, the core, the PCI transport's halves, the transport, the disk.
MODS="virtio/virtio_ring.ko virtio/virtio.ko virtio/virtio_pci_legacy_dev.ko virtio/virtio_pci_modern_dev.ko virtio/virtio_pci.ko block/virtio_blk.ko"
for m in $MODS; do [ -r "$MODDIR/$m" ] || die "$MODDIR/$m missing (uncompressed modules of $KVER expected)"; done
TSC_KHZ=${TSC_KHZ:-$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)}

npm run --silent build
OSVB="node $ROOT/bin/osvb.js"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/osvb-bench-block.XXXXXX")
cleanup() {
  if [ -f "$WORK/records" ]; then xargs -r rm -f <"$WORK/records"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

musl-gcc -static -O2 -s -o "$WORK/blkbench" bench/block/blkbench.c
truncate -s $((MIB + 16))M "$WORK/disk.raw"
{
  printf 'name: bench-block\napp:\n  exec: blkbench\n  args: [/dev/vda, "%s", "%s"]\n' "$MIB" "$OPS"
  printf 'kernel:\n  profile: q35\nrun:\n  memory: 256M\ndisks:\n  - file: disk.raw\nfiles:\n'
  for m in $MODS; do printf '  /lib/mod/%s: %s\n' "$(basename "$m")" "$MODDIR/$m"; done
} >"$WORK/app.yaml"
$OSVB build --config "$WORK/app.yaml" --out "$WORK/img" >/dev/null
$OSVB run "$WORK/img" --dry-run --json | jq .argv >"$WORK/osvb.json"
jq -r '.[] | select(startswith("file,id=osvb-exit,path=")) | sub("^.*path="; "")' "$WORK/osvb.json" >>"$WORK/records"
prog=$(jq -r '.rootfs.command[0]' "$WORK/img/manifest.json")
LOAD=$(for m in $MODS; do printf '/lib/mod/%s ' "$(basename "$m")"; done)
LINUX_OPTS="console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=$TSC_KHZ tsc=reliable"
jq --arg k "$VMLINUZ" --arg a "$LINUX_OPTS rdinit=$prog -- --load $LOAD/dev/vda $MIB $OPS" \
  'index("-kernel") as $i | index("-append") as $j | .[$i + 1] = $k | .[$j + 1] = $a' \
  "$WORK/osvb.json" >"$WORK/linux.json"

# The same commands with a tenth of the work: the difference in QEMU's CPU time
# (user+sys) per operation is what one 4 KiB I/O costs the host, guest and
# device model together. A busy host delays a guest but barely changes its CPU time.
# Both command lines end with "MIB OPS" (osvb: app.yaml args after --; Linux: init's).
SMALL_MIB=$(( MIB / 10 > 0 ? MIB / 10 : 1 )); SMALL_OPS=$(( OPS / 10 > 0 ? OPS / 10 : 1 ))
for g in osvb linux; do
  jq --arg from " $MIB $OPS" --arg to " $SMALL_MIB $SMALL_OPS" \
    'index("-append") as $j | .[$j + 1] |= (if endswith($from) then sub($from + "$"; $to) else error("no sizes at the end") end)' \
    "$WORK/$g.json" >"$WORK/$g.small.json" || die "cannot make the small command line for $g"
done
TIMEFORMAT='%3U %3S'
run() { # JSON-NAME N: one boot; RESULT lines into $WORK/NAME.results, QEMU CPU seconds into NAME.cpu
  local out t
  t=$({ time eval "timeout 600 $(jq -r '@sh' "$WORK/$1.json")" >"$WORK/boot.out" 2>&1 </dev/null; } 2>&1) || true
  out=$(cat "$WORK/boot.out")
  grep -q 'blkbench: done' <<<"$out" || die "$1 run $2 did not finish; its last lines:
$(tail -n 8 <<<"$out")"
  grep '^RESULT' <<<"$out" | tr -d '\r' >>"$WORK/$1.results"
  awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.3f\n", a[1] + a[2] }' >>"$WORK/$1.cpu"
}
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
for n in $(seq 1 "$RUNS"); do
  run osvb "$n"
  run linux "$n"
  run osvb.small "$n"
  run linux.small "$n"
done

median() { # GUEST NAME FIELD(3: MB/s, 4: IOPS)
  awk -v n="$2" -v f="$3" '$2 == n { print $f }' "$WORK/$1.results" | sort -g \
    | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "== virtio-blk on q35 (virtio-pci, MSI-X), $(jq -r '.[index("-accel") + 1]' "$WORK/osvb.json"), 4 KiB O_DIRECT on /dev/vda"
echo "   $MIB MiB sequential, $OPS random ops, median of $RUNS boots each; load average $LOAD_BEFORE -> $(cut -d' ' -f1 /proc/loadavg)"
printf '  %-11s %12s %12s %12s %12s %8s\n' test "osvb MB/s" "osvb IOPS" "linux MB/s" "linux IOPS" "ratio"
for t in seq-write seq-read rand-read rand-write; do
  om=$(median osvb $t 3); oi=$(median osvb $t 4); lm=$(median linux $t 3); li=$(median linux $t 4)
  printf '  %-11s %12s %12s %12s %12s %7.2fx\n' "$t" "$om" "$oi" "$lm" "$li" "$(awk -v a="$oi" -v b="$li" 'BEGIN { print a / b }')"
done
mean() { awk '{ s += $1 } END { printf "%.3f", s / NR }' "$WORK/$1.cpu"; }
OPS_ALL=$(( 2 * MIB * 256 + 2 * OPS )); OPS_SMALL=$(( 2 * SMALL_MIB * 256 + 2 * SMALL_OPS ))
per_op() { awk -v a="$(mean "$1")" -v b="$(mean "$1.small")" -v n=$(( OPS_ALL - OPS_SMALL )) 'BEGIN { printf "%.1f", (a - b) / n * 1e6 }'; }
echo "  host CPU per 4 KiB operation (QEMU user+sys, full run less a tenth-size run, mean of $RUNS):"
echo "    osvb $(per_op osvb) us, linux $(per_op linux) us, linux / osvb $(awk -v a="$(per_op linux)" -v b="$(per_op osvb)" 'BEGIN { printf "%.2fx", a / b }')"
