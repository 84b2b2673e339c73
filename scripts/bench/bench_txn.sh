#!/usr/bin/env bash
# scripts/bench/bench_txn.sh - what a DOC.TXN transfer costs, against what people
# use today, measured in the same run on the same server.
#
#   1. Throughput, redis-benchmark -c 50: a 3-op transfer
#        DOC.TXN 2 a b CHECK 1 $.balance GE 1 INCR 1 $.balance -1 INCR 2 $.balance 1
#      vs the same transfer as a Lua script over two hashes (HGET + 2 HINCRBY, no
#      rollback), EVALSHA sha 2 ha hb 1. Best of BENCH_ROUNDS (default 2)
#      alternating runs of TXN_N requests (default 200000) each, without pipelining
#      (target: >= 0.8x) and with -P 16 (TXN_PIPELINES="1 16"), where the server's
#      own cost per command shows more than the network's.
#   2. Contention: 8 client processes (TXN_PROCS) moving money over one hot pair of
#      keys for TXN_SECONDS (default 5) each way: a WATCH/MULTI retry loop on two
#      hashes vs DOC.TXN (scripts/bench/txn_contention.py, /usr/bin/python3 with
#      python3-redis). Reports committed transfers/s and retries.
#
# Starts its own redis-server with build/atomicdoc.so on a free port and stops it
# on any exit. Progress goes to stderr; stdout gets a markdown table in the layout of
# scripts/bench/run.sh (| measurement | atomicdoc | peer | ratio | target | command |).
# With --rows, only the table's rows (for run.sh to collect).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PY=/usr/bin/python3                  # the one with python3-redis
MODULE=$ROOT/build/atomicdoc.so
OUT=build/bench
N=${TXN_N:-200000}
ROUNDS=${BENCH_ROUNDS:-2}
PIPELINES=${TXN_PIPELINES:-1 16}     # redis-benchmark -P values; the target is for -P 1
PROCS=${TXN_PROCS:-8}
SECONDS_EACH=${TXN_SECONDS:-5}
ROWS_ONLY=0
[ "${1:-}" = --rows ] && ROWS_ONLY=1

log() { printf 'bench_txn: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -f "$MODULE" ] || die "$MODULE missing: run make all"
command -v redis-benchmark >/dev/null || die "redis-benchmark not installed (redis-tools)"
"$PY" -c 'import redis' 2>/dev/null || die "$PY lacks the redis package (apt-get install python3-redis)"
mkdir -p "$OUT"

# ---- the server ----------------------------------------------------------------
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$ROOT/$OUT" --logfile "$ROOT/$OUT/server_txn.log" --loadmodule "$MODULE" >/dev/null 2>&1 &
PID=$!
for _ in $(seq 100); do
    redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
done
redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG || die "redis-server did not start (see $OUT/server_txn.log)"
cli() { redis-cli -p "$PORT" "$@"; }

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
fmt_int() { printf "%'.0f" "$1" 2>/dev/null || printf "%.0f" "$1"; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a) ? b : a }'; }

# ---- 1. redis-benchmark: DOC.TXN vs EVALSHA ----------------------------------------
LUA='local bal = tonumber(redis.call("HGET", KEYS[1], "balance"))
local amt = tonumber(ARGV[1])
if bal == nil or bal < amt then return redis.error_reply("ABORTED not enough money") end
return {redis.call("HINCRBY", KEYS[1], "balance", -amt), redis.call("HINCRBY", KEYS[2], "balance", amt)}'
START=1000000000000
cli DOC.SET a '$' "{\"balance\":$START}" >/dev/null
cli DOC.SET b '$' "{\"balance\":$START}" >/dev/null
cli HSET ha balance "$START" >/dev/null
cli HSET hb balance "$START" >/dev/null
SHA=$(cli SCRIPT LOAD "$LUA")

