#!/usr/bin/env bash
# Every test: C (zig + ASan/UBSan, every backend, the differential suite),
# Deno (whole suite once per backend), linux-aarch64 and windows-x86_64
# under emulation (qemu-user, Wine), MCU (emulated CPUs), and the host
# cross-builds. Ends with one line "N passed, N failed" counting them all.
set -uo pipefail
cd "$(dirname "$0")/.."
deno=node_modules/.bin/deno
log=$(mktemp -d)
pass=0 fail=0 skip=0

count_lines() { # file: PASS/FAIL/SKIP lines
  local p f s
  p=$(grep -c '^PASS ' "$1" || true); f=$(grep -c '^FAIL ' "$1" || true); s=$(grep -c '^SKIP ' "$1" || true)
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  echo "   $p passed, $f failed, $s skipped"
}

section() { echo; echo "== $* ($(date -u +%H:%M:%S))"; }

ticker() { # log: every 30 s (ARIO_TICK), how long the step has run and the log's last line
  local t=0 every=${ARIO_TICK:-30}
  while sleep "$every"; do
    t=$((t + every))
    echo "   ... ${t} s: $(sed 's/\x1b\[[0-9;]*m//g' "$1" 2>/dev/null | grep -v '^\s*$' | tail -1 | cut -c1-100)"
  done
}

logged() { # log cmd...: runs cmd with its output in log, printing progress meanwhile
  local log=$1 rc tp; shift
  ticker "$log" & tp=$!
  "$@" >"$log" 2>&1; rc=$?
  kill "$tp" 2>/dev/null; wait "$tp" 2>/dev/null
  return $rc
}

count_deno() { # log-file exit-code: adds deno test's own summary line to the totals
  local line p f
  line=$(sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E '(ok|FAILED) \| [0-9]+ passed' | tail -1)
  p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+'); f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
  p=${p:-0}; f=${f:-0}
  if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  [ "$f" -ne 0 ] && sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E 'FAILED|error|Error' | head -40
  echo "   $p passed, $f failed"
  pass=$((pass + p)); fail=$((fail + f))
}

bash scripts/setup-system.sh
section "build"
if ! $deno task build; then echo "FAIL build"; fail=$((fail + 1)); fi

section "static checks (fmt, lint, types, doc lint, publish dry run)"
for check in "fmt --check" "lint" "check mod.ts examples/ scripts/ tests/" "doc --lint mod.ts channel.ts sync.ts task.ts timer.ts workers.ts" "task embed" "publish --dry-run --allow-dirty"; do
  echo "   $check"
  if logged "$log/check.txt" $deno $check; then echo "PASS check/${check%% *}" | tee -a "$log/checks.txt"
  else echo "FAIL check/${check%% *}" | tee -a "$log/checks.txt"; sed 's/\x1b\[[0-9;]*m//g' "$log/check.txt" | tail -15; fi
done
count_lines "$log/checks.txt"

section "JSDoc and README examples (deno test --doc)"
logged "$log/doc.txt" env ARIO_BACKEND= timeout 300 $deno test --doc -A mod.ts ./*.ts README.md
count_deno "$log/doc.txt" $?

section "C tests"
logged "$log/c.txt" bash scripts/test-c.sh
grep -E '^(FAIL|SKIP)' -A12 "$log/c.txt" | head -80
count_lines "$log/c.txt"

section "Other platforms, emulated (scripts/test-foreign.sh: aarch64 under qemu-user, windows under Wine)"
: >"$log/foreign.txt"
for platform in aarch64 windows; do
  logged "$log/foreign-$platform.txt" timeout 600 bash scripts/test-foreign.sh $platform
  cat "$log/foreign-$platform.txt" >>"$log/foreign.txt"
done
{ grep -E '^FAIL' -A8 "$log/foreign.txt"; grep -E '^SKIP' "$log/foreign.txt" | grep -v '^SKIP c/aarch64/io_uring/'; } | head -60
count_lines "$log/foreign.txt"

for be in io_uring epoll poll select; do
  section "Deno tests, backend $be"
  logged "$log/deno-$be.txt" env ARIO_BACKEND=$be timeout 600 $deno test -A --parallel tests/
  count_deno "$log/deno-$be.txt" $?
done

section "Seeded simulation (sim backend, tests/sim_test.ts; scripts/sim.sh for thousands)"
logged "$log/sim.txt" env ARIO_BACKEND=sim ARIO_SIM_SEEDS=${ARIO_SIM_SEEDS:-500} timeout 900 $deno test -A tests/sim_test.ts
count_deno "$log/sim.txt" $?

if [ -x tests/mcu/run.sh ]; then
  section "MCU tests (QEMU)"
  logged "$log/mcu.txt" tests/mcu/run.sh
  grep -E '^(FAIL|SKIP)' "$log/mcu.txt" | head -20
  count_lines "$log/mcu.txt"
fi

for extra in scripts/cross-host.sh tests/mcu/firmware-compile.sh tests/mcu/cross-report.sh tests/mcu/lwip/run.sh; do
  [ -f "$extra" ] || continue
  section "$extra"
  logged "$log/extra.txt" bash "$extra"
  grep -E '^(FAIL|SKIP)' -A8 "$log/extra.txt" | head -30
  count_lines "$log/extra.txt"
done

echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
