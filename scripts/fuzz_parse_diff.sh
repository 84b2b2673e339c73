#!/usr/bin/env bash
# fuzz_parse_diff.sh - differential fuzzing of doc_parse against the parse.c
# of an earlier commit (tests/fuzz/diff/diff_parse.c says what must agree).
#
#   scripts/fuzz_parse_diff.sh [SECONDS] [REF]
#
# REF (default a8f1167, the parser before issue 14's key memo and inline
# nodes) is any commit whose module/doc/parse.c defines doc_parse; its
# doc_parse and doc_utf8_valid are renamed ref_* and linked with the working
# tree's core. Built with clang, ASan + UBSan, into build/fuzz/diff/; the
# working corpus build/fuzz/diff/corpus is seeded from tests/fuzz/corpus/json,
# the JSONTestSuite files (under $ATOMICDOC_SHARED, default ../shared) and the
# bench documents when they are present.
# Exits 1 and names the reproducer on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
ref=${2:-a8f1167}
clang=${CLANG:-clang}
out=build/fuzz/diff
cflags=(-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
        -fno-sanitize-recover=all -Imodule/doc)

mkdir -p "$out/obj" "$out/corpus" "$out/artifacts"
git show "$ref:module/doc/parse.c" |
    sed -e 's/\bdoc_parse(/ref_doc_parse(/' -e 's/\bdoc_utf8_valid\b/ref_doc_utf8_valid/' \
        >"$out/parse_ref.c"
objs=()
for src in module/doc/*.c "$out/parse_ref.c"; do
    obj=$out/obj/$(basename "$src" .c).o
    "$clang" "${cflags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
    objs+=("$obj")
done
"$clang" "${cflags[@]}" -fsanitize=fuzzer tests/fuzz/diff/diff_parse.c "${objs[@]}" -lm \
    -o "$out/diff_parse"

seeds=(tests/fuzz/corpus/json)
for d in "${ATOMICDOC_SHARED:-../shared}/conformance/JSONTestSuite/test_parsing" build/bench; do
    [[ -d $d ]] && seeds+=("$d")
done
log=$out/diff_parse.log
if "$out/diff_parse" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/" "$out/corpus" "${seeds[@]}" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "diff_parse: ok against $ref, ${execs:-0} execs in ${seconds}s"
else
    echo "diff_parse: DIFFERENCE or crash against $ref (see $log)"
    exit 1
fi
