#!/usr/bin/env bash
# Installs the Debian packages the full test run uses (MCU cross toolchains
# and QEMU, qemu-user and Wine for the emulated platforms, and the real
# clients the examples are tested with). Idempotent; needs root (as CI is)
# or sudo; without either it says what is missing and the tests that need
# those tools report SKIP.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pkgs=(socat netcat-openbsd curl strace openssl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo=sudo
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && [ -z "$sudo" ]; then
    echo "setup: not root; missing ${missing[*]} (those tests will skip)" >&2
  else
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null 2>&1
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
      echo "setup: could not install ${missing[*]}" >&2
  fi
fi
# ThreadSanitizer for the C tests' threaded builds (scripts/test-c.sh): zig
# 0.11 cannot link it; Debian's clang with its compiler-rt can. Separate, so
# a distribution without these names still gets the rest.
tsan=(clang-14 libclang-rt-14-dev)
missing=()
for p in "${tsan[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && [ -z "$sudo" ]; then
    echo "setup: not root; missing ${missing[*]} (the TSan C tests will skip)" >&2
  else
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
      { $sudo apt-get update -qq >/dev/null 2>&1 &&
        $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; } ||
      echo "setup: could not install ${missing[*]} (the TSan C tests will skip)" >&2
  fi
fi
# The shipped binaries for other platforms, run emulated (scripts/test-
# foreign.sh): qemu-user with the arm64 glibc (and libgcc_s, which Deno's
# arm64 build links) for linux-aarch64, Wine for windows-x86_64.
foreign=(qemu-user-static libc6-arm64-cross libgcc-s1-arm64-cross wine64)
missing=()
for p in "${foreign[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && [ -z "$sudo" ]; then
    echo "setup: not root; missing ${missing[*]} (the emulated platform tests will skip)" >&2
  else
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
      { $sudo apt-get update -qq >/dev/null 2>&1 &&
        $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; } ||
      echo "setup: could not install ${missing[*]} (the emulated platform tests will skip)" >&2
  fi
fi
bash "$here/tests/mcu/install-deps.sh" || echo "setup: MCU toolchains unavailable (MCU tests will skip)" >&2
