#!/usr/bin/env bash
# Raw block device speed from a program in the guest: NVMe against virtio-blk
# in osvb, and osvb against Debian's Linux cloud kernel, side by side in one
# run on the same QEMU command (q35, 1 vCPU, 256 MiB), the same disk file and
# the same program (tests/nvme/programs/diskio.c: sequential 4 KiB and 1 MiB,
# random 4 KiB reads and writes with pread/pwrite on /dev/nvme0n1 or
# /dev/vda, O_DIRECT where the kernel has it, timed with CLOCK_MONOTONIC in
# the guest; writes end with fsync).
#
# osvb's images are built the way a user builds them (osvb build), and
# `osvb run --dry-run` gives the QEMU command; the disk devices are added to it,
# and the Linux guest gets that same command with only -kernel and -append
# changed. Its initramfs is the osvb image's own rootfs.cpio, which also
# carries busybox, a small init script and the virtio modules the cloud kernel
# builds as modules (its NVMe driver is built in).
#
# Usage: bench/block.sh [--runs N] [--mib N] [--ops N]   (default 3 runs, 16 MiB span, 2000 ops)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=3
MIB=16
OPS=2000
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
[ -x /bin/busybox ] || die "/bin/busybox missing (apt-get install busybox-static)"
if ! ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1; then
  echo "bench: installing linux-image-cloud-amd64 (it only adds files to /boot and /lib/modules)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-image-cloud-amd64 >/dev/null \
    || die "cannot install linux-image-cloud-amd64"
fi
VMLINUZ=$(ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -n1)
KVER=${VMLINUZ#/boot/vmlinuz-}
# As in bench/userland.sh: Linux's TSC calibration is unreliable under TCG on a busy host.
TSC_KHZ=${TSC_KHZ:-$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)}
[ -n "$TSC_KHZ" ] || die "cannot read the CPU frequency from /proc/cpuinfo; set TSC_KHZ"

