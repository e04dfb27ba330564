#!/usr/bin/env bash
# Unmodified Linux programs on osvb against Debian's Linux cloud kernel, side
# by side in one run on the same QEMU, machine (microvm + qboot) and devices:
#   1. boot to main: a static musl hello, QEMU start to QEMU exit; osvb runs it
#      with osvb.exec, Linux as /init (rdinit) from an initramfs; plus the QEMU
#      floor (a kernel that only writes isa-debug-exit)
#   2. image size: stripped kernel.elf + rootfs cpio of the hello image
#      (Linux: vmlinuz + the same cpio as initramfs, for reference)
#   3. Python: `print("hi")` with Debian's python3, QEMU start to exit, the
#      same rootfs cpio (osvb's rootfs builder) in both guests
#   4. syscall cost: a raw-`syscall` getpid loop timed inside each guest, and
#      the host CPU time QEMU spends per call
# osvb's images are built and started the way a user does it (osvb build, and
# the QEMU command `osvb run` executes); Linux gets the same QEMU command with
# its own -kernel and -append. Both guests end the VM when the program exits:
# osvb through its exit protocol (isa-debug-exit), Linux by panicking when init
# exits (panic=-1, reboot=t, QEMU -no-reboot). Ratios compare the medians of
# wall-clock time and the mean CPU time (user+sys) of the QEMU process, which
# a busy host disturbs less.
#
# Usage: bench/userland.sh [--runs N] [--calls N]   (default 5 runs, 1000000 calls)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=5
CALLS=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --calls) CALLS="$2"; shift 2 ;;
    *) echo "usage: bench/userland.sh [--runs N] [--calls N]" >&2; exit 2 ;;
  esac
done

die() { echo "bench: $*" >&2; exit 1; }
for t in hyperfine qemu-system-x86_64 musl-gcc gcc ld strip jq node python3 timeout; do
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
# Under TCG the guest's TSC is the host's TSC. Linux is told its rate
# (tsc_early_khz) because its PIT calibration fails and hangs on a busy host,
# and that it is reliable (tsc=reliable) because otherwise its watchdog compares
# it with jiffies, which lose ticks on a busy host, declares it unstable and
# falls back to jiffies: a 4 ms clock, which would make the in-guest timing of
# section 4 wrong. osvb calibrates its TSC against the PIT and uses it.
TSC_KHZ=${TSC_KHZ:-$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)}
[ -n "$TSC_KHZ" ] || die "cannot read the CPU frequency from /proc/cpuinfo; set TSC_KHZ"

