#!/usr/bin/env bash
# Runs tests/sim_test.ts (the seeded suite on the sim backend) over many
# seeds, in chunks, and prints each failing seed with the command that
# replays it. Builds the library first unless ARIO_SIM_NOBUILD=1.
#
#   scripts/sim.sh [seeds=2000] [first=1]
#
# Env: ARIO_SIM_FAULTS (one fault profile for every chunk; default: each
# chunk runs the default profile and the reset profile, the two tests of
# the file), ARIO_SIM_CHUNK (seeds per deno process, default 250),
# ARIO_SIM_SKIP (workloads to leave out), ARIO_SIM_TIMEOUT (seconds per
# chunk, default 900). Exit status 1 if any seed failed.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
deno=node_modules/.bin/deno
total=${1:-2000}
first=${2:-1}
chunk=${ARIO_SIM_CHUNK:-250}
limit=${ARIO_SIM_TIMEOUT:-900}
log=$(mktemp -d)/sim
fail=0
ran=0

if [ "${ARIO_SIM_NOBUILD:-0}" != 1 ]; then
  timeout 300 "$deno" task build >/dev/null || { echo "build failed"; exit 2; }
fi

start=$(date +%s)
for ((base = first; base < first + total; base += chunk)); do
  n=$((first + total - base < chunk ? first + total - base : chunk))
  out="$log.$base.out"
  ARIO_BACKEND=sim ARIO_SIM_SEED_BASE=$base ARIO_SIM_SEEDS=$n \
    timeout "$limit" "$deno" test -A tests/sim_test.ts >"$out" 2>&1
  rc=$?
  ran=$((ran + n))
  if [ $rc -ne 0 ]; then
    fail=1
    if grep -q '^seed [0-9]* failed' "$out"; then
      grep -E '^seed [0-9]+ failed|^  replay:' "$out" | sort -u
    else
      echo "chunk $base..$((base + n - 1)): deno test exited $rc (timeout or crash); log $out"
      tail -20 "$out" | sed 's/^/    /'
    fi
  fi
  echo "seeds $base..$((base + n - 1)): $([ $rc -eq 0 ] && echo ok || echo FAILED) ($(($(date +%s) - start)) s so far)"
done
echo "sim: $ran seeds per test, $(($(date +%s) - start)) s, $([ $fail -eq 0 ] && echo 'all passed' || echo 'failures above')"
exit $fail
