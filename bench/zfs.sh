#!/usr/bin/env bash
# ZFS root against cpio root (issue 10), side by side in one hyperfine run on
# the same QEMU command line osvb run uses (microvm, TCG or KVM): the same
# Python app - a script that prints one line, so the time is boot to the
# app's main plus the interpreter's own start-up, which reads the standard
# library from the root filesystem - built once with rootfs: cpio (initrd
# unpacked into tmpfs) and once with rootfs: zfs (the pool image on
# virtio-blk, read by the kernel's ZFS reader). Goal: ZFS adds less than 20%.
#
# Usage: bench/zfs.sh [--runs N]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=5
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "usage: bench/zfs.sh [--runs N]" >&2; exit 2 ;;
  esac
done
for t in hyperfine qemu-system-x86_64 jq python3 node; do
  command -v "$t" >/dev/null || { echo "bench: $t missing (scripts/setup installs it)" >&2; exit 1; }
done

npm run --silent build
OSVB="node $ROOT/bin/osvb.js"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/osvb-bench-zfs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

mkdir -p "$WORK/app"
printf 'import sys\nprint("main reached", sys.version_info[:2])\n' >"$WORK/app/main.py"
cmds=()
for fmt in cpio zfs; do
  printf 'name: bench-%s\napp:\n  runtime: python\n  script: main.py\nrun:\n  memory: 256M\nrootfs: %s\n' "$fmt" "$fmt" \
    >"$WORK/app/$fmt.yaml"
  $OSVB build --config "$WORK/app/$fmt.yaml" --out "$WORK/img-$fmt" >/dev/null
  cmd="timeout 120 $($OSVB run "$WORK/img-$fmt" --dry-run)"
  out=$(bash -c "$cmd" 2>/dev/null </dev/null || true)
  grep -q 'main reached' <<<"$out" || { echo "bench: the $fmt image did not reach main: $out" >&2; exit 1; }
  cmds+=(-n "$fmt" "$cmd")
done
accel=$(grep -o ' -accel [a-z]*' <<<"${cmds[2]}" | cut -d' ' -f3)
echo "== Python app, QEMU start to exit (boot to main + interpreter start-up), microvm, $accel, $RUNS runs each"
echo "   pool image $(du -h "$WORK/img-zfs/rootfs.zfs" | cut -f1) on disk (sparse), initrd $(du -h "$WORK"/img-cpio/*.cpio* 2>/dev/null | head -n1 | cut -f1)"
hyperfine --runs "$RUNS" --warmup 1 -i --export-json "$WORK/zfs.json" "${cmds[@]}" >/dev/null 2>&1
jq -r '.results[] | "\(.command)\twall \(.mean*1000|floor) ms ± \(.stddev*1000|floor)\tcpu \((.user+.system)*1000|floor) ms"' \
  "$WORK/zfs.json" | column -t -s $'\t'
jq -r '
  (.results | map({(.command): .mean}) | add) as $t
  | (.results | map({(.command): (.user + .system)}) | add) as $c
  | "ratio zfs/cpio: wall \($t.zfs / $t.cpio * 100 | round / 100)x, cpu \($c.zfs / $c.cpio * 100 | round / 100)x (goal: < 1.2x)"' \
  "$WORK/zfs.json"
