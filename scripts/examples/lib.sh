# scripts/examples/lib.sh - sourced by each example: the redis-cli wrapper and a way
# to let many clients loose at the same moment.
#
#   cli ARGS...          redis-cli at REDIS_HOST (127.0.0.1) : REDIS_PORT (6379)
#   together N FUNC      runs `FUNC i` for i = 1..N in N background processes, all
#                        released at once (each polls for a start file until the last
#                        one is forked); their stdout goes to $OUT/i. Fails if any did.
#   CLIENTS              how many concurrent clients the examples use (default 20)
# $OUT is a scratch directory removed on exit.

cli() { redis-cli -h "${REDIS_HOST:-127.0.0.1}" -p "${REDIS_PORT:-6379}" "$@"; }
CLIENTS=${CLIENTS:-20}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

together() {
  local n=$1 fn=$2 i pid failed=0 pids=()
  rm -f "$OUT/go" "$OUT"/[0-9]*
  for i in $(seq "$n"); do
    ( until [ -e "$OUT/go" ]; do sleep 0.01; done; "$fn" "$i" >"$OUT/$i" ) &
    pids+=($!)
  done
  touch "$OUT/go"
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return "$failed"
}

# sum_out: the sum of the numbers the clients of the last `together` printed.
sum_out() { cat "$OUT"/[0-9]* | awk '{ s += $1 } END { print s + 0 }'; }
