#!/usr/bin/env bash
# lwIP checks, against Debian's liblwip-dev/liblwip0 (lwIP 2.1.3):
#   lwip/idf-component-sources csrc/idf/CMakeLists.txt lists the lwip profile's sources
#   lwip/idf-profile-<target>  the whole lwIP profile (scripts/csrc.ts: the core,
#                              backend/select.c, -DARIO_LWIP -Wall -Wextra -Werror)
#                              against lwIP's headers + tests/mcu/lwip/idf/lwipopts.h
#                              (ESP-IDF's defaults), via scripts/cross.ts; sizes
#   lwip/firmware-esp-platform examples/firmware/echo_main.c with -DESP_PLATFORM
#                              against those headers + tests/mcu/lwip/stub/ (ESP-IDF)
#   lwip/<be>/run-build, lwip/<be>/<check>  ario's socket path over a real lwIP stack
#                              in-process (tests/mcu/lwip/lwip_run.c), be = poll (profile
#                              lwip_poll: backend/lwip_poll.c) and select (profile lwip:
#                              backend/select.c over a
#                              select made of lwip_poll: Debian's lwIP has no lwip_select)
# Prints PASS/FAIL/SKIP lines; exit 1 if any FAIL. Needs: liblwip-dev liblwip0,
# gcc-xtensa-lx106 + picolibc-xtensa-lx106-elf (tests/mcu/install-deps.sh),
# clang-22/llvm-22 for the ESP32 row, `npm ci` (deno).
set -u
root=$(cd "$(dirname "$0")/../../.." && pwd)
deno=${DENO:-$root/node_modules/.bin/deno}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
inc=/usr/include/lwip
fail=0
pass() { echo "PASS lwip/$*"; }
failed() { echo "FAIL lwip/$1"; shift; [ $# -gt 0 ] && grep -v "^  *[a-z_]* *[0-9?]* *[0-9]*  [a-z_]* >" "$@" | tail -25 | sed "s/^/    /" >&2; fail=1; }
facts() { # profile: csrc_sources, csrc_lang, ... of scripts/csrc.ts
  local f; f=$("$deno" run --quiet -A "$root/scripts/csrc.ts" sh "$1") || exit 2
  eval "$f"
}

# 0. the ESP-IDF component (CMake cannot read scripts/csrc.ts) builds what the lwip profile says
if "$deno" run --quiet -A "$root/scripts/csrc.ts" check 2>"$out/idf-sources.log"; then
  pass "idf-component-sources (csrc/idf/CMakeLists.txt = scripts/csrc.ts lwip)"
else
  failed idf-component-sources "$out/idf-sources.log"
fi

if [ ! -f "$inc/lwip/sockets.h" ]; then
  for c in idf-profile firmware-esp-platform run-build; do
    echo "SKIP lwip/$c (lwIP headers missing: $inc/lwip/sockets.h; apt-get install liblwip-dev liblwip0)"
  done
  exit 0
fi

# 1. the lwIP profile, ESP-IDF's options, per MCU target with a libc
for t in xtensa-lx106 xtensa-esp32; do
  case $t in
    xtensa-lx106) need=xtensa-lx106-elf-gcc pkg="gcc-xtensa-lx106 picolibc-xtensa-lx106-elf" ;;
    xtensa-esp32) need=clang-22 pkg="clang-22 llvm-22 (bookworm-security) and picolibc-xtensa-lx106-elf" ;;
  esac
  if ! command -v "$need" >/dev/null 2>&1 || [ ! -d /usr/lib/xtensa-lx106-elf/include ]; then
    echo "SKIP lwip/idf-profile-$t ($need or picolibc's headers missing: apt-get install $pkg)"
    continue
  fi
  extra=()
  # ESP32: clang has no libc of its own here; picolibc's (target-neutral) headers stand in for newlib's
  [ "$t" = xtensa-esp32 ] && extra=(--cflag -isystem --cflag /usr/lib/xtensa-lx106-elf/include)
  if timeout 300 "$deno" run --quiet -A "$root/scripts/cross.ts" --target "$t" --profile lwip \
      --include "$root/tests/mcu/lwip/idf" --include "$inc" "${extra[@]}" --out "$out/$t" \
      >"$out/$t.log" 2>&1; then
    sz=$(grep -o 'cross-check [^:]*: text=[0-9]* data=[0-9]* bss=[0-9]*' "$out/$t.log" | sed 's/.*: //')
    [ -z "$sz" ] && sz=$(awk '$1=="TOTAL"{print "text="$2" (library + static loop) data="$5" bss="$6}' "$out/$t.log")
    loop=$(grep -o 'static state: .*' "$out/$t.log")
    stack=$(grep -o 'max over public functions: .*' "$out/$t.log")
    pass "idf-profile-$t ($sz; $loop; stack $stack)"
  else
    failed "idf-profile-$t" "$out/$t.log"
  fi
