#!/usr/bin/env bash
# Kconfig engine speed, measured side by side in one run:
#   1. `osvb kconfig olddefconfig` vs Linux's own conf on Linux 6.1 (x86_64
#      defconfig as the .config), nothing cached: both run every $(shell,...).
#   2. the same with osvb's $(shell,...) results cached by an earlier run
#      (--shell-cache); conf has no such cache, so it is the same conf run.
#   3. osvb's own tree (kconfig/Kconfig), whole command including node start-up.
# Runs alternate between the tools; medians of wall-clock time are compared
# (CPU time, user+sys, is printed too). Usage: bench/kconfig.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-5}

npm run --silent build
TREE=$(tests/conformance/prepare-linux.sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/osvb-bench-kconfig.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

export srctree=$TREE SRCARCH=x86 ARCH=x86_64 CC=gcc LD=ld HOSTCC=gcc HOSTCXX=g++ RUSTC=rustc BINDGEN=bindgen PAHOLE=pahole
mkv() { sed -n "s/^$1 = *//p" "$TREE/Makefile" | head -n1; }
export KERNELVERSION="$(mkv VERSION).$(mkv PATCHLEVEL).$(mkv SUBLEVEL)$(mkv EXTRAVERSION)"
export CC_VERSION_TEXT="$(LC_ALL=C gcc --version 2>/dev/null | head -n 1)"
cd "$WORK"

CONF="$TREE/scripts/kconfig/conf"
OSVB="node $ROOT/bin/osvb.js kconfig -s"
KCONFIG_CONFIG=base.config "$CONF" -s --defconfig=arch/x86/configs/x86_64_defconfig Kconfig >/dev/null 2>&1

TIMEFORMAT='%3R %3U %3S'
# measure NAME CMD...: appends "wall cpu" (seconds) to $WORK/NAME.times
measure() {
  local name=$1; shift
  local t
  t=$( { time "$@" >/dev/null 2>&1; } 2>&1 )
  awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%s %.3f\n", a[1], a[2] + a[3] }' >>"$WORK/$name.times"
}

olddef_conf() { cp base.config conf.config; KCONFIG_CONFIG=conf.config "$CONF" -s --olddefconfig Kconfig; }
olddef_osvb() { cp base.config osvb.config; $OSVB olddefconfig --config osvb.config; }
olddef_osvb_cached() { cp base.config cached.config; $OSVB olddefconfig --config cached.config --shell-cache "$WORK/shell-cache.json"; }
own_tree() { $OSVB olddefconfig --srctree "$ROOT" --kconfig kconfig/Kconfig --config own.config; }

# Warm up file caches; fill osvb's shell cache; check both write the same .config.
olddef_conf; olddef_osvb; olddef_osvb_cached; own_tree
cmp -s conf.config osvb.config || { echo "bench: osvb and conf disagree on olddefconfig" >&2; exit 1; }
cmp -s conf.config cached.config || { echo "bench: cached osvb run disagrees with conf" >&2; exit 1; }

for _ in $(seq "$RUNS"); do
  measure conf olddef_conf
  measure osvb olddef_osvb
  measure osvb_cached olddef_osvb_cached
  measure own own_tree
done

median() { sort -n -k"$2" "$WORK/$1.times" | awk -v k="$2" '{ v[NR] = $k } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
row() { printf '  %-44s %7.3f s wall  %7.3f s cpu\n' "$1" "$(median "$2" 1)" "$(median "$2" 2)"; }
ratio() { awk -v a="$(median "$1" "$3")" -v b="$(median "$2" "$3")" 'BEGIN { printf "%.2f", a / b }'; }

echo "Kconfig bench, $(date -u +%Y-%m-%d), $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)), load $(cut -d' ' -f1-3 /proc/loadavg), median of $RUNS runs"
echo "Linux 6.1 x86_64, olddefconfig on x86_64_defconfig's .config:"
row "conf (scripts/kconfig/conf)" conf
row "osvb kconfig, cold (runs every \$(shell))" osvb
row "osvb kconfig, \$(shell) results cached" osvb_cached
echo "  speed-up vs conf: cold $(ratio conf osvb 1)x wall ($(ratio conf osvb 2)x cpu), cached $(ratio conf osvb_cached 1)x wall ($(ratio conf osvb_cached 2)x cpu)"
echo "osvb's own tree (kconfig/Kconfig), whole command incl. node start-up:"
row "osvb kconfig olddefconfig" own
