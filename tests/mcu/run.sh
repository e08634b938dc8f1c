#!/usr/bin/env bash
# Emulated MCU tests: builds tests/mcu/*.c for each target and runs them under
# QEMU.  Usage: tests/mcu/run.sh [target ...] [-v] [--keep] [--filter s] [--timeout s]
# Prints PASS/FAIL/SKIP mcu/<target>/<test> lines; exits 1 if any FAIL.
# Needs: tests/mcu/install-deps.sh (apt packages) and `npm ci` (deno, zig).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
deno="${DENO:-}"
if [ -z "$deno" ]; then
  if [ -x "$root/node_modules/.bin/deno" ]; then deno="$root/node_modules/.bin/deno"
  elif command -v deno >/dev/null 2>&1; then deno="$(command -v deno)"
  else echo "mcu: deno not found (run npm ci in $root, or set DENO=)" >&2; exit 2; fi
fi
exec "$deno" run --quiet --no-prompt --allow-read --allow-write --allow-run --allow-env \
  "$root/tests/mcu/run.ts" "$@"