done

# 2. the firmware example as ESP-IDF would build it (stub ESP-IDF headers)
if command -v xtensa-lx106-elf-gcc >/dev/null 2>&1; then
  facts lwip
  if xtensa-lx106-elf-gcc -std=c11 -Os -mlongcalls "${csrc_warnings[@]}" -DESP_PLATFORM=1 \
      "${csrc_lang[@]}" -I"$root/tests/mcu/lwip/stub" -I"$root/tests/mcu/lwip/idf" -I"$inc" \
      "${csrc_public_include[@]}" -c "$root/examples/firmware/echo_main.c" -o "$out/echo.o" \
      2>"$out/echo.log"; then
    pass "firmware-esp-platform (echo_main.c, -DESP_PLATFORM -DARIO_LWIP, xtensa-lx106-elf-gcc)"
  else
    failed firmware-esp-platform "$out/echo.log"
  fi
else
  echo "SKIP lwip/firmware-esp-platform (xtensa-lx106-elf-gcc missing: apt-get install gcc-xtensa-lx106 picolibc-xtensa-lx106-elf)"
fi

# 3. ario over Debian's lwIP, in-process
lib=$(ls /usr/lib/*/liblwip.so 2>/dev/null | head -1)
cc=${CC:-gcc}
if [ -z "$lib" ]; then
  echo "SKIP lwip/run-build (liblwip.so missing: apt-get install liblwip-dev liblwip0)"
elif ! command -v "$cc" >/dev/null 2>&1; then
  echo "SKIP lwip/run-build ($cc missing)"
else
  for be in poll select; do
    if [ $be = poll ]; then facts lwip_poll; bflags=()
    else facts lwip; bflags=(-DTEST_SELECT=1 -DARIO_LWIP_SELECT=test_select); fi
    bsrc=${csrc_sources[-1]} # the backend
    if $cc -std=gnu11 -O1 -g "${csrc_warnings[@]}" "${csrc_lang[@]}" "${bflags[@]}" \
        -DARIO_BACKEND_MEM=1024 -DARIO_LWIP_CLOCK_US=test_clock_us -DARIO_LWIP_WAIT_HOOK=test_wait_hook \
        -I"$inc" "${csrc_includes[@]}" "${csrc_sources[@]}" \
        "$root/tests/mcu/lwip/lwip_run.c" -o "$out/lwip_run_$be" -llwip -lpthread 2>"$out/run-build.log"; then
      pass "$be/run-build (${csrc_lang[*]}${bflags[*]:+ ${bflags[*]}} $(basename "$bsrc") against $lib)"
      timeout 60 "$out/lwip_run_$be" >"$out/run.log" 2>&1
      rc=$?
      cat "$out/run.log"
      if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$out/run.log"; then
        echo "FAIL lwip/$be/run (exit $rc$([ $rc -eq 124 ] && echo ', timed out'))"; fail=1
      fi
      grep -q '^FAIL ' "$out/run.log" && fail=1
    else
      failed "$be/run-build" "$out/run-build.log"
    fi
  done
fi
exit $fail
