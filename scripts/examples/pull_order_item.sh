#!/usr/bin/env bash
# pull_order_item.sh - two "cloud functions" remove the same order line at once.
#
# Both functions run DOC.PULL on the same order, concurrently, from background
# subshells. The pull is one atomic command inside Redis, so exactly one of them
# removes item X (reply 1) and the other finds it already gone (reply 0): no
# read-modify-write race, no lost update, no retry loop.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where. Uses the key example:order:7.
set -euo pipefail

cli() { redis-cli -h "${REDIS_HOST:-127.0.0.1}" -p "${REDIS_PORT:-6379}" "$@"; }
key=example:order:7

cli DEL "$key" >/dev/null
cli DOC.SET "$key" '$' '{"items":[{"sku":"A","qty":1},{"sku":"X","qty":2}],"total":30}' >/dev/null
echo "order before: $(cli DOC.GET "$key")"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for fn in 1 2; do
    (
        removed=$(cli DOC.PULL "$key" '$.items' WHERE '{"sku":"X"}')
        echo "$removed" >"$out/$fn"
        echo "function $fn: DOC.PULL removed $removed element(s)"
    ) &
done
wait

total=$(($(cat "$out/1") + $(cat "$out/2")))
echo "order after:  $(cli DOC.GET "$key") (version $(cli DOC.VERSION "$key"))"
if [ "$total" -ne 1 ]; then
    echo "unexpected: item X was removed $total times" >&2
    exit 1
fi
echo "exactly one function removed item X"
