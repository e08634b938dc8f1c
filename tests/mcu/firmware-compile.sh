#!/usr/bin/env bash
# Builds examples/firmware/echo_main.c on this host against the host library
# (csrc/, -Wall -Wextra -Werror) and runs it: one client echoes a line and
# disconnects. ESP-IDF is not installed here, so the firmware build itself
# (csrc/idf component, -DARIO_LWIP) is not checked. Prints
#   PASS|FAIL firmware/host-compile   and   PASS|FAIL firmware/host-echo
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc=${CC:-gcc}
deno=${DENO:-$root/node_modules/.bin/deno}
facts=$("$deno" run --quiet -A "$root/scripts/csrc.ts" sh host) || exit 2
eval "$facts" # csrc_sources, csrc_cflags, ... (scripts/csrc.ts)
fail=0
if $cc "${csrc_lang[@]}" -O1 "${csrc_warnings[@]}" "${csrc_includes[@]}" \
    "${csrc_sources[@]}" "$root/examples/firmware/echo_main.c" \
    -o "$out/echo" -lpthread 2>"$out/log"; then
  echo "PASS firmware/host-compile"
else
  echo "FAIL firmware/host-compile"; sed 's/^/    /' "$out/log" | head -20 >&2; exit 1
fi
port=$((20000 + RANDOM % 20000))
timeout 10 "$out/echo" "$port" 1 2>"$out/server.log" &
pid=$!
reply=""
for _ in $(seq 50); do
  if exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
    printf 'hello ario\n' >&3
    IFS= read -r -t 5 reply <&3
    exec 3>&-
    break
  fi
  sleep 0.1
done
wait "$pid"; rc=$?
if [ "$reply" = "hello ario" ] && [ $rc -eq 0 ]; then
  echo "PASS firmware/host-echo"
else
  echo "FAIL firmware/host-echo (reply '$reply', server exit $rc)"; sed 's/^/    /' "$out/server.log" >&2; fail=1
fi
exit $fail
