#!/usr/bin/env bash
# Filesystems, side by side in one run on the same QEMU command:
#   1. 9p: sequential read of a 256 MiB host file and a walk that lstats
#      10,000 files, over virtio-9p (QEMU's local fsdev, read-only, the same
#      msize for both: --msize, default 512000, the most Linux 6.1's virtio
#      transport takes) - osvb's 9p client against Debian Linux's v9fs (the generic
#      kernel: the cloud kernel has no 9p). Both run bench/fs/fsbench.c, which
#      times itself with CLOCK_MONOTONIC inside the guest.
#   2. ZFS root against cpio root boot: bench/zfs.sh (its own script, so
#      this one stays about 9p).
# The osvb image is built and run the way a user does (app.yaml volumes:,
# osvb run --dry-run gives the QEMU command); Linux gets that command with its
# own -kernel, -initrd (busybox, the 9p modules, the same fsbench) and -append.
#
# Usage: bench/fs.sh [--runs N] [--mib N] [--files N] [--msize N]   (default 3 runs, 256 MiB, 10000 files, 512000)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=3
MIB=256
FILES=10000
MSIZE=512000
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --mib) MIB="$2"; shift 2 ;;
    --files) FILES="$2"; shift 2 ;;
    --msize) MSIZE="$2"; shift 2 ;;
    *) echo "usage: bench/fs.sh [--runs N] [--mib N] [--files N] [--msize N]" >&2; exit 2 ;;
  esac
done

die() { echo "bench: $*" >&2; exit 1; }
for t in qemu-system-x86_64 musl-gcc jq node cpio xz timeout busybox modinfo bc; do
  command -v "$t" >/dev/null || die "$t missing (scripts/setup installs it)"
done
KVER=$(ls /lib/modules | grep -v cloud | sort -V | tail -n1 || true)
if [ -z "$KVER" ] || ! ls "/lib/modules/$KVER/kernel/fs/9p/"9p.ko* >/dev/null 2>&1; then
  echo "bench: installing linux-image-amd64 (for its 9p modules; it only adds files to /boot and /lib/modules)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-image-amd64 >/dev/null \
    || die "cannot install linux-image-amd64"
  KVER=$(ls /lib/modules | grep -v cloud | sort -V | tail -n1)
fi
VMLINUZ=/boot/vmlinuz-$KVER
[ -r "$VMLINUZ" ] || die "$VMLINUZ is not readable"
TSC_KHZ=${TSC_KHZ:-$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)}

npm run --silent build
OSVB="node $ROOT/bin/osvb.js"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/osvb-bench-fs.XXXXXX")
cleanup() {
  if [ -f "$WORK/records" ]; then xargs -r rm -f <"$WORK/records"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- the share: one big file and a tree of FILES small files ------------------
mkdir -p "$WORK/share/tree" "$WORK/app"
head -c "$((MIB * 1024 * 1024))" /dev/urandom >"$WORK/share/big.bin"
per=100
for ((d = 0; d < (FILES + per - 1) / per; d++)); do
  mkdir "$WORK/share/tree/d$d"
  (cd "$WORK/share/tree/d$d" && for ((f = 0; f < per && d * per + f < FILES; f++)); do : >"f$f"; done)
done
ENTRIES=$(find "$WORK/share/tree" -mindepth 1 | wc -l)

# --- osvb: the image as a user builds it ---------------------------------------
musl-gcc -static -O2 -s -o "$WORK/app/fsbench" bench/fs/fsbench.c
printf 'name: bench-fs\napp:\n  exec: fsbench\n  args: [/share/big.bin, /share/tree]\nkernel:\n  cmdline: 9p.msize=%s\nvolumes:\n  - { host: ../share, guest: /share, readonly: true }\nrun:\n  memory: 256M\n' "$MSIZE" \
  >"$WORK/app/app.yaml"
$OSVB build --config "$WORK/app/app.yaml" --out "$WORK/img" >/dev/null
$OSVB run "$WORK/img" --dry-run --json | jq .argv >"$WORK/osvb.json"
jq -r '.[] | select(startswith("file,id=osvb-exit,path=")) | sub("^.*path="; "")' "$WORK/osvb.json" >>"$WORK/records"

# --- Linux: the same QEMU command, its kernel, an initramfs with v9fs ----------
mkdir -p "$WORK/linux/bin" "$WORK/linux/mods" "$WORK/linux/app"
cp "$(command -v busybox)" "$WORK/linux/bin/busybox"
cp "$WORK/app/fsbench" "$WORK/linux/app/fsbench"
sed "s/msize=135168/msize=$MSIZE/" bench/fs/init.sh >"$WORK/linux/init"
chmod 755 "$WORK/linux/init"
# The 9p modules and what they need (the generic kernel builds virtio as modules too), in load order.
load_order() { # MODULE...: prints each module after the ones it depends on
  local m d
  for m in "$@"; do
    grep -qx "$m" "$WORK/seen" 2>/dev/null && continue
    echo "$m" >>"$WORK/seen"
    for d in $(modinfo -k "$KVER" -F depends "$m" | tr ',' ' '); do load_order "$d"; done
    echo "$m"
  done
}
for m in $(load_order virtio_mmio virtio_pci 9pnet_virtio 9p); do
  f=$(modinfo -k "$KVER" -n "$m")
  case "$f" in
    *.xz) xz -dc "$f" >"$WORK/linux/mods/$m.ko" ;;
    *) cp "$f" "$WORK/linux/mods/$m.ko" ;;
  esac
  echo "$m" >>"$WORK/linux/mods/order"
