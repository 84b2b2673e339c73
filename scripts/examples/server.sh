# scripts/examples/server.sh - sourced, not run: start and stop one redis-server with
# atomicdoc for the example runners (scripts/examples/run_all.sh, examples/c/run.sh).
#
#   server_start    starts redis-server on a free 127.0.0.1 port in a fresh directory
#                   (under $ATOMICDOC_TMP when set, else /tmp), sets SERVER_PORT,
#                   SERVER_PID and SERVER_DIR, returns once PING answers (or fails
#                   after 15 s, printing the log). Retries another port on a clash.
#   server_stop     SIGTERM by PID, SIGKILL after 5 s, removes the directory.
#                   Safe to call twice; runners call it from an EXIT trap.
# The module is $ATOMICDOC_MODULE, default build/atomicdoc.so of this checkout.

SERVER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SERVER_PORT='' SERVER_PID='' SERVER_DIR=''

server_start() {
  local module=${ATOMICDOC_MODULE:-$SERVER_ROOT/build/atomicdoc.so} attempt port i
  [ -f "$module" ] || { echo "server.sh: no module at $module (run make)" >&2; return 1; }
  for attempt in 1 2 3 4 5; do
    # below the kernel's ephemeral range, so no client's outgoing port is in the way
    port=$((20000 + RANDOM % 12000))
    SERVER_DIR=$(mktemp -d "${ATOMICDOC_TMP:-/tmp}/examples.XXXXXX") || return 1
    "${ATOMICDOC_SERVER:-redis-server}" --port "$port" --bind 127.0.0.1 --dir "$SERVER_DIR" --save '' --appendonly no \
      --logfile "$SERVER_DIR/redis.log" --loadmodule "$module" </dev/null >/dev/null 2>&1 &
    SERVER_PID=$!
    for i in $(seq 300); do   # 15 s
      if [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; then SERVER_PORT=$port; return 0; fi
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.05
    done
    if grep -q 'Address already in use' "$SERVER_DIR/redis.log" 2>/dev/null; then
      server_stop
      continue
    fi
    echo "server.sh: redis-server did not start on port $port:" >&2
    tail -n 20 "$SERVER_DIR/redis.log" >&2 2>/dev/null
    server_stop
    return 1
  done
  echo "server.sh: no free port after 5 attempts" >&2
  return 1
}

server_stop() {
  local i
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for i in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  [ -n "$SERVER_DIR" ] && rm -rf "$SERVER_DIR"
  SERVER_PID='' SERVER_DIR='' SERVER_PORT=''
}