npm run --silent build
OSVB="node $ROOT/bin/osvb.js"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/osvb-bench-userland.XXXXXX")
cleanup() {
  # `osvb run --dry-run` names a COM2 exit-record file per command; QEMU writes it.
  if [ -f "$WORK/records" ]; then xargs -r rm -f <"$WORK/records"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- the programs, the floor, and both guests' QEMU command lines -------------
# The osvb images are built the way a user builds them: app.yaml -> osvb build
# (a kernel with what the app needs + rootfs.cpio), and `osvb run --dry-run`
# gives the QEMU command `osvb run` executes. The Linux guest gets that same
# command with only -kernel and -append changed; the image's rootfs.cpio is its
# initramfs, so both guests run the same files on the same machine and devices.
mkdir -p "$WORK/bin"
musl-gcc -static -O2 -s -o "$WORK/bin/hello" bench/userland/hello.c
musl-gcc -static -O2 -s -o "$WORK/bin/getpid" bench/userland/getpid.c
cp bench/userland/hi.py "$WORK/bin/hi.py"
gcc -c bench/boot/floor/floor.S -o "$WORK/floor.o"
ld -nostdlib -z max-page-size=4096 -T bench/boot/floor/floor.ld -o "$WORK/floor.elf" "$WORK/floor.o"

printf 'name: bench-hello\napp:\n  exec: bin/hello\nrun:\n  memory: 128M\n' >"$WORK/hello.yaml"
printf 'name: bench-getpid\napp:\n  exec: bin/getpid\n  args: ["%s", "10"]\nrun:\n  memory: 128M\n' "$CALLS" \
  >"$WORK/getpid.yaml"
# The python image also holds the hello, to boot each guest on this rootfs without running python.
printf 'name: bench-python\napp:\n  runtime: python\n  script: bin/hi.py\nfiles:\n  /app/hello: bin/hello\nrun:\n  memory: 256M\n' \
  >"$WORK/python.yaml"

# panic=-1 + QEMU's -no-reboot: when /init exits, Linux panics and resets at once and QEMU exits;
# reboot=t resets by triple fault without trying ACPI and the keyboard controller first.
LINUX_OPTS="console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=$TSC_KHZ tsc=reliable"
for app in hello getpid python; do
  $OSVB build --config "$WORK/$app.yaml" --out "$WORK/img/$app" >/dev/null
  $OSVB run "$WORK/img/$app" --dry-run --json | jq .argv >"$WORK/$app.osvb.json"
  jq -r '.[] | select(startswith("file,id=osvb-exit,path=")) | sub("^.*path="; "")' "$WORK/$app.osvb.json" \
    >>"$WORK/records"
  # Linux runs the image's program as /init (rdinit) with the same arguments (Linux passes init
  # the words after `--`). The bench's apps set no environment.
  prog=$(jq -r '.rootfs.command[0]' "$WORK/img/$app/manifest.json")
  args=$(jq -r '.kernel.cmdline | sub("^.*? -- ?"; "")' "$WORK/img/$app/manifest.json")
  jq --arg k "$VMLINUZ" --arg a "$LINUX_OPTS rdinit=$prog -- $args" \
    'index("-kernel") as $i | index("-append") as $j | .[$i + 1] = $k | .[$j + 1] = $a' \
    "$WORK/$app.osvb.json" >"$WORK/$app.linux.json"
done
jq 'index("-append") as $j | .[$j + 1] |= sub("osvb[.]exec=.*$"; "osvb.exec=/app/hello --")' "$WORK/python.osvb.json" \
  >"$WORK/pyhello.osvb.json"
jq 'index("-append") as $j | .[$j + 1] |= sub("rdinit=.*$"; "rdinit=/app/hello")' "$WORK/python.linux.json" \
  >"$WORK/pyhello.linux.json"
# cmd APP GUEST: the QEMU command as one shell-quoted string, bounded by timeout.
cmd() { echo "timeout 300 $(jq -r '@sh' "$WORK/$1.$2.json")"; }
# The floor: the hello's QEMU command up to -kernel (same machine, firmware and devices).
FLOOR="timeout 60 $(jq -r '.[:index("-kernel")] | @sh' "$WORK/hello.osvb.json") -kernel $WORK/floor.elf"

# run APP GUEST: one boot, console output on stdout.
run() { eval "$(cmd "$1" "$2")" </dev/null 2>&1 || true; }
expect() { # APP GUEST TEXT
  local out
  out=$(run "$1" "$2")
  grep -q "$3" <<<"$out" || die "$1 on $2 did not print \"$3\"; its last lines:
$(tail -n 8 <<<"$out")"
}
expect hello osvb 'hello from main'
expect hello linux 'hello from main'
expect python osvb '^hi'
expect python linux '^hi'
expect pyhello osvb 'hello from main'
expect pyhello linux 'hello from main'
out=$(eval "$FLOOR" </dev/null 2>&1) && st=0 || st=$?
[ "$st" = 1 ] || die "the floor kernel did not exit through isa-debug-exit (QEMU exit $st): $out"

# --- measurements -------------------------------------------------------------
table() {
  jq -r '.results[] | [.command, (.median * 1000 | round), (.mean * 1000 | round), ((.stddev // 0) * 1000 | round),
    ((.user + .system) * 1000 | round)] | @tsv' "$1" \
    | awk -F'\t' '{ printf "  %-15s %6d ms median  (mean %d ± %d ms)  %6d ms cpu\n", $1, $2, $3, $4, $5 }'
}
# ratio FILE A B: "median wall A/B, cpu A/B"
ratio() {
  jq -r --arg a "$2" --arg b "$3" '(.results | map({(.command): .}) | add) as $r
    | "\($r[$a].median / $r[$b].median * 100 | round / 100)x wall, \(($r[$a].user + $r[$a].system) / ($r[$b].user + $r[$b].system) * 100 | round / 100)x cpu"' "$1"
}
bench() { # JSON name cmd name cmd ...
  local json=$1; shift
  hyperfine -N -i --runs "$RUNS" --warmup 1 --export-json "$json" "$@" >/dev/null 2>&1 \
    || die "hyperfine failed ($*)"
}

ACCEL=$(jq -r '.[index("-accel") + 1]' "$WORK/hello.osvb.json")
MACHINE=$(jq -r '.[index("-M") + 1]' "$WORK/hello.osvb.json")
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
echo "== 1. boot to main: static musl hello, QEMU start to exit ($MACHINE + qboot, $ACCEL, 128 MiB)"
bench "$WORK/boot.json" -n floor "$FLOOR" -n osvb "$(cmd hello osvb)" -n linux "$(cmd hello linux)" \
  -n "osvb run (CLI)" "timeout 300 $OSVB run $WORK/img/hello"
table "$WORK/boot.json"
echo "  osvb / floor   $(ratio "$WORK/boot.json" osvb floor)   (goal: 1.3x)"
echo "  linux / floor  $(ratio "$WORK/boot.json" linux floor)"
echo "  linux / osvb   $(ratio "$WORK/boot.json" linux osvb)"

echo
echo "== 2. image size: static hello (kernel.elf stripped + rootfs cpio)"
strip -o "$WORK/kernel.stripped" "$WORK/img/hello/kernel.elf"
K=$(stat -c %s "$WORK/kernel.stripped")
C=$(stat -c %s "$WORK/img/hello/rootfs.cpio")
V=$(stat -c %s "$VMLINUZ")
printf '  osvb   kernel.elf %8d B (unstripped %d B, %s modules) + rootfs.cpio %6d B = %8d B (goal: < 250 KiB = 256000 B)\n' \
  "$K" "$(stat -c %s "$WORK/img/hello/kernel.elf")" "$(jq ".modules | length" "$WORK/img/hello/manifest.json")" "$C" $((K + C))
