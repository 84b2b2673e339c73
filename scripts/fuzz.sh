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
set -euo pipefail
cd "$(dirname "$0")/.."

total=${1:-60}
clang=${CLANG:-clang}
out=build/fuzz
san=(-fsanitize=address,undefined -fno-sanitize-recover=all)
cflags=(-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer "${san[@]}" -Imodule/doc)

shopt -s nullglob
targets=(tests/fuzz/fuzz_*.c)
core=(module/doc/*.c)
if (( ${#targets[@]} == 0 )); then
    echo "fuzz: no targets in tests/fuzz/"
    exit 0
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
exit $status
