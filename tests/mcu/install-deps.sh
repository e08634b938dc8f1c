#!/usr/bin/env bash
# Installs what the MCU harness needs on Debian (12 "bookworm" or later):
#   gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf  ESP8266 compiler + headers
#   qemu-system-misc   qemu-system-xtensa (lx106) and qemu-system-riscv32
#   qemu-system-arm    qemu-system-arm (mps2-an386, Cortex-M4)
#   liblwip-dev liblwip0  lwIP 2.1.3 headers + the unix port (tests/mcu/lwip/run.sh)
#   clang-22 llvm-22   Xtensa backend with -mcpu=esp32 (bookworm-security): the ESP32 row
# riscv32 and Cortex-M are compiled with the zig from package.json (npm ci).
# Idempotent and quiet: installs only what is missing, runs `apt-get update`
# only when a package is unknown to apt's current lists.
set -euo pipefail
pkgs=(gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf qemu-system-misc qemu-system-arm
  liblwip-dev liblwip0 clang-22 llvm-22)
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "mcu deps: already installed (${pkgs[*]})"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "mcu deps: need root to install: ${missing[*]}" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
need_update=0
for p in "${missing[@]}"; do
  cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then need_update=1; fi
done
if [ $need_update -eq 1 ]; then
  $sudo apt-get update -qq >/dev/null
fi
echo "mcu deps: installing ${missing[*]}"
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "mcu deps: done"
