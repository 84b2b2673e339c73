#!/usr/bin/env bash
# fuzz.sh - builds every libFuzzer target tests/fuzz/fuzz_<name>.c against the
# document core (module/doc/*.c) and runs each for an even share of the budget.
#
#   scripts/fuzz.sh [SECONDS]      total time for all targets, default 60
#
# Built with clang (override: CLANG=...) with ASan + UBSan into build/fuzz/.
# Each target runs on a working corpus build/fuzz/corpus/<name>/, which keeps
# what it finds between runs, plus its seeds tests/fuzz/corpus/<name>/ (read
# only). One line per target; a crash, leak or sanitizer report names the
# reproducer (build/fuzz/artifacts/) and the log, and the script exits 1.
# Reproduce with: build/fuzz/fuzz_<name> build/fuzz/artifacts/<file>
#
# Then the command fuzzer (make cmdfuzz, tests/fuzz/cmdfuzz.c) runs against a real
# server for CMDFUZZ_SECONDS (default: SECONDS again; 0 skips it, as `make test` does,
# which runs it as a step of its own). A failure prints its seed; SEED=n replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

total=${1:-60}
cmdfuzz_seconds=${CMDFUZZ_SECONDS:-$total}
clang=${CLANG:-clang}
out=build/fuzz
san=(-fsanitize=address,undefined -fno-sanitize-recover=all)
# DOC_TREE_CROSSCHECK: tree.c runs its precise check after every fast one and traps
# when they disagree (fuzz_rdb then tests both).
cflags=(-std=c11 -D_GNU_SOURCE -DDOC_TREE_CROSSCHECK -g -O1 -fno-omit-frame-pointer "${san[@]}" -Imodule/doc)

shopt -s nullglob
targets=(tests/fuzz/fuzz_*.c)
core=(module/doc/*.c)
# The command fuzzer, after the libFuzzer targets (exits with the overall status).
run_cmdfuzz() {
    local st=$1 log=$out/cmdfuzz.log
    if (( cmdfuzz_seconds > 0 )); then
        if make --no-print-directory cmdfuzz CMDFUZZ_SECONDS="$cmdfuzz_seconds" >"$log" 2>&1; then
            echo "$(grep -m1 '^cmdfuzz: ok' "$log" || echo 'cmdfuzz: ok')"
        else
            echo "cmdfuzz: FAILED (see $log; $(grep -m1 -o 'SEED=[0-9]*' "$log" || true))"
            st=1
        fi
    fi
    exit "$st"
}

mkdir -p "$out"
if (( ${#targets[@]} == 0 )); then
    echo "fuzz: no targets in tests/fuzz/"
    run_cmdfuzz 0
fi
per=$(( total / ${#targets[@]} ))
(( per >= 1 )) || per=1
mkdir -p "$out/obj" "$out/artifacts"

# The core once, with coverage instrumentation but no fuzzer main.
objs=()
for src in "${core[@]}"; do
    obj=$out/obj/$(basename "$src" .c).o
    if ! "$clang" "${cflags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj" \
            >"$out/build.log" 2>&1; then
        echo "fuzz: core build failed on $src (see $out/build.log)"
        exit 1
    fi
    objs+=("$obj")
done

status=0
for src in "${targets[@]}"; do
    target=$(basename "$src" .c)
    name=${target#fuzz_}
    log=$out/$target.log
    if ! "$clang" "${cflags[@]}" -fsanitize=fuzzer "$src" "${objs[@]}" -o "$out/$target" \
            -lm >"$log" 2>&1; then
        echo "$target: BUILD FAILED (see $log)"
        status=1
        continue
    fi
    mkdir -p "$out/corpus/$name"
    seeds=()
    if [[ -d tests/fuzz/corpus/$name ]]; then
        seeds=("tests/fuzz/corpus/$name")
    fi
    if "$out/$target" -max_total_time="$per" -print_final_stats=1 \
            -artifact_prefix="$out/artifacts/$target-" \
            "$out/corpus/$name" "${seeds[@]}" >"$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        execs=${execs:-0}
        units=$(find "$out/corpus/$name" -type f | wc -l)
        echo "$target: ok, $execs execs in ${per}s ($(( execs / per ))/s), corpus $units"
    else
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "$target: CRASH, input ${artifact:-unknown} (see $log)"
        status=1
    fi
done
run_cmdfuzz $status
