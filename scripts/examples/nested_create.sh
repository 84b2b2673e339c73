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
# Then the race: 20 clients create order 50 at once. Checking EXISTS, then SETting and
# counting it in the index from the application lets several of them "create" it and
# count it several times. With the TXN (CHECK 1 $ MISSING first) exactly one client
# creates it and the index counts it once.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where; CLIENTS (default 20). Uses keys
# example:{shop}:order:*, example:{shop}:lines:*, example:{shop}:orders and
# example:{shop}:string:*. Exits 1 if the TXN creates an order twice or half of one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
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

echo "-- race: $CLIENTS clients create order 50 with EXISTS, then SET and INCR the index count"
cli DEL 'example:{shop}:string:order:50' 'example:{shop}:string:count' >/dev/null
cli SET 'example:{shop}:string:count' 0 >/dev/null
create_with_exists() {
  if [ "$(cli EXISTS 'example:{shop}:string:order:50')" = 0 ]; then
    cli SET 'example:{shop}:string:order:50' "{\"id\":50,\"by\":$1}" >/dev/null
    cli INCR 'example:{shop}:string:count' >/dev/null
    echo 1
  else
    echo 0
  fi
}
together "$CLIENTS" create_with_exists
echo "   $(sum_out) clients created order 50; the index counts $(cli GET 'example:{shop}:string:count') orders"

echo "-- atomicdoc: $CLIENTS clients run the create TXN for order 50 at once"
cli DEL 'example:{shop}:order:50' 'example:{shop}:lines:50' >/dev/null
cli DOC.SET "$index" '$' '{"open":[],"count":0}' >/dev/null
create_50() { if create_order 50 1 1 | grep -q ABORTED; then echo 0; else echo 1; fi; }
together "$CLIENTS" create_50
created=$(sum_out) count=$(cli DOC.GET "$index" '$.count') lines=$(cli DOC.LEN 'example:{shop}:lines:50' '$.lines')
echo "   $created client created order 50; the index counts $count; the order has $lines lines"
if [ "$created" != 1 ] || [ "$count" != 1 ] || [ "$lines" != 2 ]; then
  echo "unexpected: order 50 created $created times, counted $count times, $lines lines" >&2
  exit 1
fi
echo "   created once, counted once, all its lines: nothing doubled"
