#!/usr/bin/env bash
# Serving over the network, osvb against Debian's Linux cloud kernel, side by side in one
# run: Debian's nginx (the same binary, libraries and nginx.conf: one process,
# no access log, sendfile) serving a 4 KiB file, in the same QEMU command (q35,
# 1 vCPU, virtio-net-pci on a tap device in a network namespace this script
# makes), loaded by wrk from the same namespace. Linux boots the osvb image's
# rootfs.cpio with bench/net/netinit.c as /init (it loads virtio-net's modules,
# gives eth0 the guest's address and execs nginx); osvb boots it as itself.
# Per guest and run: requests/s and latency of wrk with CONNS connections for
# SECS seconds, then a 1-connection request/response loop (p50/p99). The two
# guests alternate, RUNS times; the table shows medians and osvb / Linux.
# Then Debian's redis-server (examples/redis/redis.conf: no fork, no
# persistence) under redis-benchmark SET and GET with CONNS clients.
# Needs root (network namespace, tap), wrk (Debian's), the cloud kernel.
#
# Usage: bench/net.sh [--runs N] [--secs S] [--conns C]   (default 1 run, 20 s, 50 connections)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=1
SECS=20
CONNS=50
REDIS_N=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --secs) SECS="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    *) echo "usage: bench/net.sh [--runs N] [--secs S] [--conns C]" >&2; exit 2 ;;
  esac
done

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (a network namespace and a tap device)"
for t in qemu-system-x86_64 musl-gcc jq node timeout wrk curl ip redis-cli redis-benchmark; do
  command -v "$t" >/dev/null || die "$t missing (scripts/setup installs it)"
done
[ -x /usr/sbin/nginx ] || die "/usr/sbin/nginx missing (scripts/setup installs nginx)"
VMLINUZ=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n1)
[ -n "$VMLINUZ" ] && [ -r "$VMLINUZ" ] || die "no readable /boot/vmlinuz-*-cloud-amd64 (bench/userland.sh installs linux-image-cloud-amd64)"
KVER=${VMLINUZ#/boot/vmlinuz-}
MODDIR=/lib/modules/$KVER/kernel
# Dependency order (modules.dep): the virtio ring and core, the PCI transport, failover, the NIC.
MODS="drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci.ko net/core/failover.ko drivers/net/net_failover.ko drivers/net/virtio_net.ko"
for m in $MODS; do [ -r "$MODDIR/$m" ] || die "$MODDIR/$m missing (uncompressed modules of $KVER expected)"; done
TSC_KHZ=${TSC_KHZ:-$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)}