# rps P COMMAND...: one redis-benchmark run with pipeline P, prints requests/s
rps() {
    local p=$1
    shift
    redis-benchmark -h 127.0.0.1 -p "$PORT" -c 50 -P "$p" -n "$N" --csv "$@" 2>/dev/null |
        awk -F'"' 'NR == 2 { print $4 }'
}
TXN_CMD=(DOC.TXN 2 a b CHECK 1 '$.balance' GE 1 INCR 1 '$.balance' -1 INCR 2 '$.balance' 1)
LUA_CMD=(EVALSHA "$SHA" 2 ha hb 1)
runs=0
for P in $PIPELINES; do
    best_txn=0 best_lua=0
    for i in $(seq "$ROUNDS"); do
        log "redis-benchmark -P $P round $i/$ROUNDS: DOC.TXN, then EVALSHA (n=$N, c=50)"
        r=$(rps "$P" "${TXN_CMD[@]}"); [ -n "$r" ] || die "redis-benchmark DOC.TXN failed"
        best_txn=$(best "$best_txn" "$r")
        r=$(rps "$P" "${LUA_CMD[@]}"); [ -n "$r" ] || die "redis-benchmark EVALSHA failed"
        best_lua=$(best "$best_lua" "$r")
        runs=$((runs + 1))
    done
    r=$(ratio "$best_txn" "$best_lua")
    target=""
    [ "$P" = 1 ] && target=">= 0.8x: $(awk -v v="$r" 'BEGIN { print (v >= 0.8) ? "met" : "MISSED" }')"
    popt=""
    [ "$P" = 1 ] || popt=" -P $P"
    row "transfer (CHECK + 2 INCR), pipeline $P: requests/s, DOC.TXN vs Lua EVALSHA over 2 hashes (best of $ROUNDS)" \
        "$(fmt_int "$best_txn")" "$(fmt_int "$best_lua")" "${r}x" "$target" \
        "\`redis-benchmark -c 50$popt -n $N DOC.TXN 2 a b CHECK 1 \$.balance GE 1 INCR 1 \$.balance -1 INCR 2 \$.balance 1\` vs \`... EVALSHA <sha> 2 ha hb 1\`"
done
# every request was a committed transfer: the pairs still add up, and moved N per run
moved=$((START - $(cli DOC.GET a '$.balance')))
[ "$moved" -eq $((N * runs)) ] || die "DOC.TXN moved $moved, expected $((N * runs)) (aborts or errors)"
[ $(($(cli DOC.GET a '$.balance') + $(cli DOC.GET b '$.balance'))) -eq $((2 * START)) ] || die "DOC.TXN total changed"
[ "$(cli HGET ha balance)" -eq $((START - N * runs)) ] || die "the Lua script did not run every time"
[ "$(cli DOC.VERSION a)" -eq $((1 + N * runs)) ] || die "unexpected version of a"

# ---- 2. contention: WATCH/MULTI retry loop vs DOC.TXN ----------------------------------
contend() {
    log "contention: $PROCS processes, $2, ${SECONDS_EACH}s"
    "$PY" scripts/bench/txn_contention.py "$PORT" "$1" "$PROCS" "$SECONDS_EACH" >"$OUT/txn_contention_$1.json" ||
        die "txn_contention.py $1 failed"
}
field() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$OUT/txn_contention_$1.json" "$2"; }
contend watch "WATCH/MULTI on two hashes"
contend txn "DOC.TXN"
t_cps=$(field txn commits_per_s) w_cps=$(field watch commits_per_s)
w_retries=$(field watch retries) w_rpc=$(field watch retries_per_commit)
t_retries=$(field txn retries) t_aborts=$(field txn aborts)
row "hot pair, $PROCS processes x ${SECONDS_EACH}s: committed transfers/s, DOC.TXN vs WATCH/MULTI retry loop" \
    "$(fmt_int "$t_cps")" "$(fmt_int "$w_cps")" "$(ratio "$t_cps" "$w_cps")x" "" \
    "\`/usr/bin/python3 scripts/bench/txn_contention.py PORT txn (or watch) $PROCS $SECONDS_EACH\` (redis-py)"
row "hot pair, $PROCS processes x ${SECONDS_EACH}s: retries (per commit)" \
    "$t_retries ($t_aborts aborts)" "$(fmt_int "$w_retries") ($w_rpc)" "" "" \
    "the same runs; a retry is an EXEC that replied nil"

# ---- the table ---------------------------------------------------------------
if [ "$ROWS_ONLY" = 1 ]; then
    printf '%s\n' "${ROWS[@]}"
else
    {
        echo "### DOC.TXN benchmarks"
        echo
        echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(redis-server --version | grep -oE 'v=[0-9.]+'), $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg)."
        echo
        echo "| measurement | atomicdoc | peer | ratio | target | command |"
        echo "| --- | ---: | ---: | ---: | --- | --- |"
        printf '%s\n' "${ROWS[@]}"
    } | tee "$OUT/results-txn.md"
fi
