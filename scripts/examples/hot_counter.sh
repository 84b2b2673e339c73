#!/usr/bin/env bash
# hot_counter.sh - a global counter updated by every transaction.
#
# Each order placement is one DOC.TXN over two documents: the customer's own
# document gets the order, and a global stats document (the hot key every TXN
# touches) counts it:
#
#   DOC.TXN 2 stats user  INCR 1 $.orders 1  PUSH 2 $.orders {...}
#
# The race: the same count kept with GET + SET from 20 clients loses increments,
# counted. A database that aborts transactions on write conflicts would retry them
# all on this key. A DOC.TXN runs whole inside Redis's single command loop, so 20
# clients placing 20 orders each never abort and the counter ends at exactly 400.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where; CLIENTS (default 20). Uses keys
# example:{app}:stats, example:{app}:stats:string and example:{app}:user:1..CLIENTS.
# Exits 1 if the counter is off or a TXN aborted.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
stats='example:{app}:stats'
EACH=20

echo "-- race: $CLIENTS clients x $EACH orders counted with GET + SET"
cli SET "$stats:string" 0 >/dev/null
count_with_get_set() {
  local i n
  for i in $(seq "$EACH"); do n=$(cli GET "$stats:string"); cli SET "$stats:string" $((n + 1)) >/dev/null; done
}
together "$CLIENTS" count_with_get_set
n=$(cli GET "$stats:string")
echo "   $((CLIENTS * EACH)) orders, counter at $n: $((CLIENTS * EACH - n)) lost"

echo "-- atomicdoc: $CLIENTS clients x $EACH DOC.TXN (INCR the hot counter, PUSH to their own document)"
cli DEL "$stats" >/dev/null
for u in $(seq "$CLIENTS"); do cli DEL "example:{app}:user:$u" >/dev/null; done
aborts0=$(cli INFO atomicdoc | tr -d '\r' | sed -n 's/^atomicdoc_txn_aborts://p')
place_orders() {
  local n
  for n in $(seq "$EACH"); do   # one redis-cli connection per client, fed the TXNs
    printf 'DOC.TXN 2 %s example:{app}:user:%s INCR 1 $.orders 1 PUSH 2 $.orders '"'"'{"n":%s}'"'"'\n' "$stats" "$1" "$n"
  done | cli >/dev/null
}
start=$(date +%s.%N)
together "$CLIENTS" place_orders
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
total=$(cli DOC.GET "$stats" '$.orders')
aborts=$(( $(cli INFO atomicdoc | tr -d '\r' | sed -n 's/^atomicdoc_txn_aborts://p') - aborts0 ))
per_user=$(for u in $(seq "$CLIENTS"); do cli DOC.LEN "example:{app}:user:$u" '$.orders'; done | sort -u | tr '\n' ' ')
echo "   counter at $total (version $(cli DOC.VERSION "$stats")); orders per user: $per_user; aborted TXNs: $aborts; ${secs}s"
if [ "$total" != $((CLIENTS * EACH)) ] || [ "$aborts" != 0 ] || [ "$per_user" != "$EACH " ]; then
  echo "unexpected: the counter is off or TXNs aborted" >&2
  exit 1
fi
echo "   exactly $((CLIENTS * EACH)) orders counted, none lost, none retried"
