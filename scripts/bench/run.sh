#!/usr/bin/env bash
# scripts/bench/run.sh - what `make bench` runs.
#
# Every figure is a ratio against a peer measured in the same run on the same
# server (plain Redis strings holding the same JSON text), or an instruction
# count (callgrind) where a peer is not needed, since
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
BENCH_DEFAULT="docs memory layout peermem read parse incr pull txn calls"
BENCH=${BENCH:-$BENCH_DEFAULT}
DOC_1K=$OUT/doc_1k.json
DOC_100K=$OUT/doc_100k.json
DOC_10K=$OUT/doc_10k.json            # scripts/bench/incr_pull.py gen

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

# server_start NAME: sets SERVER_PORT and SERVER_PID. SERVER_BIN (default
# redis-server) and SERVER_MODULES (loaded first) for the valkey-json peer.
server_start() {
    local name=$1 i
    SERVER_PORT=$(free_port)
    local mods=() m
    # SERVER_MODULES (peers, e.g. valkey-json) load before atomicdoc, which then
    # loads without its JSON.* layer (json-commands no): the names are the peer's.
    for m in ${SERVER_MODULES:-}; do mods+=(--loadmodule "$m"); done
    "${SERVER_BIN:-redis-server}" --port "$SERVER_PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize no --dir "$ROOT/$OUT" --logfile "$ROOT/$OUT/server_$name.log" \
        "${mods[@]}" --loadmodule "$MODULE" ${SERVER_MODULES:+json-commands no} >/dev/null 2>&1 &
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
            "${r2}x" "<= 1.0x (issue 14): $(verdict "$r2" le 1.0)" "$cmd"
        row "memory $label: MEMORY USAGE one key" "$mu_doc" "$mu_str" "$(ratio "$mu_doc" "$mu_str")x" "" \
            "\`MEMORY USAGE doc:0\` vs \`MEMORY USAGE str:0\`"
    done
    server_stop "$pid"
}

