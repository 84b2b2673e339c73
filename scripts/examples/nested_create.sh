#!/usr/bin/env bash
# nested_create.sh - create an order, its lines and its entry in an index in one
# DOC.TXN: three documents appear together or not at all.
#
# The TXN starts with CHECK 1 $ MISSING (the order must not exist yet), creates the
# order and its lines documents (a write to a missing key creates it), adds the
# order to the index, and totals the lines. Creating the same order again fails at
# op 1; creating an order whose last op fails (its total is over the limit) leaves
# no trace: no order, no lines, the index as it was.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where. Uses keys example:{shop}:order:*,
# example:{shop}:lines:* and example:{shop}:orders.
set -euo pipefail

cli() { redis-cli -h "${REDIS_HOST:-127.0.0.1}" -p "${REDIS_PORT:-6379}" "$@"; }
index='example:{shop}:orders'
oneline() { tr '\n' ' '; echo; }

# create_order ID QTY_A QTY_B: lines of product A (5.00) and B (12.00); the order's
# total may not exceed 100.
create_order() {
    local order="example:{shop}:order:$1" lines="example:{shop}:lines:$1"
    local total=$(($2 * 5 + $3 * 12))
    cli DOC.TXN 3 "$order" "$lines" "$index" \
        CHECK 1 '$' MISSING \
        SET 1 '$' "{\"id\":$1,\"customer\":\"ann\",\"state\":\"new\",\"total\":0}" \
        PUSH 2 '$.lines' "{\"sku\":\"A\",\"qty\":$2,\"price\":5}" \
        PUSH 2 '$.lines' "{\"sku\":\"B\",\"qty\":$3,\"price\":12}" \
        INCR 1 '$.total' "$total" \
        ADDTOSET 3 '$.open' "$1" \
        INCR 3 '$.count' 1 \
        CHECK 1 '$.total' LE 100 | oneline
}
show() {
    local id order lines
    for id in "$@"; do
        order=$(cli DOC.GET "example:{shop}:order:$id")
        lines=$(cli DOC.GET "example:{shop}:lines:$id")
        echo "  order $id: ${order:-(no such key)}"
        echo "  lines $id: ${lines:-(no such key)}"
    done
    echo "  index:    $(cli DOC.GET "$index" WITHVERSION | oneline)"
}

cli DEL "$index" 'example:{shop}:order:42' 'example:{shop}:lines:42' \
    'example:{shop}:order:43' 'example:{shop}:lines:43' >/dev/null
cli DOC.SET "$index" '$' '{"open":[],"count":0}' >/dev/null

echo "create order 42 (2 x A, 1 x B) -> $(create_order 42 2 1)"
show 42
echo "create order 42 again -> $(create_order 42 1 1)"
echo "create order 43 (1 x A, 9 x B: total 113, over 100) -> $(create_order 43 1 9)"
echo "  order 43 was never created, and the index did not move:"
show 43
[ "$(cli EXISTS 'example:{shop}:order:43' 'example:{shop}:lines:43')" = 0 ] ||
    { echo "unexpected: order 43 exists" >&2; exit 1; }
