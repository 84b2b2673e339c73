#!/usr/bin/env bash
# examples/c/run.sh - runs each hiredis example against a redis-server with atomicdoc
# that it starts (scripts/examples/server.sh) and stops, whatever happens. An example
# passes when it exits 0 and its last line says "<name>: ok".
# BUILD is the directory holding the built programs (the Makefile passes it).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../../build/examples-c}
# shellcheck source=../../scripts/examples/server.sh
. "$here/../../scripts/examples/server.sh"
trap server_stop EXIT
server_start || exit 1

failed=0
for prog in pull_item transfer book_seat; do
  echo "== $prog"
  out=$("$BUILD/$prog" "$SERVER_PORT" 2>&1)
  rc=$?
  echo "$out"
  if [ "$rc" != 0 ] || [ "$(tail -n 1 <<<"$out")" != "$prog: ok" ]; then
    echo "examples/c: $prog FAILED (exit $rc)"
    failed=$((failed + 1))
  fi
done
echo "examples/c: $((3 - failed)) passed, $failed failed"
[ "$failed" = 0 ]
