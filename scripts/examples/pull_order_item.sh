#!/usr/bin/env bash
# pull_order_item.sh - 20 cloud functions each remove their own line from one order.
#
# The race: each function GETs the order (a JSON string), removes its line in the
# application and SETs the order back. Functions that read before another's SET write
# back lines that were already removed: removals are lost, and counted.
# atomicdoc: each function runs DOC.PULL order $.items WHERE {"sku":"S<i>"}, one atomic
# command inside Redis: every line is removed, exactly once, nothing is lost.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where; CLIENTS (default 20) how many functions. Uses
# the keys example:order:7 and example:order:7:string. Exits 1 if the atomic run loses
# anything.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
key=example:order:7 plain=example:order:7:string

items=$(for i in $(seq "$CLIENTS"); do printf '{"sku":"S%d","qty":1},' "$i"; done)
order="{\"items\":[${items%,}]}"

echo "-- race: $CLIENTS functions GET the order, drop their line, SET it back"
cli SET "$plain" "$order" >/dev/null
remove_with_get_set() {
  local doc line="{\"sku\":\"S$1\",\"qty\":1}"
  doc=$(cli GET "$plain")
  doc=${doc/"$line",/}; doc=${doc/",$line"/}; doc=${doc/"$line"/}
  cli SET "$plain" "$doc" >/dev/null
}
together "$CLIENTS" remove_with_get_set
left=$(cli GET "$plain" | grep -o '"sku"' | wc -l)
echo "   $CLIENTS lines removed, $left still in the order: $left removals lost"

echo "-- atomicdoc: $CLIENTS functions run DOC.PULL $key \$.items WHERE {\"sku\":\"S<i>\"}"
cli DEL "$key" >/dev/null
cli DOC.SET "$key" '$' "$order" >/dev/null
pull() { cli DOC.PULL "$key" '$.items' WHERE "{\"sku\":\"S$1\"}"; }
together "$CLIENTS" pull
removed=$(sum_out) left=$(cli DOC.LEN "$key" '$.items')
echo "   replies add up to $removed removed, $left still in the order (version $(cli DOC.VERSION "$key"))"
if [ "$removed" != "$CLIENTS" ] || [ "$left" != 0 ]; then
  echo "unexpected: the atomic pulls lost $left removals" >&2
  exit 1
fi
echo "   every line removed exactly once: nothing lost"
