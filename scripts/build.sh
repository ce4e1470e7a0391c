#!/bin/sh
# scripts/build.sh DIR [configure args...]: configures and builds Postern out of
# tree in DIR (relative to the source tree), regenerating configure if needed.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$1; shift
[ -x "$src/configure" ] || (cd "$src" && autoreconf -fi)
mkdir -p "$src/$dir"
cd "$src/$dir"
[ -f Makefile ] || "$src/configure" -q "$@"
make -j"$(nproc)" >/dev/null
