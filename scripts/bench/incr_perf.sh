#!/usr/bin/env bash
# scripts/bench/incr_perf.sh - where DOC.INCR spends its time (bench_incr's
# follow-up when a target is missed; not part of `make bench`).
#
#   bash scripts/bench/incr_perf.sh [perf]     sampled, PERF_N requests per command (1000000)
#   bash scripts/bench/incr_perf.sh callgrind  counted, CG_N requests per command (20000)
#
# Starts its own redis-server with the module (a private copy, so a rebuild
# meanwhile cannot take the symbols away) on a free port, stopped by PID on
# exit; loads the 1 KB and 100 KB documents plus $.hits = 0 and a hash h.
# Then, for HINCRBY and each DOC.INCR of bench_incr:
#   perf:      redis-benchmark -c 50 -P 16 under `perf record --call-graph
#              dwarf -p <server pid>`; top symbols (self, by library,
#              inclusive) and that run's usec_per_call in
#              build/bench/perf_incr_NAME.txt.
#   callgrind: the server runs under valgrind --tool=callgrind; the counters
#              are zeroed before and dumped after redis-benchmark -c 1 -P 16;
#              instructions per request (whole server, user space, and
#              inclusive in the main functions) in build/bench/callgrind_incr.txt.
#              Instruction counts do not depend on the machine's load, so
#              this is the figure to compare when the machine is noisy
#              (cache misses are not in it).
#
# Needs redis-server, redis-benchmark, /usr/bin/python3 with python3-redis,
# perf or valgrind, and the documents (made here when missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=build/bench
PY=/usr/bin/python3
MODE=${1:-perf}
case $MODE in
perf) N=${PERF_N:-1000000}; command -v perf >/dev/null || { echo "incr_perf: perf not installed" >&2; exit 1; } ;;
callgrind) N=${CG_N:-20000}; command -v valgrind >/dev/null || { echo "incr_perf: valgrind not installed" >&2; exit 1; } ;;
*) echo "usage: incr_perf.sh [perf|callgrind]" >&2; exit 2 ;;
esac
[ -f "$OUT/doc_100k.json" ] || "$PY" scripts/bench/gen_docs.py "$OUT" >/dev/null

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp build/atomicdoc.so "$OUT/incr_perf_atomicdoc.so"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
SERVER_CMD=(redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no
    --dir "$ROOT/$OUT" --logfile "$ROOT/$OUT/server_incr_perf.log"
    --loadmodule "$ROOT/$OUT/incr_perf_atomicdoc.so")
if [ "$MODE" = callgrind ]; then
    rm -f "$OUT"/callgrind_incr.out.*
    valgrind --tool=callgrind --callgrind-out-file="$ROOT/$OUT/callgrind_incr.out.%p" \
        "${SERVER_CMD[@]}" >"$OUT/valgrind_incr.log" 2>&1 &
else
    "${SERVER_CMD[@]}" >/dev/null 2>&1 &
fi
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 300); do redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
"$PY" scripts/bench/mem.py load "$PORT" "1k=$OUT/doc_1k.json" "100k=$OUT/doc_100k.json" >/dev/null
redis-cli -p "$PORT" DOC.SET doc:1k '$.hits' 0 >/dev/null
redis-cli -p "$PORT" DOC.SET doc:100k '$.hits' 0 >/dev/null
redis-cli -p "$PORT" HSET h f 0 >/dev/null

