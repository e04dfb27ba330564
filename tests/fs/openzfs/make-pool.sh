#!/usr/bin/env bash
# Makes tests/fs/openzfs/pool.img.xz: a pool written by OpenZFS itself, the
# fixture for tests/fs/openzfs.test.ts. The host kernel has no zfs module, so
# the pool is made in a Linux guest under QEMU: Debian's cloud kernel (the
# version installed in /boot) with zfs-dkms (bookworm-backports) built for it
# on the host by DKMS, an initramfs holding busybox, zpool/zfs and their
# libraries, and a shell /init that creates the pool and copies in a tree the
# host generated (deterministic). The manifest (type, path, mode, size, sha256
# or link target) is written from that tree; the guest prints its own
# sha256sums of the files it wrote in the pool and the script checks they agree.
#
# Needs root (apt-get, dkms). Run from the repository root:
#   tests/fs/openzfs/make-pool.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
OUT=$ROOT/tests/fs/openzfs
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/osvb/openzfs
mkdir -p "$CACHE"

KVER=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V | tail -1)
if [ -z "$KVER" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-image-cloud-amd64 >/dev/null
  KVER=$(ls /boot/vmlinuz-*-cloud-amd64 | sed 's|.*/vmlinuz-||' | sort -V | tail -1)
fi
VMLINUZ=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER

# zfs-dkms builds spl.ko and zfs.ko for every kernel whose headers are there
# (many minutes on a small machine); the installed modules are the cache.
if ! modinfo -k "$KVER" zfs >/dev/null 2>&1; then
  echo "make-pool: building zfs for $KVER with DKMS (slow)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "linux-headers-$KVER" dkms zfs-dkms zfsutils-linux busybox-static >/dev/null
  ZVER=$(dpkg-query -W -f '${Version}' zfs-dkms | sed 's/-.*//')
  dkms status -m zfs -v "$ZVER" -k "$KVER" | grep -q installed || dkms install -m zfs -v "$ZVER" -k "$KVER"
fi
ZFS_DKMS=$(dpkg-query -W -f '${Version}' zfs-dkms)
ZFS_UTILS=$(dpkg-query -W -f '${Version}' zfsutils-linux)
ZFS_KO=$(modinfo -k "$KVER" -F version zfs)

WORK=$(mktemp -d /tmp/osvb-openzfs.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# --- the tree the guest copies into the pool ---------------------------------
mkdir -p "$WORK/initramfs/tree"
python3 - "$WORK/initramfs/tree" <<'PY'
import os, random, sys
t = sys.argv[1]
r = random.Random(20261129)
def w(p, data, mode=0o644):
    p = os.path.join(t, p)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, mode)
w("hello.txt", b"hello from OpenZFS\n")
w("small.txt", b"small\n", 0o600)
# 256 KiB of pseudo-random bytes: each 128 KiB record is random to lz4, so it
# is stored raw, while xz finds the repeats and keeps the fixture small.
rnd = r.randbytes(256 << 10)
w("random-1m.bin", rnd * 4)                         # 8 records under an indirect block
w("random-300k.bin", rnd[1000:301000])              # 3 records, the last one partly used
w("text-400k.txt", b"".join(b"line %06d of a file lz4 compresses well\n" % i for i in range(10_000)))
w("sub/deeper/nested.txt", b"nested\n", 0o640)
# Names over 50 bytes do not fit a micro ZAP entry: the directory is a fat ZAP.
for i in range(300):
    w("many/entry-%04d-%s" % (i, "n" * 50), b"%d\n" % i)
os.chmod(os.path.join(t, "sub", "deeper"), 0o750)
os.symlink("hello.txt", os.path.join(t, "link-short"))
os.symlink("/" + "deep/" * 30 + "target", os.path.join(t, "link-long"))
PY
python3 - "$WORK/initramfs/tree" > "$WORK/manifest.body" <<'PY'
import hashlib, os, stat, sys
t = sys.argv[1]
def walk(d, rel):
    for name in sorted(os.listdir(d)):
        p, q = os.path.join(d, name), rel + "/" + name
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            print("link", q, os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            print("dir", q, oct(st.st_mode & 0o7777), len(os.listdir(p)))
            walk(p, q)
        else:
            with open(p, "rb") as f:
                h = hashlib.sha256(f.read()).hexdigest()
            print("file", q, oct(st.st_mode & 0o7777), st.st_size, h)
walk(t, "")
PY

# --- the initramfs: busybox, zpool/zfs and libraries, modules, /init ----------
I=$WORK/initramfs
mkdir -p "$I/bin" "$I/sbin" "$I/lib/modules" "$I/proc" "$I/sys" "$I/dev" "$I/tmp" "$I/etc"
cp /bin/busybox "$I/bin/busybox"
for b in /usr/sbin/zpool /usr/sbin/zfs; do
  cp "$b" "$I/sbin/"
  for l in $(ldd "$b" | grep -o '/[^ ]*'); do mkdir -p "$I$(dirname "$l")"; cp -L "$l" "$I$l"; done
done
: > "$I/modules.order"
for m in virtio_pci virtio_blk zfs; do
  modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
  cp "$ko" "$I/lib/modules/"
  echo "/lib/modules/$(basename "$ko")" >> "$I/modules.order"
done
cat > "$I/init" <<'SH'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs -o size=100m tmp /tmp
ln -s /proc/self/mounts /etc/mtab
for m in $(cat /modules.order); do insmod "$m" || echo "insmod $m failed"; done
# A file vdev: zpool create on a whole disk would put the pool in a GPT
# partition, and osvb reads pools from the start of a disk.
truncate -s 64M /tmp/vdev
zpool create -f -o ashift=9 -o cachefile=none -O compression=lz4 -O mountpoint=/pool osvbpool /tmp/vdev &&
  cp -a /tree/. /pool/ &&
  chmod 755 /pool &&
  sync &&
  echo "OPENZFS-SUMS-BEGIN" &&
  (cd /pool && find . -type f | sort | xargs sha256sum) &&
  echo "OPENZFS-SUMS-END" &&
  zpool get -H -o property,value all osvbpool | grep feature@ | sed 's/^/PROP /' &&
  zfs get -H -o property,value version,compression,xattr,dnodesize,recordsize osvbpool | sed 's/^/PROP /' &&
  zpool export osvbpool &&
  cat /tmp/vdev > /dev/vda && sync && echo "OPENZFS-POOL-DONE"
poweroff -f
SH
chmod 755 "$I/init"
(cd "$I" && find . | cpio -o -H newc --quiet | gzip -1 > "$WORK/initramfs.cpio.gz")

truncate -s 64M "$WORK/pool.img"
timeout 1200 qemu-system-x86_64 -M q35 -m 768M -smp 1 -accel tcg -nographic -no-reboot \
  -kernel "$VMLINUZ" -initrd "$WORK/initramfs.cpio.gz" \
  -append 'console=ttyS0 quiet panic=-1 tsc_early_khz=2000000' \
  -drive "file=$WORK/pool.img,if=virtio,format=raw" </dev/null | tr -d '\r' > "$WORK/guest.log" || true
grep -q OPENZFS-POOL-DONE "$WORK/guest.log" || { echo "make-pool: the guest did not finish:" >&2; tail -40 "$WORK/guest.log" >&2; exit 1; }

# The guest's sums of what it wrote must equal the tree's.
sed -n '/OPENZFS-SUMS-BEGIN/,/OPENZFS-SUMS-END/p' "$WORK/guest.log" | grep -E '^[0-9a-f]{64}  ' |
  awk '{ sub(/^\./, "", $2); print $2, $1 }' | sort > "$WORK/guest.sums"
awk '$1 == "file" { print $2, $5 }' "$WORK/manifest.body" | sort > "$WORK/host.sums"
diff "$WORK/host.sums" "$WORK/guest.sums" >&2 || { echo "make-pool: guest sums differ from the tree" >&2; exit 1; }

{
  echo "# pool osvbpool, made by tests/fs/openzfs/make-pool.sh"
  echo "# kernel $KVER, zfs-dkms $ZFS_DKMS (module $ZFS_KO), zfsutils-linux $ZFS_UTILS"
  grep '^PROP ' "$WORK/guest.log" | sed 's/^PROP /# /; s/\t/ /'
  cat "$WORK/manifest.body"
} > "$OUT/manifest.txt"
xz -9e -T1 -c "$WORK/pool.img" > "$OUT/pool.img.xz"
echo "make-pool: wrote $OUT/pool.img.xz ($(stat -c %s "$OUT/pool.img.xz") bytes) and manifest.txt"
