#!/usr/bin/env bash
# The CLI's own cost (issue 7), side by side in one hyperfine run:
#   node -e 0            bare node start-up
#   osvb --version       goal: within 1.3x of bare node
#   qemu                 the QEMU command osvb run starts for an up-to-date
#                        static hello image (its --dry-run command, console on
#                        QEMU's stdio instead of osvb's sockets)
#   osvb run IMAGE       goal: at most 60 ms more than qemu
#   osvb run --config    the same, with the app.yaml staleness check
#
# Usage: bench/cli.sh [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=20
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "usage: bench/cli.sh [--runs N]" >&2; exit 2 ;;
  esac
done
for t in hyperfine qemu-system-x86_64 musl-gcc jq; do
  command -v "$t" >/dev/null || { echo "bench: $t missing (scripts/setup installs it)" >&2; exit 1; }
done
npm run --silent build
OSVB="node $ROOT/bin/osvb.js"
WORK=$(mktemp -d /tmp/osvb-bench-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

musl-gcc -static -O2 -o "$WORK/hello" bench/userland/hello.c
printf 'name: hello\napp:\n  exec: hello\nrun:\n  memory: 64M\n' > "$WORK/app.yaml"
$OSVB build --config "$WORK/app.yaml" >/dev/null
IMG="$WORK/.osvb/hello"
QEMU_CMD=$($OSVB run "$IMG" --dry-run)
printf '%s\n' "$QEMU_CMD" > "$WORK/qemu.sh"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs" >&2
hyperfine --runs "$RUNS" --warmup 2 -N -i --export-json "$WORK/cli.json" \
  -n 'node -e 0' 'node -e 0' \
  -n 'osvb --version' "$OSVB --version" \
  -n 'qemu' "sh $WORK/qemu.sh" \
  -n 'osvb run IMAGE' "$OSVB run $IMG" \
  -n 'osvb run --config' "$OSVB run --config $WORK/app.yaml" >&2

jq -r '.results[] | "\(.command)\twall \(.median*1000|floor) ms (median) ± \(.stddev*1000|floor)\tcpu \((.user+.system)*1000|floor) ms"' \
  "$WORK/cli.json" | column -t -s $'\t'
jq -r '(.results | map({(.command): .median}) | add) as $t
  | "osvb --version / node -e 0: \(($t["osvb --version"] / $t["node -e 0"]) * 100 | round / 100)x (goal <= 1.3x)",
    "osvb run IMAGE - qemu: \((($t["osvb run IMAGE"] - $t["qemu"]) * 1000) | round) ms (goal <= 60 ms)",
    "osvb run --config - qemu: \((($t["osvb run --config"] - $t["qemu"]) * 1000) | round) ms"' "$WORK/cli.json"
