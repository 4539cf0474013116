#!/usr/bin/env bash
# stop.sh - stops exactly the processes start.sh recorded (a pid is signalled only while its
# cmdline still matches), SIGTERM then SIGKILL of its own process group after 10 s.
# STOWAGE_SAIO_PURGE=1 also removes the data folder.
set -uo pipefail
D=${STOWAGE_SAIO_DIR:-/tmp/stowage-swift}
RUN=$D/run
ours() {
  local cmd
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [ -n "$cmd" ] && [[ "$cmd" == *"$2"* ]]
}
declare -A PIDS=() MATCH=()
shopt -s nullglob
for f in "$RUN"/*.pid; do
  name=$(basename "$f" .pid)
  pid=$(cat "$f" 2>/dev/null || true)
  match=$(cat "$RUN/$name.match" 2>/dev/null || true)
  if [ -n "$match" ] && ours "$pid" "$match"; then
    PIDS[$name]=$pid MATCH[$name]=$match
    kill -TERM "$pid" 2>/dev/null || true
  fi
  rm -f "$f" "$RUN/$name.match"
done
end=$(( $(date +%s) + 10 ))
while [ ${#PIDS[@]} -gt 0 ]; do
  for n in "${!PIDS[@]}"; do ours "${PIDS[$n]}" "${MATCH[$n]}" || unset "PIDS[$n]"; done
  [ ${#PIDS[@]} -eq 0 ] && break
  if [ "$(date +%s)" -ge "$end" ]; then
    for n in "${!PIDS[@]}"; do kill -KILL -- "-${PIDS[$n]}" 2>/dev/null || kill -KILL "${PIDS[$n]}" 2>/dev/null || true; done
    break
  fi
  sleep 0.1
done
rm -f "$D/env.json"
[ "${STOWAGE_SAIO_PURGE:-0}" = 1 ] && rm -rf "$D"
exit 0