# 2b. Where a document's memory goes: scripts/bench/mem_layout.c parses each
#     bench document as DOC.SET does and measures every node on Debian's
#     jemalloc (packed bytes, node headers, index blocks, the allocator's
#     rounding, child pointers), in bytes and as a fraction of the text. The
#     parts add up to doc_node_memory (what MEMORY USAGE counts for the tree);
#     used_memory per document (bench_memory) adds Redis's key overhead.
bench_layout() {
    local src=scripts/bench/mem_layout.c bin=$OUT/mem_layout preload="" jemalloc spec label file js
    cc -O2 -std=c11 -D_GNU_SOURCE -Imodule/doc "$src" "$(core_lib)" -lm -o "$bin" \
        || die "building $src failed"
    jemalloc=$(jemalloc_path)
    [ -f "$jemalloc" ] && preload=$jemalloc
    [ -f "$DOC_10K" ] || "$PY" scripts/bench/incr_pull.py gen "$DOC_10K" >/dev/null
    : >"$OUT/layout.txt"
    for spec in "1 KB:$DOC_1K" "10 KB:$DOC_10K" "100 KB:$DOC_100K"; do
        IFS=: read -r label file <<<"$spec"
        js=$(LD_PRELOAD=$preload "$bin" "$file") || die "$bin $file failed (parts do not add up?)"
        echo "$label: $js" >>"$OUT/layout.txt"
        row "memory layout $label: tree bytes (doc_node_memory) = packed entries + node headers, index, allocator rounding, child pointers" \
            "$("$PY" -c 'import json, sys
d = json.loads(sys.argv[1]); t = d["text"]
f = lambda n: "%s (%.2fx)" % (format(n, ","), n / t)
print("%s = packed %s (of which child pointers %s) + headers %s + index %s + rounding %s" % (
    f(d["memory"]), f(d["packed"]), f(d["pointers"]), f(d["headers"]), f(d["index"]), f(d["rounding"])))' "$js")" \
            "$(fmt_int "$(json_get text <<<"$js")") (text)" "" "" \
            "\`LD_PRELOAD=$preload $bin $file\` ($(json_get nodes <<<"$js") nodes)"
    done
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
    local spec label name best_doc best_str r i target cache what
    # With the read cache (the default: repeated whole-document reads) and
    # without it (every DOC.GET prints the tree), each against GET.
    for cache in on off; do
        if [ "$cache" = off ]; then
            redis-cli -p "$RB_PORT" CONFIG SET atomicdoc.read-cache-max-memory 0 >/dev/null
            what="read cache off"
        else
            what="read cache on (default)"
        fi
        for spec in "1 KB:1k:500000" "100 KB:100k:20000"; do
            IFS=: read -r label name RB_N <<<"$spec"
            # A write drops any kept text, so the cache-off rows really print.
            redis-cli -p "$RB_PORT" DOC.INCR "doc:$name" '$.bench_reads' 1 >/dev/null
            best_doc=0 best_str=0
            for i in $(seq "${BENCH_ROUNDS:-2}"); do
                log "read $label, $what: round $i (DOC.GET, GET; n=$RB_N)"
                r=$(rps DOC.GET "doc:$name"); [ -n "$r" ] || die "redis-benchmark DOC.GET failed"
                best_doc=$(awk -v a="$best_doc" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
                r=$(rps GET "str:$name"); [ -n "$r" ] || die "redis-benchmark GET failed"
                best_str=$(awk -v a="$best_str" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
            done
            r=$(ratio "$best_doc" "$best_str")
            target=""
            [ "$name" = 1k ] && [ "$cache" = on ] && target=">= 0.6x: $(verdict "$r" ge 0.6)"
            row "read $label, $what: requests/s, DOC.GET vs GET (best of ${BENCH_ROUNDS:-2})" "$(fmt_int "$best_doc")" \
                "$(fmt_int "$best_str")" "${r}x" "$target" \
                "\`redis-benchmark -c 50 -P 16 -n $RB_N --csv DOC.GET doc:$name\` vs \`... GET str:$name\`"
        done
    done
    server_stop "$pid"
}

# core_lib: the core (module/doc) compiled as a plain -O2 library for the
# tools that call it directly (parse_bench, mem_layout), into its own build
# directory. build/libdoc.a holds link-time-optimization objects (Makefile
# LTO), whose plain code GCC compiles differently (doc_parse measured 12.3
# instructions per byte from it against 11.8 from a plain build); prints the
# library's path.
core_lib() {
    make --no-print-directory -s BUILD=$OUT/core LTO= "$OUT/core/libdoc.a" >&2 \
        || die "building the core library failed"
    echo "$OUT/core/libdoc.a"
}

# jemalloc_path: Debian's libjemalloc.so.2 (the allocator redis-server links),
# wherever this machine's architecture keeps it (the dynamic linker's cache,
# then the multiarch directory the compiler reports).
jemalloc_path() {
    local j
    j=$(ldconfig -p 2>/dev/null | awk '$1 == "libjemalloc.so.2" { print $NF; exit }')
    [ -n "$j" ] || j=/usr/lib/$(cc -print-multiarch 2>/dev/null)/libjemalloc.so.2
    echo "$j"
}

# 4. Parse, print and RDB load cost per byte: instructions (callgrind) inside
#    doc_parse, doc_print and doc_tree_load for the 10 KB and 100 KB documents, by
#    scripts/bench/parse_bench.c, on Debian's libjemalloc (the allocator
#    redis-server links, so node allocations cost what they cost in Redis).
#    Instruction counts do not depend on the machine's load. Skipped when
#    valgrind is not installed.
bench_parse() {
    local src=scripts/bench/parse_bench.c bin=$OUT/parse_bench
    local jemalloc preload="" mode label file n bytes ir per
    jemalloc=$(jemalloc_path)
    if ! command -v valgrind >/dev/null; then
        row "parse/print: instructions per byte" "skipped" "" "" "" "valgrind not installed"
        return 0
    fi
    [ -f "$DOC_10K" ] || "$PY" scripts/bench/incr_pull.py gen "$DOC_10K" >/dev/null
    log "parse: building and running $bin under callgrind"
    : >"$OUT/parse.txt"
    cc -O2 -std=c11 -D_GNU_SOURCE -Imodule/doc "$src" "$(core_lib)" -lm -o "$bin" \
        || die "building $src failed"
    [ -f "$jemalloc" ] && preload=$jemalloc
    local fn
    for mode in parse print load; do
        # load: doc_tree_load of the serialized tree (the RDB encoding, encver 2)
        fn=doc_$mode
        [ "$mode" = load ] && fn=doc_tree_load
        for label in "10 KB:$DOC_10K:50" "100 KB:$DOC_100K:5"; do
            IFS=: read -r label file n <<<"$label"
            bytes=$(stat -c %s "$file")
            ir=$(LD_PRELOAD=$preload valgrind --tool=callgrind --toggle-collect="$fn" \
                     --callgrind-out-file=/dev/null "$bin" "$mode" "$file" "$n" 2>&1 |
                 sed -n 's/.*Collected : //p')
            [ -n "$ir" ] || die "callgrind of $bin $mode $file failed"
            per=$(awk -v i="$ir" -v n="$n" -v b="$bytes" 'BEGIN { printf "%.2f", i / (n * b) }')
            echo "$mode $label: $ir instructions for $n x $bytes bytes = $per per byte" >>"$OUT/parse.txt"
            local limit=12
            [ "$mode" = print ] && limit=4
            [ "$mode" = load ] && limit=3
            row "$fn $label: instructions per byte of JSON (callgrind, jemalloc)" "$per" "" "" \
                "<= $limit: $(verdict "$per" le "$limit")" \
                "\`LD_PRELOAD=$preload valgrind --tool=callgrind --toggle-collect=$fn $bin $mode $file $n\` (Collected / ($n x $bytes))"
        done
    done
}

# 5. DOC.INCR vs HINCRBY. DOC.INCR of an order's qty (order 5 of the 1 KB
#    document, the middle order of the 100 KB one) and of a top-level counter
#    ($.hits, set to 0 at load, so the last member of the root object) against
#    HINCRBY on a small hash; redis-benchmark -c 50 without and with -P 16;
#    BENCH_ROUNDS (2) rounds, even rounds in reverse order; best run counts.
#    Server time per call: INFO commandstats usec_per_call after CONFIG
#    RESETSTAT before every run (the lowest of the -P 16 runs in the table;
#    every run's figures in build/bench/incr.txt). For reference, the Lua
#    cjson read-modify-write of the same order field on a plain string
#    (scripts/bench/incr_incr.lua), -P 16.
INCR_N1=${INCR_N1:-100000}      # requests per run without -P
INCR_N16=${INCR_N16:-500000}    # requests per run with -P 16
INCR_LUA_N=${INCR_LUA_N:-"1k=20000 100k=800"}   # Lua runs (>= 800: 50 x 16 in flight)

# incr_rb PIPELINE N COMMAND...: one redis-benchmark run against $RB_PORT after
# CONFIG RESETSTAT; prints "requests/s usec_per_call". Dies unless the server
# counted at least N calls of COMMAND and none failed.
incr_rb() {
    local pipe=$1 n=$2 name rps stat calls failed usec
    shift 2
    name=$(tr '[:upper:]' '[:lower:]' <<<"$1")
    redis-cli -p "$RB_PORT" CONFIG RESETSTAT >/dev/null
    # CSV: "test","rps",... 6 more; the test name may hold quotes and commas
    rps=$(redis-benchmark -h 127.0.0.1 -p "$RB_PORT" -c 50 -P "$pipe" -n "$n" --csv "$@" 2>/dev/null \
        | awk -F, 'NR == 2 { f = $(NF - 6); gsub(/"/, "", f); print f }')
    stat=$(redis-cli -p "$RB_PORT" INFO commandstats | tr -d '\r' | grep -F "cmdstat_$name:" || true)
    calls=$(sed -n 's/^[^:]*:calls=\([0-9]*\),.*/\1/p' <<<"$stat")
    failed=$(sed -n 's/.*failed_calls=\([0-9]*\).*/\1/p' <<<"$stat")
    usec=$(sed -n 's/.*usec_per_call=\([0-9.]*\).*/\1/p' <<<"$stat")
    if ! { [[ $rps =~ ^[0-9.]+$ ]] && [ -n "$calls" ] && [ "$calls" -ge "$n" ] && [ "$failed" = 0 ]; }; then
        die "redis-benchmark -P $pipe $*: rps '$rps', $name calls '$calls', failed '$failed'"
    fi
    echo "$rps $usec"
}

# ratio3 A B -> A/B with 3 significant digits (the Lua peers reach 0.00x)
ratio3() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.3g", a / b }'; }

# incr_args ID: the command of one bench_incr target into INCR_ARGS.
incr_args() {
    case $1 in
    hincrby) INCR_ARGS=(HINCRBY h f 1) ;;
    1k_field) INCR_ARGS=(DOC.INCR doc:1k '$.orders[5].qty' 1) ;;
    1k_top) INCR_ARGS=(DOC.INCR doc:1k '$.hits' 1) ;;
    100k_field) INCR_ARGS=(DOC.INCR doc:100k "\$.orders[$INCR_MID].qty" 1) ;;
    100k_top) INCR_ARGS=(DOC.INCR doc:100k '$.hits' 1) ;;
    lua_1k) INCR_ARGS=(EVALSHA "$INCR_SHA" 1 str:1k 1 orders 5 qty) ;;
    lua_100k) INCR_ARGS=(EVALSHA "$INCR_SHA" 1 str:100k 1 orders "$INCR_MID" qty) ;;
    esac
}

