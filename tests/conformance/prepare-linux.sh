#!/usr/bin/env bash
# Extracts what Kconfig needs from Debian's linux-source-6.1 tarball into a
# cache directory and builds Linux's own scripts/kconfig/conf there, so the
# conformance test and the kconfig bench can compare against it.
# Idempotent (a stamp records the tarball it came from) and atomic (built in a
# temporary directory, then renamed). Prints the tree's path on stdout.
set -euo pipefail

TARBALL=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/osvb
DEST=$CACHE/linux-6.1

[ -r "$TARBALL" ] || { echo "prepare-linux: $TARBALL not found; apt-get install linux-source-6.1" >&2; exit 1; }
stamp="$(stat -c '%s %Y' "$TARBALL") v1"
if [ -f "$DEST/.osvb-stamp" ] && [ "$(cat "$DEST/.osvb-stamp")" = "$stamp" ] && [ -x "$DEST/scripts/kconfig/conf" ]; then
  echo "$DEST"
  exit 0
fi

for tool in flex bison gcc xz; do
  command -v "$tool" >/dev/null || { echo "prepare-linux: $tool not found (scripts/setup installs it)" >&2; exit 1; }
done

mkdir -p "$CACHE"
TMP=$(mktemp -d "$CACHE/.linux-6.1.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# Only the Kconfig files, the scripts they run, the defconfigs/fragments and the Makefile (for the version).
tar -xJf "$TARBALL" -C "$TMP" --strip-components=1 --wildcards \
  '*Kconfig*' '*/scripts/*' '*/arch/*/configs/*' '*/kernel/configs/*' 'linux-source-6.1/Makefile'
(
  cd "$TMP/scripts/kconfig"
  flex -o lexer.lex.c lexer.l
  bison -t -o parser.tab.c --defines=parser.tab.h parser.y 2>/dev/null
  gcc -O2 -I. -o conf conf.c confdata.c expr.c lexer.lex.c menu.c parser.tab.c preprocess.c symbol.c util.c
)
echo "$stamp" >"$TMP/.osvb-stamp"
rm -rf "$DEST.old"
[ -e "$DEST" ] && mv "$DEST" "$DEST.old"
mv "$TMP" "$DEST"
trap - EXIT
rm -rf "$DEST.old"
echo "$DEST"
