#!/usr/bin/env bash
# scripts/bench/get_perf.sh - instructions inside Redis's call() of a
# whole-document DOC.GET (read cache on: served from the cached text; and
# off: printed) against GET of the same JSON stored as a string, for the
# 10 KB and 100 KB bench documents (issue 14: cached DOC.GET within 1.2x of
# GET). Not part of `make bench` (valgrind makes the server ~50x slower).
#
#   bash scripts/bench/get_perf.sh [MODULE.so]    CG_N requests per command (2000)
#
# Starts redis-server with the module under valgrind --tool=callgrind on a
# free port (stopped by PID on exit), loads doc:10k / doc:100k with DOC.SET
# and str:10k / str:100k with SET, reads each document once (which caches its
# text), zeroes the counters, runs redis-benchmark -c 1 -P 16 -n CG_N of one
# command, dumps, and prints call()'s inclusive count per request. Results
# in build/bench/callgrind_get.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=build/bench
PY=/usr/bin/python3
N=${CG_N:-2000}
SO=${1:-build/atomicdoc.so}
command -v valgrind >/dev/null || { echo "get_perf: valgrind not installed" >&2; exit 1; }
[ -f "$OUT/doc_100k.json" ] || "$PY" scripts/bench/gen_docs.py "$OUT" >/dev/null
[ -f "$OUT/doc_10k.json" ] || "$PY" scripts/bench/incr_pull.py gen "$OUT/doc_10k.json" >/dev/null

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

cp "$SO" "$OUT/get_perf_atomicdoc.so"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
rm -f "$OUT"/callgrind_get.out.*
valgrind --tool=callgrind --callgrind-out-file="$ROOT/$OUT/callgrind_get.out.%p" \
    redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$ROOT/$OUT" --logfile "$ROOT/$OUT/server_get_perf.log" \
    --loadmodule "$ROOT/$OUT/get_perf_atomicdoc.so" >"$OUT/valgrind_get.log" 2>&1 &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 600); do redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
for s in 10k 100k; do
    "$PY" - "$PORT" "$s" "$OUT/doc_$s.json" <<'PYEOF'
import sys, redis
r = redis.Redis(port=int(sys.argv[1]))
text = open(sys.argv[3], "rb").read()
r.execute_command("DOC.SET", "doc:" + sys.argv[2], "$", text)
r.set("str:" + sys.argv[2], text)
assert r.execute_command("DOC.GET", "doc:" + sys.argv[2]) == text
assert r.get("str:" + sys.argv[2]) == text
PYEOF
done

cg_control() {
    local waker
    (while :; do redis-cli -p "$PORT" ping >/dev/null 2>&1; sleep 0.1; done) &
    waker=$!
    callgrind_control "$@" "$SERVER" >/dev/null
    kill "$waker"
    wait "$waker" 2>/dev/null || true
}

# count NAME COMMAND...: call()'s inclusive instructions per request
count() {
    local name=$1 f c
    shift
    redis-benchmark -h 127.0.0.1 -p "$PORT" -c 1 -P 16 -n 200 -q "$@" >/dev/null 2>&1   # warm up
    cg_control -z
    redis-benchmark -h 127.0.0.1 -p "$PORT" -c 1 -P 16 -n "$N" -q "$@" >/dev/null 2>&1
    cg_control -d "$name"
    f=$(grep -l "^desc: Trigger: dump $name\$" "$OUT"/callgrind_get.out.* | head -1)
    c=$(callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null |
        awk -v n="$N" '!done && index($0, ":call [") { c = $1; gsub(",", "", c); printf "%d", c / n; done = 1 }')
    printf '%-28s %10s\n' "$*" "$c" | tee -a "$OUT/callgrind_get.txt"
}

{ echo "# $SO, call() inclusive instructions per request (redis-benchmark -c 1 -P 16 -n $N)"; } >"$OUT/callgrind_get.txt"
count get10k GET str:10k
count docget10k DOC.GET doc:10k
count get100k GET str:100k
count docget100k DOC.GET doc:100k
# Cache off: a budget of 0 keeps no new text, and a change drops the old.
redis-cli -p "$PORT" CONFIG SET atomicdoc.read-cache-max-memory 0 >/dev/null
redis-cli -p "$PORT" DOC.SET doc:10k '$.cache_off' true >/dev/null
redis-cli -p "$PORT" DOC.SET doc:100k '$.cache_off' true >/dev/null
count docget10k_nocache DOC.GET doc:10k
count docget100k_nocache DOC.GET doc:100k
[ "$(redis-cli -p "$PORT" INFO atomicdoc | tr -d '\r' | sed -n 's/^atomicdoc_read_cache_bytes://p')" = 0 ] ||
    echo "get_perf: the cache-off rows read cached text" >&2
