#!/usr/bin/env bash
# scripts/examples.sh SERVER_BINARY MODULE - runs every scripts/examples/*.sh against
# one fresh server (SERVER_BINARY with MODULE loaded, a free 127.0.0.1 port, its own
# directory under $ATOMICDOC_TMP or /tmp), then stops that server by its pid, also
# when an example fails. Each example checks its own outcome and exits non-zero
# when it does not hold. Exit status: 0 when every example passed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bin=$1 module=$2

dir=$(mktemp -d "${ATOMICDOC_TMP:-/tmp}/atomicdoc-examples.XXXXXX") || exit 1
pid=""
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$dir"
}
trap stop EXIT

# A free port: bind port 0 and read what the kernel gave (a small race with other
# processes, as in the integration harness).
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

(cd "$dir" && exec "$bin" --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' \
   --appendonly no --logfile "$dir/server.log" --loadmodule "$module") &
pid=$!
up=""
for _ in $(seq 100); do   # 10 s
  if [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; then up=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$up" ]; then
  echo "examples: $bin did not answer PING on port $port within 10 s"
  tail -n 20 "$dir/server.log" 2>/dev/null
  exit 1
fi
echo "examples: $("$bin" --version | cut -d' ' -f1-3) on port $port"

failed=0
for ex in scripts/examples/*.sh; do
  if out=$(REDIS_PORT=$port bash "$ex" 2>&1); then
    echo "ok      $ex"
  else
    echo "FAILED  $ex"
    printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /'
    failed=$((failed + 1))
  fi
done
[ "$failed" = 0 ] || { echo "examples: $failed failed"; exit 1; }
echo "examples: all passed"
