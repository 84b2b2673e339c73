#!/usr/bin/env bash
# scripts/bench/rdb_bench.sh - persistence timings of ~1 GB of documents:
# the binary RDB encoding (encver 2) against the text encoding (encver 1, the
# module loaded with `rdb-encoding text`) and against the same JSON as plain
# strings: SAVE, DEBUG RELOAD, a restart's load, DUMP/RESTORE of every key, a
# replica's full sync (scripts/bench/rdb_bench.py does the work).
#
#   scripts/bench/rdb_bench.sh [COUNT]     COUNT x the 100 KB bench document
#                                          (default 10000: ~1 GB of JSON)
#   SERVER=/path/to/redis-server ...       another server (default: redis-server)
#   RDBCOMPRESSION=no ...                  LZF compression of RDB strings off
#
# Needs a built build/atomicdoc.so and /usr/bin/python3 with python3-redis.
# Wall-clock and server CPU seconds: compare the columns of one run. Takes a few minutes and
# about 4 GB of memory at the default size; writes under build/bench/rdb/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=build/bench
[ -f build/atomicdoc.so ] || { echo "rdb_bench: build the module first (make)" >&2; exit 1; }
[ -f "$OUT/doc_100k.json" ] || /usr/bin/python3 scripts/bench/gen_docs.py "$OUT" >/dev/null
server=${SERVER:-$(command -v redis-server)}
/usr/bin/python3 scripts/bench/rdb_bench.py "$server" "$ROOT/build/atomicdoc.so" \
    "$OUT/doc_100k.json" "${1:-10000}" | tee -a "$OUT/rdb_results.md"