printf '  linux  vmlinuz    %8d B + initramfs (the same cpio) %6d B = %8d B (no modules needed)\n' "$V" "$C" $((V + C))
echo "  linux / osvb   $(awk -v a=$((V + C)) -v b=$((K + C)) 'BEGIN { printf "%.1fx", a / b }')"

echo
echo "== 3. Python: print(\"hi\") with Debian's $(python3 -V), QEMU start to exit (256 MiB)"
echo "  rootfs.cpio $(stat -c %s "$WORK/img/python/rootfs.cpio") B, in both guests"
bench "$WORK/python.json" -n osvb "$(cmd python osvb)" -n linux "$(cmd python linux)" \
  -n "osvb hello" "$(cmd pyhello osvb)" -n "linux hello" "$(cmd pyhello linux)"
table "$WORK/python.json"
echo "  linux / osvb   $(ratio "$WORK/python.json" linux osvb)   (goal: > 1)"
# Python's own share: the run less a hello boot on the same rootfs (same boot, unpacking and exit).
jq -r '(.results | map({(.command): .}) | add) as $r
  | def own(g): { wall: ($r[g].median - $r[g + " hello"].median), cpu: ($r[g].user + $r[g].system
      - $r[g + " hello"].user - $r[g + " hello"].system) };
  own("osvb") as $o | own("linux") as $l
  | "  python itself (the run less a hello boot on this rootfs): osvb \($o.wall * 1000 | round) ms wall,"
    + " \($o.cpu * 1000 | round) ms cpu; linux \($l.wall * 1000 | round) ms wall, \($l.cpu * 1000 | round) ms cpu;"
    + " linux / osvb \($l.cpu / $o.cpu * 100 | round / 100)x cpu"' "$WORK/python.json"

echo
echo "== 4. syscall cost: getpid via the syscall instruction, $CALLS calls in 10 rounds, $RUNS boots each"
# Each boot gives two numbers: a) the guest's own CLOCK_MONOTONIC around the loop (the program prints
# the mean and its fastest round), b) QEMU's CPU time (user+sys); b) with $CALLS calls less b) with
# 10 calls, per call, is the host CPU one guest getpid costs. A busy host delays the guest, which
# inflates a), but barely changes b). Boots alternate between the guests.
for g in osvb linux; do
  jq --arg n "$CALLS" 'index("-append") as $j | .[$j + 1] |= sub(" \($n) 10$"; " 10 10")' \
    "$WORK/getpid.$g.json" >"$WORK/getpid0.$g.json"
  cmp -s "$WORK/getpid.$g.json" "$WORK/getpid0.$g.json" && die "cannot make the 10-call command line for $g"
done
TIMEFORMAT='%3U %3S'
cpu_boot() { # APP GUEST: one boot; prints "CPU-SECONDS", the console goes to $WORK/boot.out
  local t
  t=$({ time eval "$(cmd "$1" "$2")" >"$WORK/boot.out" 2>&1 </dev/null; } 2>&1) || true
  awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.3f\n", a[1] + a[2] }'
}
for _ in $(seq "$RUNS"); do
  for g in osvb linux; do
    c=$(cpu_boot getpid "$g")
    line=$(grep -a 'getpid-bench:' "$WORK/boot.out" | tr -d '\r') || die "getpid on $g printed no result:
$(tail -n 8 "$WORK/boot.out")"
    echo "$g cpu=$c $line" >>"$WORK/getpid.txt"
    echo "${g}0 cpu=$(cpu_boot getpid0 "$g")" >>"$WORK/getpid.txt"
  done
done
gp() { # GUEST FIELD median|min: over the boots
  grep "^$1 " "$WORK/getpid.txt" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p" | sort -n \
    | awk -v how="$3" '{ v[NR] = $1 } END { print (how == "min") ? v[1] : (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
cpu_ns() { awk -v a="$(gp "$1" cpu median)" -v b="$(gp "${1}0" cpu median)" -v n="$CALLS" 'BEGIN { printf "%.1f", (a - b) * 1e9 / n }'; }
for g in osvb linux; do
  printf '  %-6s %7.1f ns/call in the guest (median; fastest round %.1f)   %7.1f ns/call of host CPU\n' \
    "$g" "$(gp "$g" mean_ns median)" "$(gp "$g" min_ns min)" "$(cpu_ns "$g")"
done
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo "  linux / osvb   in the guest $(div "$(gp linux mean_ns median)" "$(gp osvb mean_ns median)") (median)," \
  "$(div "$(gp linux min_ns min)" "$(gp osvb min_ns min)") (fastest round); host CPU $(div "$(cpu_ns linux)" "$(cpu_ns osvb)")"

echo
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), $ACCEL, $(qemu-system-x86_64 --version | head -n1 | sed 's/ (.*//'), load average $LOAD_BEFORE before / $(cut -d' ' -f1 /proc/loadavg) after, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "linux: $(basename "$VMLINUZ"), $LINUX_OPTS; $RUNS runs each (hyperfine: +1 warm-up)"