done
(cd "$WORK/linux" && find . | cpio -o -H newc --quiet >"$WORK/linux.cpio")
LINUX_OPTS="console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=$TSC_KHZ tsc=reliable rdinit=/init"
jq --arg k "$VMLINUZ" --arg i "$WORK/linux.cpio" --arg a "$LINUX_OPTS" '
  (index("-kernel")) as $ki | (index("-append")) as $ai
  | .[$ki + 1] = $k | .[$ai + 1] = $a
  | if index("-initrd") then (index("-initrd")) as $ii | .[$ii + 1] = $i else . + ["-initrd", $i] end' \
  "$WORK/osvb.json" >"$WORK/linux.json"

run() { eval "timeout 900 $(jq -r '@sh' "$WORK/$1.json")" </dev/null 2>&1 | tr -d '\r' || true; }

declare -A READ_NS WALK_NS
for g in osvb linux; do
  READ_NS[$g]=""
  WALK_NS[$g]=""
done
for ((i = 0; i < RUNS; i++)); do
  for g in osvb linux; do
    out=$(run "$g")
    r=$(awk '/^read /{ print $2, $3 }' <<<"$out")
    w=$(awk '/^walk /{ print $2, $3 }' <<<"$out")
    [ -n "$r" ] && [ -n "$w" ] || die "$g did not finish; its last lines:
$(grep -v "^\[ *[0-9.]*\]  \|^\[ *[0-9.]*\] [A-Z0-9]*: " <<<"$out" | tail -n 25)"
    [ "${r% *}" = "$((MIB * 1024 * 1024))" ] || die "$g read ${r% *} bytes, not $((MIB * 1024 * 1024))"
    [ "${w% *}" = "$ENTRIES" ] || die "$g walked ${w% *} entries, not $ENTRIES"
    READ_NS[$g]+="${r#* } "
    WALK_NS[$g]+="${w#* } "
  done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
LOAD=$(cut -d' ' -f1 /proc/loadavg)
ACCEL=$(jq -r '.[index("-accel") + 1]' "$WORK/osvb.json")
MACHINE=$(jq -r '.[index("-M") + 1]' "$WORK/osvb.json")
echo "== 1. 9p ($MACHINE, $ACCEL, Linux $KVER v9fs, msize $MSIZE; $RUNS boots each, medians; load $LOAD)"
for g in osvb linux; do
  rm_=$(median <<<"${READ_NS[$g]}")
  wm=$(median <<<"${WALK_NS[$g]}")
  printf '  %-6s read %d MiB: %8.1f ms (%6.1f MiB/s)   lstat walk of %d entries: %8.1f ms\n' "$g" "$MIB" \
    "$(echo "$rm_ / 1000000" | bc -l)" "$(echo "$MIB * 1000000000 / $rm_" | bc -l)" "$ENTRIES" "$(echo "$wm / 1000000" | bc -l)"
  eval "R_$g=$rm_ W_$g=$wm"
done
printf '  linux / osvb time: read %.2fx, walk %.2fx (goal: >= 1)\n' "$(echo "$R_linux / $R_osvb" | bc -l)" \
  "$(echo "$W_linux / $W_osvb" | bc -l)"
echo
echo "== 2. ZFS root vs cpio root boot: see bench/zfs.sh"
