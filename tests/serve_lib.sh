# Sourced by the CLI tests: start `txlab serve SCENARIO` in the background and read the URL of
# one role from its output. Sets $url; stops the server on exit.
start_serve() {
  local txlab=$1 scenario=$2 role=$3
  serve_log=$(mktemp)
  "$txlab" serve "$scenario" >"$serve_log" 2>&1 &
  serve_pid=$!
  trap 'kill -INT $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null; rm -f "$serve_log"' EXIT
  for _ in $(seq 1 100); do grep -q "^  $role" "$serve_log" && break; sleep 0.05; done
  url=$(awk -v r="$role" '$1 == r { print $3 }' "$serve_log")
  [ -n "$url" ] || { echo "serve did not print the URL of $role"; cat "$serve_log"; exit 1; }
}
