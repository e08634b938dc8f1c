#!/usr/bin/env bash
# Long runs of the C fuzz harness (csrc/test/fuzz.c) under gcc's
# AddressSanitizer + UndefinedBehaviorSanitizer, one fresh seed per run, on
# every backend in turn, until the time is up or a run fails.
#   scripts/fuzz.sh [seconds=600] [epochs-per-run=20000]
# ARIO_TEST_BACKENDS narrows the backends. A failure prints the seed and the
# line to replay it:  ARIO_BACKEND=<be> ARIO_FUZZ_SEED=<seed> build/fuzz/fuzz
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-600}
epochs=${2:-20000}
backends=${ARIO_TEST_BACKENDS:-"io_uring epoll poll select"}
out="$root/build/fuzz"
mkdir -p "$out"
deno=${DENO:-$root/node_modules/.bin/deno}
facts=$("$deno" run --quiet -A "$root/scripts/csrc.ts" sh host) || exit 2
eval "$facts" # csrc_sources, csrc_cflags, ... (scripts/csrc.ts)
gcc "${csrc_cflags[@]}" -g -O1 \
  -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
  "${csrc_sources[@]}" "$root/csrc/test/fuzz.c" -o "$out/fuzz" -lpthread || exit 2
end=$(($(date +%s) + secs))
runs=0
while [ "$(date +%s)" -lt "$end" ]; do
  for be in $backends; do
    seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
    if ! ARIO_BACKEND=$be ARIO_FUZZ_SEED=$seed ARIO_FUZZ_ITERS=$epochs timeout 600 "$out/fuzz" >"$out/last.log" 2>&1; then
      cat "$out/last.log"
      echo "fuzz: FAIL on $be, seed $seed; replay:"
      echo "  ARIO_BACKEND=$be ARIO_FUZZ_SEED=$seed ARIO_FUZZ_ITERS=$epochs $out/fuzz"
      exit 1
    fi
    runs=$((runs + 1))
  done
done
echo "fuzz: $runs runs of $epochs epochs passed ($backends)"