npm run --silent build
OSVB="node $ROOT/bin/osvb.js"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/osvb-bench-block.XXXXXX")
cleanup() {
  if [ -f "$WORK/records" ]; then xargs -r rm -f <"$WORK/records"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- the program, Linux's init and modules, the images --------------------------
mkdir -p "$WORK/bin" "$WORK/linux"
musl-gcc -static -O2 -o "$WORK/bin/diskio" tests/nvme/programs/diskio.c -lm
cp /bin/busybox "$WORK/bin/busybox"
MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk"
for m in $MODS; do
  f=$(find "/lib/modules/$KVER" -name "$m.ko" | head -n1)
  [ -n "$f" ] || die "module $m.ko of $KVER not found (compressed modules are not handled)"
  cp "$f" "$WORK/linux/"
done
cat >"$WORK/linux/init.sh" <<EOF
#!/bin/busybox sh
# Linux's /init for the bench: devtmpfs, the virtio modules, then the program.
/bin/busybox mkdir -p /dev
/bin/busybox mount -t devtmpfs dev /dev
for m in $MODS; do /bin/busybox insmod /linux/\$m.ko || echo "init.sh: insmod \$m failed"; done
i=0
while [ ! -b "\$1" ] && [ \$i -lt 100 ]; do /bin/busybox usleep 50000; i=\$((i + 1)); done
exec /app/diskio bench "\$@"
EOF
chmod +x "$WORK/linux/init.sh"

DISK="$WORK/disk.img"
truncate -s $((MIB * 2))M "$DISK"
# The two disk devices, on the same -drive (osvb run puts NVMe disks on one controller as namespaces).
DRIVE="file=$DISK,if=none,id=bench-disk,format=raw"
NVME_DEV='["-drive","'"$DRIVE"'","-device","nvme,id=bench-nvme,serial=bench","-device","nvme-ns,drive=bench-disk,bus=bench-nvme,nsid=1"]'
VIRTIO_DEV='["-drive","'"$DRIVE"'","-device","virtio-blk-pci,drive=bench-disk"]'

LINUX_OPTS="console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=$TSC_KHZ tsc=reliable"
for iface in nvme virtio; do
  dev=/dev/nvme0n1
  [ "$iface" = virtio ] && dev=/dev/vda
  printf 'name: bench-block-%s\napp:\n  exec: bin/diskio\n  args: [bench, %s, "%s", "%s"]\nfiles:\n  /bin/busybox: bin/busybox\n  /linux: linux\nkernel:\n  profile: q35\n  config: { NVME: y, VIRTIO_PCI: y, VIRTIO_BLK: y }\nrun:\n  memory: 256M\n' \
    "$iface" "$dev" "$MIB" "$OPS" >"$WORK/$iface.yaml"
  $OSVB build --config "$WORK/$iface.yaml" --out "$WORK/img/$iface" >/dev/null
  $OSVB run "$WORK/img/$iface" --dry-run --json | jq .argv >"$WORK/$iface.base.json"
  jq -r '.[] | select(startswith("file,id=osvb-exit,path=")) | sub("^.*path="; "")' "$WORK/$iface.base.json" \
    >>"$WORK/records"
  devs=$NVME_DEV
  [ "$iface" = virtio ] && devs=$VIRTIO_DEV
  jq --argjson d "$devs" 'index("-kernel") as $i | .[:$i] + $d + .[$i:]' "$WORK/$iface.base.json" \
    >"$WORK/osvb-$iface.json"
  jq --arg k "$VMLINUZ" --arg a "$LINUX_OPTS rdinit=/linux/init.sh -- $dev $MIB $OPS" \
    'index("-kernel") as $i | index("-append") as $j | .[$i + 1] = $k | .[$j + 1] = $a' \
    "$WORK/osvb-$iface.json" >"$WORK/linux-$iface.json"
done

CONFIGS=${CONFIGS:-"osvb-nvme osvb-virtio linux-nvme linux-virtio"}
run() { # CONFIG: one boot; its "bench ..." lines, prefixed with the config
  local out
  out=$(eval "timeout 900 $(jq -r '@sh' "$WORK/$1.json")" </dev/null 2>&1 | tr -d '\r') || true
  grep -q '^bench seq-read-1m ' <<<"$out" || die "$1 printed no complete result; its last lines:
$(grep -v '^\[ *[0-9.]*\]  ' <<<"$out" | tail -n 25)"
  grep '^bench ' <<<"$out" | sed "s/^/$1 /"
}
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
for r in $(seq "$RUNS"); do
  for c in $CONFIGS; do
    run "$c" >>"$WORK/results.txt"
  done
  echo "run $r of $RUNS done" >&2
done

# --- the table ----------------------------------------------------------------
# med CONFIG TEST FIELD: the median over the runs.
med() {
  { grep "^$1 bench $2 " "$WORK/results.txt" || true; } | sed -n "s/.* $3=\([0-9.]*\).*/\1/p" | sort -n \
    | awk '{ v[NR] = $1 } END { if (!NR) print 0; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2fx", a / b }'; }
ACCEL=$(jq -r '.[index("-accel") + 1]' "$WORK/osvb-nvme.json")
echo "== raw block device I/O from a program: $MIB MiB span, $OPS ops per 4 KiB test, q35, 1 vCPU, $ACCEL; median of $RUNS runs"
printf '  %-14s %12s %12s %12s %12s   %-10s %-12s %-12s\n' test osvb-nvme osvb-virtio linux-nvme linux-virtio \
  "nvme/virtio" "osvb/linux" "osvb/linux"
printf '  %-14s %12s %12s %12s %12s   %-10s %-12s %-12s\n' "" "" "" "" "" "(osvb)" "(nvme)" "(virtio)"
for t in seq-read-4k seq-write-4k rand-read-4k rand-write-4k seq-read-1m seq-write-1m; do
  field=iops
  case "$t" in *-1m) field=mibps ;; esac
  on=$(med osvb-nvme "$t" $field); ov=$(med osvb-virtio "$t" $field)
  ln=$(med linux-nvme "$t" $field); lv=$(med linux-virtio "$t" $field)
  printf '  %-14s %12s %12s %12s %12s   %-10s %-12s %-12s\n' "$t ($field)" "$on" "$ov" "$ln" "$lv" \
    "$(div "$on" "$ov")" "$(div "$on" "$ln")" "$(div "$ov" "$lv")"
done
echo "  goals: nvme/virtio >= 1 in osvb; osvb/linux >= 1 on both (higher is faster)"
echo
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), $ACCEL, $(qemu-system-x86_64 --version | head -n1 | sed 's/ (.*//'), load average $LOAD_BEFORE before / $(cut -d' ' -f1 /proc/loadavg) after, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "linux: $(basename "$VMLINUZ"), $LINUX_OPTS"
