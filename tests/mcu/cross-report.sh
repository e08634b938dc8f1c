#!/usr/bin/env bash
# The MCU library report (scripts/cross.ts --target all, bare profile) as
# PASS/FAIL/SKIP lines, one per target: sizes, the static loop, the static
# stack bound, and for ESP32 the windowed-ABI check. About 5 s.
#   PASS cross/<target> (text=N data=N bss=N; loop N B; stack N B (fn); ...)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
deno=${DENO:-$root/node_modules/.bin/deno}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
timeout 300 "$deno" run --quiet -A "$root/scripts/cross.ts" --target all --out "$out" >"$out/log" 2>&1
rc=$?
fail=0
awk -v rc=$rc '
  /^== / { if (t != "") flush(); t = $2; sub(/:$/, "", t); sz = ""; loop = ""; st = ""; abi = ""; skip = ""; bad = 0
           if ($0 ~ /skipped, /) { skip = $0; sub(/^== [^:]*: skipped, /, "", skip) } next }
  /cross-check/ { sz = $0; sub(/.*: /, "", sz); sub(/ \(agrees\)/, "", sz) }
  /static state:/ { loop = $0; sub(/.*\+ /, "", loop); sub(/ loop memory.*/, "", loop) }
  /max over public functions:/ { st = $0; sub(/.*functions: /, "", st) }
  /windowed ABI:/ { abi = $0; sub(/.*windowed ABI: /, "", abi); if (abi ~ /FAIL$/) bad = 1 }
  /^cross: / { bad = 1 }
  function flush() {
    if (skip != "") { print "SKIP cross/" t " (" skip ")"; return }
    line = sz "; loop " loop "; stack " st (abi != "" ? "; windowed ABI " (abi ~ /OK$/ ? "OK" : "FAIL") : "")
    print (bad || sz == "" ? "FAIL" : "PASS") " cross/" t " (" line ")"
  }
  END { if (t != "") flush() }
' "$out/log" | tee "$out/lines"
grep -q '^FAIL ' "$out/lines" && fail=1
if [ $rc -ne 0 ] && [ $fail -eq 0 ]; then echo "FAIL cross/all (cross.ts exit $rc)"; fail=1; fi
[ $fail -ne 0 ] && tail -30 "$out/log" >&2
exit $fail
