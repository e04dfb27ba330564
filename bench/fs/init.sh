#!/bin/busybox sh
# /init of the Linux guest in bench/fs.sh: load v9fs, mount the share as
# osvb does (9P2000.L over virtio, the same msize), run the bench program.
/bin/busybox mkdir -p /proc /share
/bin/busybox mount -t proc proc /proc
for m in $(/bin/busybox cat /mods/order); do
  /bin/busybox insmod /mods/$m.ko
done
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,msize=135168,ro vol0 /share || exit 1
/app/fsbench /share/big.bin /share/tree
