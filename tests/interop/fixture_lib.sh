# Shared by the vendor fixtures (keycloak.sh, spring_as.sh): source it, with `say` defined.

# stop_pid STATE_DIR: stops the process named in STATE_DIR/pid (TERM, then KILL after 10 s).
stop_pid() {
  [ -s "$1/pid" ] || return 0
  local pid; pid=$(cat "$1/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1/pid"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_ready STATE_DIR URL LIMIT_S LOG: until URL answers 2xx; fails with the log's tail when the
# process exits or LIMIT_S pass, saying every 15 s what it waits for.
wait_ready() {
  local state=$1 url=$2 limit=$3 log=$4 t0 waited
  t0=$(date +%s)
  until curl -sf -o /dev/null "$url"; do
    kill -0 "$(cat "$state/pid")" 2>/dev/null || { say "FAIL: it exited while starting; log tail:"; tail -40 "$log"; return 1; }
    waited=$(( $(date +%s) - t0 ))
    if [ "$waited" -ge "$limit" ]; then say "FAIL: no answer within $limit s; log tail:"; tail -40 "$log"; stop_pid "$state"; return 1; fi
    [ $((waited % 15)) -ne 0 ] || say "waiting for $url (${waited} s)"
    sleep 1
  done
  say "ready after $(( $(date +%s) - t0 )) s"
}
