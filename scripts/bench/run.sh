#!/usr/bin/env bash
# scripts/bench/run.sh - what `make bench` runs.
#
# Every figure is a ratio against a peer measured in the same run on the same
# server (plain Redis strings holding the same JSON text, or bare YAJL), since
# absolute figures on a shared machine mean little. Progress goes to stderr;
# stdout gets one markdown table at the end, also written to
# build/bench/results.md.
#
# Each measurement is one function bench_NAME that adds rows with `row`.
# BENCH="memory read" bash scripts/bench/run.sh runs a subset (the documents
# are always generated first). To add a measurement: write bench_NAME below
# (see the stubs at the end of the measurements), add NAME to BENCH_DEFAULT.
#
# Servers this script starts are stopped by PID on any exit (trap).
# Needs: redis-server, redis-benchmark, /usr/bin/python3 with python3-redis,
# a built build/atomicdoc.so (the Makefile target builds it first).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=build/bench
PY=/usr/bin/python3                    # the one with python3-redis
MODULE=$ROOT/build/atomicdoc.so
BENCH_DEFAULT="docs memory read parse"
BENCH=${BENCH:-$BENCH_DEFAULT}
DOC_1K=$OUT/doc_1k.json
DOC_100K=$OUT/doc_100k.json

mkdir -p "$OUT"
START=$(date +%s)
LOAD0=$(cut -d' ' -f1 /proc/loadavg)   # other work on the machine skews rps

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------
# Servers: started with the module, no persistence, on a free port; every PID
# is remembered and stopped on exit, whatever happens.
# ---------------------------------------------------------------------------
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# server_start NAME: sets SERVER_PORT and SERVER_PID.
server_start() {
    local name=$1 i
    SERVER_PORT=$(free_port)
    redis-server --port "$SERVER_PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize no --dir "$ROOT/$OUT" --logfile "$ROOT/$OUT/server_$name.log" \
        --loadmodule "$MODULE" >/dev/null 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for i in $(seq 100); do
        redis-cli -p "$SERVER_PORT" ping 2>/dev/null | grep -q PONG && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    tail -5 "$OUT/server_$name.log" >&2 || true
    die "redis-server ($name) did not start on port $SERVER_PORT"
}

server_stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# Results: rows of the final table.
# ---------------------------------------------------------------------------
ROWS=()
# row MEASUREMENT ATOMICDOC PEER RATIO TARGET COMMAND
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }

# ratio A B -> A/B with two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
# verdict VALUE OP LIMIT -> "met" / "MISSED", OP is le or ge
verdict() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        ok = (op == "le") ? (v <= l) : (v >= l); print ok ? "met" : "MISSED" }'
}
fmt_int() { printf "%'.0f" "$1" 2>/dev/null || printf "%.0f" "$1"; }
json_get() { "$PY" -c 'import json, sys; d = json.load(sys.stdin)
for k in sys.argv[1].split("."): d = d[k]
print(d)' "$1"; }

# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------

# 1. The documents: ~1 KB and ~100 KB, deterministic (fixed seed).
bench_docs() {
    log "generating documents"
    local name bytes
    while read -r name bytes; do
        log "  $OUT/$name: $bytes bytes"
        row "document $name" "$bytes bytes" "" "" "" "\`python3 scripts/bench/gen_docs.py $OUT\`"
    done < <("$PY" scripts/bench/gen_docs.py "$OUT")
}

# 2. Memory per document: DOC.SET vs plain SET of the same text.
bench_memory() {
    server_start memory
    local port=$SERVER_PORT pid=$SERVER_PID spec label file count js
    for spec in "1 KB:$DOC_1K:10000" "100 KB:$DOC_100K:1000"; do
        IFS=: read -r label file count <<<"$spec"
        log "memory: $count x $label"
        js=$("$PY" scripts/bench/mem.py memory "$port" "$file" "$count")
        echo "$js" >"$OUT/memory_${label// /}.json"
        local json doc str mu_doc mu_str r1 r2
        json=$(json_get json <<<"$js")
        doc=$(json_get doc.per_doc <<<"$js")
        str=$(json_get str.per_doc <<<"$js")
        mu_doc=$(json_get doc.memory_usage <<<"$js")
        mu_str=$(json_get str.memory_usage <<<"$js")
        local cmd="\`mem.py memory PORT $file $count\` (used_memory delta / $count)"
        r1=$(ratio "$doc" "$str")
        row "memory $label: bytes/doc, DOC.SET vs SET" "$(fmt_int "$doc")" "$(fmt_int "$str")" \
            "${r1}x" "" "$cmd"
        r2=$(ratio "$doc" "$json")
        row "memory $label: bytes/doc vs JSON text" "$(fmt_int "$doc")" "$json (text)" \
            "${r2}x" "<= 1.5x: $(verdict "$r2" le 1.5)" "$cmd"
        row "memory $label: MEMORY USAGE one key" "$mu_doc" "$mu_str" "$(ratio "$mu_doc" "$mu_str")x" "" \
            "\`MEMORY USAGE doc:0\` vs \`MEMORY USAGE str:0\`"
    done
    server_stop "$pid"
}

# rps COMMAND... : one redis-benchmark run against $RB_PORT, prints requests/s.
rps() {
    redis-benchmark -h 127.0.0.1 -p "$RB_PORT" -c 50 -P 16 -n "$RB_N" --csv "$@" 2>/dev/null \
        | awk -F'"' 'NR == 2 { print $4 }'
}

# 3. Read throughput: DOC.GET doc vs GET str of the same JSON, twice each,
#    alternating (BENCH_ROUNDS, default 2); the best run of each counts.
bench_read() {
    server_start read
    local pid=$SERVER_PID
    RB_PORT=$SERVER_PORT
    "$PY" scripts/bench/mem.py load "$RB_PORT" "1k=$DOC_1K" "100k=$DOC_100K" >"$OUT/read_load.json"
    local spec label name best_doc best_str r i target
    for spec in "1 KB:1k:500000" "100 KB:100k:20000"; do
        IFS=: read -r label name RB_N <<<"$spec"
        best_doc=0 best_str=0
        for i in $(seq "${BENCH_ROUNDS:-2}"); do
            log "read $label: round $i (DOC.GET, GET; n=$RB_N)"
            r=$(rps DOC.GET "doc:$name"); [ -n "$r" ] || die "redis-benchmark DOC.GET failed"
            best_doc=$(awk -v a="$best_doc" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
            r=$(rps GET "str:$name"); [ -n "$r" ] || die "redis-benchmark GET failed"
            best_str=$(awk -v a="$best_str" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
        done
        r=$(ratio "$best_doc" "$best_str")
        target=""
        [ "$name" = 1k ] && target=">= 0.6x: $(verdict "$r" ge 0.6)"
        row "read $label: requests/s, DOC.GET vs GET (best of ${BENCH_ROUNDS:-2})" "$(fmt_int "$best_doc")" \
            "$(fmt_int "$best_str")" "${r}x" "$target" \
            "\`redis-benchmark -c 50 -P 16 -n $RB_N --csv DOC.GET doc:$name\` vs \`... GET str:$name\`"
    done
    server_stop "$pid"
}

# 4. Parse speed: doc_parse vs bare YAJL with empty callbacks, on the 100 KB
#    document, by scripts/bench/parse_bench.c when it exists.
bench_parse() {
    local src=scripts/bench/parse_bench.c bin=$OUT/parse_bench out yajl doc
    if [ ! -f "$src" ]; then
        log "parse: $src not there yet, skipped"
        row "parse 100 KB: MB/s, doc_parse vs YAJL" "skipped" "" "" "" "$src missing"
        return 0
    fi
    log "parse: building and running $bin"
    cc -O2 -std=c11 -D_GNU_SOURCE -Imodule/doc "$src" build/libdoc.a -lyajl -lm -o "$bin" \
        || die "building $src failed"
    out=$("$bin" "$DOC_100K") || die "$bin failed"
    echo "$out" >"$OUT/parse.txt"
    # "... yajl 123.4 MB/s, doc_parse 56.7 MB/s, ..." (the figure after each name).
    doc=$(grep -oiE 'doc_parse[^0-9,]*[0-9]+(\.[0-9]+)? *MB/s' <<<"$out" | head -1 | grep -oE '[0-9]+(\.[0-9]+)?' | head -1 || true)
    yajl=$(grep -oiE 'yajl[^0-9,]*[0-9]+(\.[0-9]+)? *MB/s' <<<"$out" | head -1 | grep -oE '[0-9]+(\.[0-9]+)?' | head -1 || true)
    if [ -z "$doc" ] || [ -z "$yajl" ]; then
        row "parse 100 KB: doc_parse vs YAJL" "see $OUT/parse.txt" "" "" "" "\`$bin $DOC_100K\` (output not understood)"
        return 0
    fi
    row "parse 100 KB: MB/s, doc_parse vs YAJL (empty callbacks)" "$doc" "$yajl" "$(ratio "$doc" "$yajl")x" "" \
        "\`$bin $DOC_100K\`"
}

# 5. INCR vs HINCRBY - to be written (owner: whoever adds DOC.INCRBY).
#    Shape: server_start incr; load a document and a hash; redis-benchmark
#    both commands as in bench_read; row ...; server_stop "$SERVER_PID".
# bench_incr() { ...; }

# 6. DOC.TXN vs an equivalent Lua script - to be written (owner: DOC.TXN).
# bench_txn() { ...; }

# Optional, not in the default list: BENCH="docs perf" samples the server with
# perf during a DOC.GET 1 KB run and keeps the top symbols in build/bench/.
bench_perf() {
    command -v perf >/dev/null || { log "perf: not installed, skipped"; return 0; }
    server_start perf
    local pid=$SERVER_PID perfpid
    RB_PORT=$SERVER_PORT RB_N=300000
    "$PY" scripts/bench/mem.py load "$RB_PORT" "1k=$DOC_1K" >/dev/null
    rm -f "$OUT/perf.data" "$OUT/perf.data.old"
    perf record -F 499 --call-graph dwarf,16384 -o "$OUT/perf.data" -p "$pid" >/dev/null 2>&1 &
    perfpid=$!
    PIDS+=("$perfpid")
    sleep 0.5
    rps DOC.GET doc:1k >/dev/null
    kill -INT "$perfpid"; wait "$perfpid" 2>/dev/null || true
    # Inclusive (children) and self percentages of the server's samples.
    perf report -i "$OUT/perf.data" --stdio --children -g none --percent-limit 2 \
        --sort symbol 2>/dev/null | grep -v '^$' >"$OUT/perf_docget.txt" || true
    row "perf: DOC.GET 1 KB top symbols" "see $OUT/perf_docget.txt" "" "" "" \
        "\`perf record --call-graph dwarf -p PID\` during \`redis-benchmark ... DOC.GET doc:1k\`"
    server_stop "$pid"
}

# ---------------------------------------------------------------------------
[ -f "$MODULE" ] || die "$MODULE missing: run make all"
command -v redis-server >/dev/null || die "redis-server not installed"
"$PY" -c 'import redis' 2>/dev/null || die "$PY lacks the redis package (apt-get install python3-redis)"

bench_docs
for b in $BENCH; do
    [ "$b" = docs ] && continue
    declare -F "bench_$b" >/dev/null || die "no measurement named $b"
    "bench_$b"
done

ELAPSED=$(( $(date +%s) - START ))
# A subset run (BENCH=...) does not overwrite the full table.
RESULTS=results.md
REV=$(git rev-parse --short HEAD 2>/dev/null) || REV="?"
[ "$REV" = "?" ] || git diff --quiet HEAD 2>/dev/null || REV+="+changes"
[ "$BENCH" = "$BENCH_DEFAULT" ] || RESULTS=results-partial.md
{
    echo "### atomicdoc benchmarks"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), git $REV, $(redis-server --version | grep -oE 'v=[0-9.]+|malloc=[^ ]+' | tr '\n' ' ')$(nproc) CPUs, load average at start $LOAD0, ${ELAPSED}s. Peers measured in the same run on the same server."
    echo
    echo "| measurement | atomicdoc | peer | ratio | target | command |"
    echo "| --- | ---: | ---: | ---: | --- | --- |"
    printf '%s\n' "${ROWS[@]}"
} >"$OUT/$RESULTS"
cat "$OUT/$RESULTS"