# profile NAME COMMAND...  (perf)
profile() {
    local name=$1 perfpid stat
    shift
    rm -f "$OUT/perf_incr_$name.data"
    redis-cli -p "$PORT" CONFIG RESETSTAT >/dev/null
    perf record -F 499 --call-graph dwarf,16384 -o "$OUT/perf_incr_$name.data" -p "$SERVER" >/dev/null 2>&1 &
    perfpid=$!
    PIDS+=("$perfpid")
    sleep 0.5
    redis-benchmark -h 127.0.0.1 -p "$PORT" -c 50 -P 16 -n "$N" -q "$@" 2>/dev/null | tr '\r' '\n' | tail -1
    kill -INT "$perfpid"
    wait "$perfpid" 2>/dev/null || true
    stat=$(redis-cli -p "$PORT" INFO commandstats | tr -d '\r' | grep -iF "cmdstat_$(tr '[:upper:]' '[:lower:]' <<<"$1"):")
    {
        echo "# $* (redis-benchmark -c 50 -P 16 -n $N), load $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "# $stat"
        echo "## self"
        perf report -i "$OUT/perf_incr_$name.data" --stdio --no-children --sort symbol -g none \
            --percent-limit 0.7 2>/dev/null | grep -v '^#' | grep -v '^$'
        echo "## by library (self)"
        perf report -i "$OUT/perf_incr_$name.data" --stdio --no-children --sort dso -g none \
            2>/dev/null | grep -v '^#' | grep -v '^$'
        echo "## inclusive (children)"
        perf report -i "$OUT/perf_incr_$name.data" --stdio --children --sort symbol -g none \
            --percent-limit 3 2>/dev/null | grep -v '^#' | grep -v '^$'
    } >"$OUT/perf_incr_$name.txt"
    echo "incr_perf: $name -> $OUT/perf_incr_$name.txt ($stat)" >&2
}

# cg_control ARGS...: callgrind_control acts only when the server runs code,
# so the idle server is pinged meanwhile.
cg_control() {
    local waker
    (while :; do redis-cli -p "$PORT" ping >/dev/null 2>&1; sleep 0.1; done) &
    waker=$!
    callgrind_control "$@" "$SERVER" >/dev/null
    kill "$waker"
    wait "$waker" 2>/dev/null || true
}

# count NAME COMMAND...  (callgrind; NAME must not start with a digit)
CG_FUNCS="call hincrbyCommand exec_single parse_incr op_reset exec_ops run_arith doc_resolve_write
doc_edit_set_encoded doc_path_compile op_add_value malloc_usable_size hook_alloc hook_realloc hook_free
RM_OpenKey processMultibulkBuffer"
count() {
    local name=$1 f fn
    shift
    redis-benchmark -h 127.0.0.1 -p "$PORT" -c 1 -P 16 -n 2000 -q "$@" >/dev/null 2>&1   # warm up
    cg_control -z
    redis-benchmark -h 127.0.0.1 -p "$PORT" -c 1 -P 16 -n "$N" -q "$@" >/dev/null 2>&1
    cg_control -d "$name"
    f=$(grep -l "^desc: Trigger: dump $name\$" "$OUT"/callgrind_incr.out.* | head -1)
    {
        printf '%s (redis-benchmark -c 1 -P 16 -n %s): instructions per request\n' "$*" "$N"
        printf '  %-24s %8d\n' "whole server" "$(( $(sed -n 's/^summary: //p' "$f") / N ))"
        for fn in $CG_FUNCS; do
            callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null |
                awk -v fn="$fn" -v n="$N" '!done && index($0, ":" fn " [") { c = $1; gsub(",", "", c);
                    printf "  %-24s %8d\n", fn, c / n; done = 1 }'
        done
    } >>"$OUT/callgrind_incr.txt"
    echo "incr_perf: $name counted" >&2
}

if [ "$MODE" = perf ]; then
    profile hincrby HINCRBY h f 1
    profile doc1k_field DOC.INCR doc:1k '$.orders[5].qty' 1
    profile doc100k_field DOC.INCR doc:100k '$.orders[637].qty' 1
    profile doc100k_top DOC.INCR doc:100k '$.hits' 1
else
    : >"$OUT/callgrind_incr.txt"
    count hincrby HINCRBY h f 1
    count doc1k_field DOC.INCR doc:1k '$.orders[5].qty' 1
    count doc100k_field DOC.INCR doc:100k '$.orders[637].qty' 1
    count doc1k_top DOC.INCR doc:1k '$.hits' 1
    count doc100k_top DOC.INCR doc:100k '$.hits' 1
    cat "$OUT/callgrind_incr.txt"
fi
