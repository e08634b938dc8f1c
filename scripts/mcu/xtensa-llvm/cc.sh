#!/usr/bin/env bash
# Compiles one C file for an Xtensa chip with Debian's LLVM 22 (llvm-22 and
# clang-22 from bookworm-security), which has an Xtensa backend but whose
# clang driver refuses -mcpu=esp32: clang emits LLVM IR for the generic
# xtensa target, llc-22 turns it into an object for the chip.
#   cc.sh <cpu> [clang flags] -c file.c -o file.o
# llc needs -function-sections (without it: "fixup value must be 4-byte
# aligned" on literals). -fstack-usage is dropped: llc writes each
# function's frame into a .stack_sizes section instead (--stack-size-section),
# which scripts/mcu/elf.ts reads. Objects only: nothing here links.
set -euo pipefail
cpu=$1
shift
clang=${CLANG22:-clang-22}
llc=${LLC22:-llc-22}
args=()
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    -c|-fstack-usage|-mlongcalls|-mtext-section-literals) shift ;;
    -Xclang) shift 2 ;; # -Xclang -stack-usage-file ... pairs
    *) args+=("$1"); shift ;;
  esac
done
[ -n "$out" ] || { echo "cc.sh: -o is required" >&2; exit 2; }
ll="$out.ll"
trap 'rm -f "$ll"' EXIT
"$clang" --target=xtensa -ffreestanding "${args[@]}" -S -emit-llvm -o "$ll"
"$llc" -march=xtensa -mcpu="$cpu" -function-sections -data-sections --stack-size-section \
  -filetype=obj "$ll" -o "$out"