npm run --silent build
OSVB="node $ROOT/bin/osvb.js"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/osvb-bench-net.XXXXXX")
NS=osvbbench$$
GUEST=192.168.91.2
QEMU_PID=""
cleanup() {
  if [ -n "$QEMU_PID" ]; then kill "$QEMU_PID" 2>/dev/null || true; fi
  ip netns del "$NS" 2>/dev/null || true
  if [ -f "$WORK/records" ]; then xargs -r rm -f <"$WORK/records"; fi
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
ip netns add "$NS"
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
nsx ip tuntap add benchtap mode tap
nsx ip link set benchtap up
nsx ip addr add 192.168.91.1/24 dev benchtap

musl-gcc -static -O2 -s -o "$WORK/netinit" bench/net/netinit.c
mkdir -p "$WORK/www"
head -c 4096 /dev/urandom >"$WORK/www/4k.bin"
LOAD=$(for m in $MODS; do printf '/lib/mod/%s ' "$(basename "$m")"; done)
LINUX_ARGS="console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=$TSC_KHZ tsc=reliable rdinit=/sbin/netinit --"
images() { # SERVER EXEC ARGS... : the osvb image and both guests' QEMU commands ($WORK/{osvb,linux}-SERVER.json)
  local srv=$1 exe=$2 args
  shift 2
  args=$(printf '"%s", ' "$@")
  {
    printf 'name: bench-%s\napp:\n  exec: %s\n  args: [%s]\n' "$srv" "$exe" "${args%, }"
    printf 'kernel:\n  profile: q35\nrun:\n  memory: 256M\n'
    printf 'network:\n  - { mode: tap, tap: benchtap, ipv4: %s/24 }\n' "$GUEST"
    printf 'files:\n  /etc/nginx/nginx.conf: %s\n  /etc/redis/redis.conf: %s\n  /srv/www: %s\n  /sbin/netinit: %s\n' \
      "$ROOT/bench/net/nginx.conf" "$ROOT/examples/redis/redis.conf" "$WORK/www" "$WORK/netinit"
    for m in $MODS; do printf '  /lib/mod/%s: %s\n' "$(basename "$m")" "$MODDIR/$m"; done
  } >"$WORK/$srv.yaml"
  $OSVB build --config "$WORK/$srv.yaml" --out "$WORK/img-$srv" >/dev/null
  $OSVB run "$WORK/img-$srv" --dry-run --json | jq .argv >"$WORK/osvb-$srv.json"
  jq -r '.[] | select(startswith("file,id=osvb-exit,path=")) | sub("^.*path="; "")' "$WORK/osvb-$srv.json" >>"$WORK/records"
  local prog
  prog=$(jq -r '.rootfs.command[0]' "$WORK/img-$srv/manifest.json") # where the image keeps the server
  jq --arg k "$VMLINUZ" --arg a "$LINUX_ARGS --load $LOAD--ip $GUEST/24 --exec $prog $*" \
    'index("-kernel") as $i | index("-append") as $j | .[$i + 1] = $k | .[$j + 1] = $a' \
    "$WORK/osvb-$srv.json" >"$WORK/linux-$srv.json"
}
images nginx /usr/sbin/nginx -c /etc/nginx/nginx.conf -e stderr
images redis /usr/bin/redis-server /etc/redis/redis.conf

URL="http://$GUEST/4k.bin"
boot() { # GUEST-SERVER RUN READY-COMMAND...: start QEMU, wait until the command succeeds
  local g=$1 n=$2 argv
  shift 2
  mapfile -t argv < <(jq -r '.[]' "$WORK/$g.json")
  # ip netns exec execs QEMU: $! is QEMU's own pid.
  ip netns exec "$NS" "${argv[@]}" >"$WORK/$g.$n.console" 2>&1 </dev/null &
  QEMU_PID=$!
  for _ in $(seq 1 300); do
    if nsx "$@" >/dev/null 2>&1; then return 0; fi
    kill -0 "$QEMU_PID" 2>/dev/null || break
    sleep 1
  done
  die "$g did not come up; its last lines:
$(tail -n 8 "$WORK/$g.$n.console")"
}
halt() {
  kill "$QEMU_PID" 2>/dev/null || true
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=""
}
bench_nginx() { # GUEST RUN: wrk with CONNS connections, then a 1-connection loop
  local g=$1 n=$2
  boot "$g-nginx" "$n" curl -sf -o /dev/null --max-time 2 "$URL"
  nsx curl -sf "$URL" | cmp -s - "$WORK/www/4k.bin" || die "$g served a different 4k.bin"
  nsx wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$URL" >"$WORK/$g.$n.wrk"
  nsx wrk -t1 -c1 -d"$(( SECS / 2 > 5 ? SECS / 2 : 5 ))s" --latency "$URL" >"$WORK/$g.$n.lat"
  halt
  if grep -q 'Socket errors' "$WORK/$g.$n.wrk"; then echo "bench: $g run $n: $(grep 'Socket errors' "$WORK/$g.$n.wrk")" >&2; fi
  return 0
}
bench_redis() { # GUEST RUN: redis-benchmark SET and GET, CONNS clients
  local g=$1 n=$2
  boot "$g-redis" "$n" redis-cli -h "$GUEST" ping
  nsx redis-benchmark -h "$GUEST" -c "$CONNS" -n "$REDIS_N" -t set,get --csv >"$WORK/$g.$n.redis"
  halt
}
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
for n in $(seq 1 "$RUNS"); do
  for g in osvb linux; do bench_nginx "$g" "$n"; done
  for g in osvb linux; do bench_redis "$g" "$n"; done
done

# wrk prints "Requests/sec: N" and a latency distribution ("50% 1.23ms", "99% 4.56ms"; us/ms/s).
rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
pct() { # FILE PERCENT -> microseconds
  awk -v p="$2%" '$1 == p { v = $2; u = 1; if (v ~ /us$/) u = 1; else if (v ~ /ms$/) u = 1000; else if (v ~ /s$/) u = 1000000;
    sub(/[a-z]+$/, "", v); printf "%.0f\n", v * u }' "$1"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { # GUEST KIND(wrk|lat) FIELD(rps|50|99)
  for n in $(seq 1 "$RUNS"); do
    if [ "$3" = rps ]; then rps "$WORK/$1.$n.$2"; else pct "$WORK/$1.$n.$2" "$3"; fi
  done | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
ACCEL=$(jq -r '.[index("-accel") + 1]' "$WORK/osvb-nginx.json")
echo "== nginx 1.22 (Debian), 4 KiB file, q35, 1 vCPU, virtio-net-pci on tap, $ACCEL; median of $RUNS boots each"
echo "   load average $LOAD_BEFORE -> $(cut -d' ' -f1 /proc/loadavg)"
printf '  %-34s %12s %12s %10s\n' measure osvb linux "osvb/linux"
o=$(col osvb wrk rps); l=$(col linux wrk rps)
printf '  %-34s %12s %12s %10s\n' "wrk $CONNS conns: requests/s" "$o" "$l" "$(ratio "$o" "$l")"
for p in 50 99; do
  o=$(col osvb wrk $p); l=$(col linux wrk $p)
  printf '  %-34s %12s %12s %10s\n' "wrk $CONNS conns: p$p latency (us)" "$o" "$l" "$(ratio "$l" "$o")"
done
o=$(col osvb lat rps); l=$(col linux lat rps)
printf '  %-34s %12s %12s %10s\n' "1 conn: requests/s" "$o" "$l" "$(ratio "$o" "$l")"
for p in 50 99; do
  o=$(col osvb lat $p); l=$(col linux lat $p)
  printf '  %-34s %12s %12s %10s\n' "1 conn: p$p latency (us)" "$o" "$l" "$(ratio "$l" "$o")"
done
echo "  (latency columns: linux / osvb, > 1: osvb faster)"
# redis-benchmark --csv: "test","rps",... per test.
rrps() { for n in $(seq 1 "$RUNS"); do awk -F, -v t="\"$2\"" '$1 == t { gsub(/"/, "", $2); print $2 }' "$WORK/$1.$n.redis"; done | median; }
echo "== redis-server 7.0 (Debian), redis-benchmark -c $CONNS -n $REDIS_N, same VM; median of $RUNS boots each"
for t in SET GET; do
  o=$(rrps osvb $t); l=$(rrps linux $t)
  printf '  %-34s %12s %12s %10s\n' "$t requests/s" "$o" "$l" "$(ratio "$o" "$l")"
done
echo "goals: nginx requests/s osvb >= 2x linux, redis >= 1.5x; p99 below linux's"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), $(qemu-system-x86_64 --version | head -n1 | sed 's/ (.*//'), $(date -u '+%Y-%m-%d %H:%M UTC')"