bench_incr() {
    server_start incr
    local pid=$SERVER_PID load_start load_end
    load_start=$(cut -d' ' -f1 /proc/loadavg)
    RB_PORT=$SERVER_PORT
    "$PY" scripts/bench/mem.py load "$RB_PORT" "1k=$DOC_1K" "100k=$DOC_100K" >"$OUT/incr_load.json"
    redis-cli -p "$RB_PORT" DOC.SET doc:1k '$.hits' 0 | grep -q OK || die "DOC.SET doc:1k \$.hits failed"
    redis-cli -p "$RB_PORT" DOC.SET doc:100k '$.hits' 0 | grep -q OK || die "DOC.SET doc:100k \$.hits failed"
    redis-cli -p "$RB_PORT" HSET h f 0 >/dev/null
    INCR_SHA=$(redis-cli -p "$RB_PORT" SCRIPT LOAD "$(cat scripts/bench/incr_incr.lua)")
    INCR_MID=$(( $(redis-cli -p "$RB_PORT" DOC.LEN doc:100k '$.orders') / 2 ))
    local -A rps_best usec_best
    local ids i id pipe pf n out r u raw=$OUT/incr.txt
    : >"$raw"
    for i in $(seq "${BENCH_ROUNDS:-2}"); do
        # odd rounds peer first, even rounds peer last (drift on a shared machine)
        [ $((i % 2)) = 0 ] && ids="100k_top 100k_field 1k_top 1k_field hincrby"
        [ $((i % 2)) = 1 ] && ids="hincrby 1k_field 1k_top 100k_field 100k_top"
        for pipe in 1 16; do
            n=$INCR_N1; [ "$pipe" = 16 ] && n=$INCR_N16
            for id in $ids; do
                incr_args "$id"
                log "incr: round $i, -P $pipe, ${INCR_ARGS[*]} (n=$n)"
                out=$(incr_rb "$pipe" "$n" "${INCR_ARGS[@]}")
                read -r r u <<<"$out"
                echo "round $i -P $pipe n=$n $id: ${r} requests/s, usec_per_call $u ($(cut -d' ' -f1-3 /proc/loadavg))" >>"$raw"
                rps_best[$id:$pipe]=$(awk -v a="${rps_best[$id:$pipe]:-0}" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
                usec_best[$id:$pipe]=$(awk -v a="${usec_best[$id:$pipe]:-1e9}" -v b="$u" 'BEGIN { print (b < a) ? b : a }')
            done
        done
        for id in lua_1k lua_100k; do
            incr_args "$id"
            n=$(tr ' ' '\n' <<<"$INCR_LUA_N" | sed -n "s/^${id#lua_}=//p")
            log "incr: round $i, -P 16, Lua read-modify-write ${INCR_ARGS[*]} (n=$n)"
            out=$(incr_rb 16 "$n" "${INCR_ARGS[@]}")
            read -r r u <<<"$out"
            echo "round $i -P 16 n=$n $id: ${r} requests/s, usec_per_call $u ($(cut -d' ' -f1-3 /proc/loadavg))" >>"$raw"
            rps_best[$id:16]=$(awk -v a="${rps_best[$id:16]:-0}" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
            usec_best[$id:16]=$(awk -v a="${usec_best[$id:16]:-1e9}" -v b="$u" 'BEGIN { print (b < a) ? b : a }')
        done
    done
    load_end=$(cut -d' ' -f1 /proc/loadavg)
    local label path size key rounds=${BENCH_ROUNDS:-2} hr hu
    for id in 1k_field 1k_top 100k_field 100k_top; do
        incr_args "$id"
        key=${INCR_ARGS[1]} path=${INCR_ARGS[2]} size="1 KB"
        [ "$key" = doc:100k ] && size="100 KB"
        label="incr $size \`$path\`"
        for pipe in 1 16; do
            n=$INCR_N1 pf=""; [ "$pipe" = 16 ] && n=$INCR_N16 pf=" -P 16"
            hr=${rps_best[hincrby:$pipe]}
            r=$(ratio "${rps_best[$id:$pipe]}" "$hr")
            row "$label: requests/s, DOC.INCR vs HINCRBY, -c 50$pf (best of $rounds)" \
                "$(fmt_int "${rps_best[$id:$pipe]}")" "$(fmt_int "$hr")" "${r}x" ">= 0.6x: $(verdict "$r" ge 0.6)" \
                "\`redis-benchmark -c 50$pf -n $n DOC.INCR $key '$path' 1\` vs \`... HINCRBY h f 1\`"
        done
        hu=${usec_best[hincrby:16]}
        r=$(ratio "${usec_best[$id:16]}" "$hu")
        row "$label: server usec/call, DOC.INCR vs HINCRBY (lowest of $rounds -P 16 runs)" \
            "${usec_best[$id:16]}" "$hu" "${r}x" "<= 2x: $(verdict "$r" le 2)" \
            "INFO commandstats usec_per_call, CONFIG RESETSTAT before each run (all runs: $raw)"
    done
    for id in field top; do
        r=$(ratio "${usec_best[100k_$id:16]}" "${usec_best[1k_$id:16]}")
        incr_args "100k_$id"
        row "incr: DOC.INCR usec/call, 100 KB vs 1 KB document (\`${INCR_ARGS[2]}\`)" \
            "${usec_best[100k_$id:16]}" "${usec_best[1k_$id:16]} (1 KB)" "${r}x" \
            "not growing (<= 1.25x): $(verdict "$r" le 1.25)" "as above"
    done
    for id in 1k 100k; do
        incr_args "lua_$id"
        n=$(tr ' ' '\n' <<<"$INCR_LUA_N" | sed -n "s/^$id=//p")
        r=$(ratio3 "${rps_best[lua_$id:16]}" "${rps_best[hincrby:16]}")
        row "incr ${id/k/ KB}: requests/s, Lua cjson read-modify-write vs HINCRBY, -c 50 -P 16 (reference)" \
            "$(fmt_int "${rps_best[lua_$id:16]}") (Lua)" "$(fmt_int "${rps_best[hincrby:16]}")" "${r}x" "" \
            "\`redis-benchmark -c 50 -P 16 -n $n EVALSHA <incr_incr.lua> 1 str:$id 1 orders ${INCR_ARGS[6]} qty\`; usec/call ${usec_best[lua_$id:16]}"
    done
    row "incr: load average (1 min), start -> end" "$load_start -> $load_end" "" "" "" "/proc/loadavg, $(nproc) CPUs"
    server_stop "$pid"
}

# 6. DOC.TXN vs an equivalent Lua script - to be written (owner: DOC.TXN).
bench_txn() { local rows; rows=$(bash scripts/bench/bench_txn.sh --rows) || die "bench_txn.sh failed"; mapfile -t -O "${#ROWS[@]}" ROWS <<<"$rows"; }

# 7. DOC.PULL by value on a ~10 KB document ({"cart_id","owner","items":[150
#    small objects]}, written by scripts/bench/incr_pull.py gen) against a Lua
#    script doing GET + cjson.decode + remove the equal elements + cjson.encode
#    + SET (scripts/bench/incr_pull.lua, EVALSHA). Every pull must remove the
#    element, so each side alternates pull and push of the same element:
#    DOC.PULL + DOC.PUSH pairs vs Lua pull + Lua push pairs. redis-benchmark
#    sends one command per run, so the pairs are driven by
#    scripts/bench/incr_pull.py run: one python3 client thread, PULL_CONNS (4)
#    connections on their own keys, PULL_DEPTH (16) pairs pipelined each,
#    PULL_SECONDS (5) per run, every reply checked; BENCH_ROUNDS (2) rounds
#    alternating doc/lua, best counts. Also server time per pair from
#    commandstats, and a redis-benchmark cross-check where each request is a
#    whole pair: DOC.TXN (PULL then PUSH) vs the Lua script's "pair" mode
#    (one decode/encode for both, so cheaper per pair than two calls).
PULL_SECONDS=${PULL_SECONDS:-5}
PULL_CONNS=${PULL_CONNS:-4}
PULL_DEPTH=${PULL_DEPTH:-16}
PULL_TXN_N=${PULL_TXN_N:-30000}   # redis-benchmark cross-check, requests per run
PULL_LUA_N=${PULL_LUA_N:-1600}    # (>= 800: 50 x 16 in flight)

bench_pull() {
    local name bytes count
    read -r name bytes count < <("$PY" scripts/bench/incr_pull.py gen "$DOC_10K") || true
    [ -n "$count" ] || die "incr_pull.py gen $DOC_10K failed"
    log "  $DOC_10K: $bytes bytes, $count elements"
    row "document $name" "$bytes bytes" "" "" "" "\`python3 scripts/bench/incr_pull.py gen $DOC_10K\` ($count elements in \$.items)"
    server_start pull
    local pid=$SERVER_PID port=$SERVER_PORT load_start load_end
    load_start=$(cut -d' ' -f1 /proc/loadavg)
    local -A pairs_best usec_best
    local i mode js p u raw=$OUT/pull.txt lua=scripts/bench/incr_pull.lua
    local drv="scripts/bench/incr_pull.py run PORT MODE $PULL_SECONDS $PULL_CONNS $PULL_DEPTH $DOC_10K $lua"
    : >"$raw"
    for i in $(seq "${BENCH_ROUNDS:-2}"); do
        for mode in doc lua; do
            log "pull: round $i, $mode pairs (${PULL_SECONDS}s, $PULL_CONNS connections x $PULL_DEPTH pairs)"
            js=$("$PY" scripts/bench/incr_pull.py run "$port" "$mode" "$PULL_SECONDS" "$PULL_CONNS" \
                "$PULL_DEPTH" "$DOC_10K" "$lua") || die "incr_pull.py run $mode failed"
            echo "round $i: $js (load $(cut -d' ' -f1-3 /proc/loadavg))" >>"$raw"
            p=$(json_get pairs_per_s <<<"$js")
            # server time per pair: DOC.PULL + DOC.PUSH, or two EVALSHA
            u=$("$PY" -c 'import json, sys; d = json.load(sys.stdin)["usec_per_call"]
print(d["doc.pull"] + d["doc.push"] if "doc.pull" in d else 2 * d["evalsha"])' <<<"$js")
            pairs_best[$mode]=$(awk -v a="${pairs_best[$mode]:-0}" -v b="$p" 'BEGIN { print (b > a) ? b : a }')
            usec_best[$mode]=$(awk -v a="${usec_best[$mode]:-1e9}" -v b="$u" 'BEGIN { print (b < a) ? b : a }')
        done
    done
    # redis-benchmark cross-check: one request = one pull + one push.
    local sha elem out r
    elem=$("$PY" -c 'import sys; sys.path.insert(0, "scripts/bench"); import incr_pull; print(incr_pull.dump(incr_pull.ELEMENT))')
    sha=$(redis-cli -p "$port" SCRIPT LOAD "$(cat "$lua")")
    redis-cli -p "$port" DOC.SET pull:txn '$' "$(cat "$DOC_10K")" | grep -q OK || die "DOC.SET pull:txn failed"
    redis-cli -p "$port" SET pull:luapair "$(cat "$DOC_10K")" >/dev/null
    RB_PORT=$port
    for i in $(seq "${BENCH_ROUNDS:-2}"); do
        log "pull: round $i, redis-benchmark DOC.TXN pair (n=$PULL_TXN_N), Lua pair (n=$PULL_LUA_N)"
        out=$(incr_rb 16 "$PULL_TXN_N" DOC.TXN 1 pull:txn PULL 1 '$.items' "$elem" PUSH 1 '$.items' "$elem")
        read -r r u <<<"$out"
        echo "round $i: redis-benchmark DOC.TXN pair: $r requests/s, usec_per_call $u" >>"$raw"
        pairs_best[txn]=$(awk -v a="${pairs_best[txn]:-0}" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
        usec_best[txn]=$(awk -v a="${usec_best[txn]:-1e9}" -v b="$u" 'BEGIN { print (b < a) ? b : a }')
        out=$(incr_rb 16 "$PULL_LUA_N" EVALSHA "$sha" 1 pull:luapair pair "$elem")
        read -r r u <<<"$out"
        echo "round $i: redis-benchmark Lua pair: $r requests/s, usec_per_call $u" >>"$raw"
        pairs_best[luapair]=$(awk -v a="${pairs_best[luapair]:-0}" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
        usec_best[luapair]=$(awk -v a="${usec_best[luapair]:-1e9}" -v b="$u" 'BEGIN { print (b < a) ? b : a }')
    done
    # The documents must have survived intact: the element pulled and pushed back each time.
    "$PY" -c 'import json, sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1])); want = json.load(open(sys.argv[2]))
for k, cmd in (("pull:txn", "DOC.GET"), ("pull:luapair", "GET")):
    if json.loads(r.execute_command(cmd, k)) != want: sys.exit("pull: %s changed" % k)' "$port" "$DOC_10K" \
        || die "pull: a document did not come back to its original value"
    load_end=$(cut -d' ' -f1 /proc/loadavg)
    local rounds=${BENCH_ROUNDS:-2}
    r=$(ratio "${pairs_best[doc]}" "${pairs_best[lua]}")
    row "pull 10 KB: PULL+PUSH pairs/s, DOC.PULL+DOC.PUSH vs Lua cjson pull+push (best of $rounds)" \
        "$(fmt_int "${pairs_best[doc]}")" "$(fmt_int "${pairs_best[lua]}")" "${r}x" ">= 10x: $(verdict "$r" ge 10)" \
        "\`$drv\` (MODE doc, lua; python3 driver, pipelined; all runs: $raw)"
    r=$(ratio3 "${usec_best[doc]}" "${usec_best[lua]}")
    row "pull 10 KB: server usec per pair, DOC.PULL+DOC.PUSH vs 2 EVALSHA (lowest of $rounds)" \
        "${usec_best[doc]}" "${usec_best[lua]}" "${r}x" "<= 0.1x: $(verdict "$r" le 0.1)" \
        "INFO commandstats usec_per_call after CONFIG RESETSTAT, same runs"
    r=$(ratio "${pairs_best[txn]}" "${pairs_best[luapair]}")
    row "pull 10 KB: requests/s, one pair per request, DOC.TXN vs Lua pair script, -c 50 -P 16 (cross-check)" \
        "$(fmt_int "${pairs_best[txn]}")" "$(fmt_int "${pairs_best[luapair]}")" "${r}x" "" \
        "\`redis-benchmark -c 50 -P 16 -n $PULL_TXN_N DOC.TXN 1 pull:txn PULL 1 '\$.items' E PUSH 1 '\$.items' E\` vs \`... -n $PULL_LUA_N EVALSHA <incr_pull.lua> 1 pull:luapair pair E\`; E = \`$elem\`; usec/call ${usec_best[txn]} vs ${usec_best[luapair]}"
    row "pull: load average (1 min), start -> end" "$load_start -> $load_end" "" "" "" "/proc/loadavg, $(nproc) CPUs"
    server_stop "$pid"
}

# The valkey-json peer (scripts/bench/README.md says how to place it; nothing
# is fetched here): peers_find sets VSERVER and VJSON, or leaves one empty.
# VSERVER: $VALKEY_SERVER when set (e.g. `scripts/servers.sh path valkey8.0`),
# else build/peers/valkey/src/valkey-server (built here with make -j2 when the
# tree is there and the binary is not). VJSON: valkey-json's libjson.so under
# build/peers/valkey-json. peers_version prints both versions for the tables.
PEERS=$ROOT/build/peers
peers_find() {
    VSERVER="" VJSON=""
    if [ -n "${VALKEY_SERVER:-}" ]; then
        [ -x "$VALKEY_SERVER" ] || die "VALKEY_SERVER=$VALKEY_SERVER is not an executable"
        VSERVER=$VALKEY_SERVER
    else
        if [ -f "$PEERS/valkey/src/Makefile" ] && [ ! -x "$PEERS/valkey/src/valkey-server" ]; then
            log "peers: building $PEERS/valkey (make -j2 valkey-server; log $OUT/valkey_build.log)"
            # GIT_CEILING_DIRECTORIES: the build stamps the git commit around it,
            # which would be atomicdoc's.
            GIT_CEILING_DIRECTORIES=$PEERS make -C "$PEERS/valkey/src" -j2 BUILD_TLS=no valkey-server \
                >"$OUT/valkey_build.log" 2>&1 || log "peers: valkey build failed (see $OUT/valkey_build.log)"
        fi
        [ -x "$PEERS/valkey/src/valkey-server" ] && VSERVER=$PEERS/valkey/src/valkey-server
    fi
    [ -d "$PEERS/valkey-json" ] && VJSON=$(find "$PEERS/valkey-json" -name libjson.so -type f 2>/dev/null | head -1)
    return 0
}
peers_version() {
    local json
    # MODULE LIST's ver: 10002 for 1.0.2
    json=$(redis-cli -p "$1" MODULE LIST | tr -d '\r' |
           awk '$0 == "json" { getline; getline; printf "%d.%d.%d", $1 / 10000, $1 / 100 % 100, $1 % 100; exit }')
    echo "valkey $("$VSERVER" --version | grep -oE 'v=[0-9.]+' | cut -c3-), valkey-json $json"
}

# 2b. Memory per document against valkey-json: DOC.SET, JSON.SET (valkey-json)
#     and SET of the 1 KB, 10 KB and 100 KB documents on one valkey-server with
#     both modules loaded (valkey-json first, atomicdoc without JSON.*).
#     Only when the peers are placed; not in BENCH_DEFAULT's order by accident:
#     it runs after `memory`.
bench_peermem() {
    peers_find
    if [ -z "$VSERVER" ] || [ -z "$VJSON" ]; then
        log "peermem: no valkey 8 + valkey-json under $PEERS: skipped"
        return 0
    fi
    [ -f "$DOC_10K" ] || "$PY" scripts/bench/incr_pull.py gen "$DOC_10K" >/dev/null
    SERVER_BIN=$VSERVER SERVER_MODULES="$VJSON" server_start peermem
    local port=$SERVER_PORT pid=$SERVER_PID spec label file count js versions
    redis-cli -p "$port" JSON.SET peermem:probe '$' 1 >/dev/null
    [ "$(redis-cli -p "$port" TYPE peermem:probe)" != atomicdoc ] \
        || die "peermem: JSON.* is not valkey-json's on $VSERVER"
    versions=$(peers_version "$port")
    for spec in "1 KB:$DOC_1K:10000" "10 KB:$DOC_10K:3000" "100 KB:$DOC_100K:1000"; do
        IFS=: read -r label file count <<<"$spec"
        log "peermem: $count x $label (DOC.SET, SET, JSON.SET)"
        js=$("$PY" scripts/bench/mem.py memory "$port" "$file" "$count" json)
        echo "$js" >"$OUT/peermem_${label// /}.json"
        local json doc str vj
        json=$(json_get json <<<"$js")
        doc=$(json_get doc.per_doc <<<"$js")
        str=$(json_get str.per_doc <<<"$js")
        vj=$(json_get json_set.per_doc <<<"$js")
        row "memory $label on $versions: bytes/doc, DOC.SET vs valkey-json JSON.SET" \
            "$(fmt_int "$doc") ($(ratio "$doc" "$json")x text)" "$(fmt_int "$vj") ($(ratio "$vj" "$json")x text)" \
            "$(ratio "$doc" "$vj")x" "" \
            "\`mem.py memory PORT $file $count json\` (used_memory delta / $count; text $json bytes, SET $(fmt_int "$str") = $(ratio "$str" "$json")x)"
    done
    server_stop "$pid"
}

# 8. Issue 14's table: instructions inside Redis's call() per command
#    (callgrind; scripts/bench/calls.py), each row a ratio against its peer in
#    the same run: a string, a hash, a set or a Lua script on Debian's
#    redis-server always; valkey-json's JSON.* on a valkey 8 with both modules
#    loaded when the peers are there (peers_find). Also the plot of DOC.SET and
#    DOC.GET cost per byte against document size (build/bench/cost_per_byte.png,
#    when gnuplot is installed): from the valkey run when there is one (every
#    curve from one server), else from the redis run. Skipped without valgrind.
# The cases of the valkey run: those with a valkey-json counterpart and their
# string/hash peers (the rest are in the redis run).
VALKEY_CASES="docset_1k jsonset_1k set_1k docset_10k jsonset_10k set_10k docset_100k jsonset_100k set_100k
docget_1k_nocache jsonget_1k get_1k docget_10k_nocache docget_10k_cached jsonget_10k get_10k
docget_100k_nocache docget_100k_cached jsonget_100k get_100k docincr jsonincr hincrby
docfield jsonfield hget arrincr_100k jsonarrincr_100k"
bench_calls() {
    local redis_out=$OUT/calls_redis.jsonl valkey_out="" plot_from
    plot_from="redis-server $(redis-server --version | grep -oE 'v=[0-9.]+' | cut -c3-)"
    if ! command -v valgrind >/dev/null; then
        row "instructions in call()" "skipped" "" "" "" "valgrind not installed"
        return 0
    fi
    [ -f "$DOC_10K" ] || "$PY" scripts/bench/incr_pull.py gen "$DOC_10K" >/dev/null
    log "calls: atomicdoc and its string/hash/Lua peers under callgrind (a few minutes)"
    "$PY" scripts/bench/calls.py "$(command -v redis-server)" "$MODULE" "$ROOT/$OUT" >"$redis_out" \
        || die "calls.py on redis-server failed"
    peers_find
    if [ -n "$VSERVER" ] && [ -n "$VJSON" ]; then
        log "calls: atomicdoc and valkey-json on $VSERVER"
        valkey_out=$OUT/calls_valkey.jsonl
        # shellcheck disable=SC2086  # the case names are words
        EXTRA_MODULES=$VJSON "$PY" scripts/bench/calls.py "$VSERVER" "$MODULE" "$ROOT/$OUT" $VALKEY_CASES \
            >"$valkey_out" || die "calls.py on valkey-server failed"
        SERVER_BIN=$VSERVER SERVER_MODULES="$VJSON" server_start peerversion
        plot_from=$(peers_version "$SERVER_PORT")
        server_stop "$SERVER_PID"
        row "valkey-json peer columns: server and module" "$plot_from" "" "" "" \
            "\`$(basename "$VSERVER") --version\`, \`MODULE LIST\`"
    else
        log "calls: no valkey 8 + valkey-json under $PEERS: their columns are left out"
    fi
    local rows
    rows=$("$PY" scripts/bench/calls_table.py "$OUT" "$redis_out" $valkey_out) || die "calls_table.py failed"
    while IFS='|' read -r m a p r t c; do row "$m" "$a" "$p" "$r" "$t" "$c"; done <<<"$rows"
    if command -v gnuplot >/dev/null; then
        # SET-like commands red, GET-like blue; atomicdoc solid, valkey-json
        # dashed, the plain string dotted.
        local json_curves=""
        [ -n "$valkey_out" ] && json_curves=', \
     "" using 1:6 with linespoints lc rgb "#c0392b" lw 2 dt 2 pt 5 title "JSON.SET (valkey-json)", \
     "" using 1:7 with linespoints lc rgb "#2155a5" lw 2 dt 2 pt 7 title "JSON.GET (valkey-json)"'
        gnuplot <<PLOT || log "calls: gnuplot failed"
set terminal pngcairo size 900,540 font ",11"
set output "$OUT/cost_per_byte.png"
set title "Instructions per byte inside call() (callgrind), by document size\n$plot_from, atomicdoc $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
set logscale xy
set xrange [700:150000]
set yrange [0.02:300]
set xtics ("1 KB" $(stat -c %s "$DOC_1K"), "10 KB" $(stat -c %s "$DOC_10K"), "100 KB" $(stat -c %s "$DOC_100K"))
set xlabel "document bytes (compact JSON)"
set ylabel "instructions per byte"
set key outside right
set grid
plot "$OUT/cost_per_byte.dat" using 1:2 with linespoints lc rgb "#c0392b" lw 2 pt 4 title "DOC.SET", \
     "" using 1:4 with linespoints lc rgb "#2155a5" lw 2 pt 6 title "DOC.GET (read cache off)", \
     "" using 1:3 with linespoints lc rgb "#c0392b" lw 1 dt 3 pt 1 title "SET (string)", \
     "" using 1:5 with linespoints lc rgb "#2155a5" lw 1 dt 3 pt 2 title "GET (string)"$json_curves
PLOT
        row "plot: DOC.SET/DOC.GET instructions per byte by size" "$OUT/cost_per_byte.png" "" "" "" \
            "gnuplot of \`$OUT/cost_per_byte.dat\` ($plot_from)"
    fi
}

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
