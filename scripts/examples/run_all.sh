#!/usr/bin/env bash
# scripts/examples/run_all.sh - starts a redis-server with atomicdoc on a free port
# (scripts/examples/server.sh), runs every example against it, stops it (also on
# failure or Ctrl-C). Prints each example's output and one line per example; exits 1
# if any failed. ATOMICDOC_MODULE and CLIENTS pass through.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=server.sh
. "$here/server.sh"
trap server_stop EXIT
server_start || exit 1
export REDIS_PORT=$SERVER_PORT REDIS_HOST=127.0.0.1

passed=0 failed=0 names=()
for ex in pull_order_item book_seat transfer unique_visitors hot_counter nested_create optimistic_version outbox; do
  echo "== $ex.sh"
  if bash "$here/$ex.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); names+=("$ex"); fi
  echo
done
[ "$failed" = 0 ] || echo "scripts/examples: FAILED: ${names[*]}"
echo "scripts/examples: $passed passed, $failed failed"
[ "$failed" = 0 ]
