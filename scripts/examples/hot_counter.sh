#!/usr/bin/env bash
# hot_counter.sh - a global counter updated by every transaction.
#
# Each order placement is one DOC.TXN over two documents: the customer's own
# document gets the order, and a global stats document (the hot key every TXN
# touches) counts it:
#
#   DOC.TXN 2 stats user  INCR 1 $.orders 1  PUSH 2 $.orders {...}
#
# With a database that aborts transactions on write conflicts, a key in every
# transaction is where they all collide and retry. A DOC.TXN runs whole inside
# Redis's single command loop, so 4 clients placing 100 orders each never abort and
# the counter ends at exactly 400.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where. Uses keys example:{app}:stats and
# example:{app}:user:1..4.
set -euo pipefail

cli() { redis-cli -h "${REDIS_HOST:-127.0.0.1}" -p "${REDIS_PORT:-6379}" "$@"; }
stats='example:{app}:stats'
clients=4 each=100

cli DEL "$stats" >/dev/null
for u in $(seq "$clients"); do cli DEL "example:{app}:user:$u" >/dev/null; done
aborts0=$(cli INFO atomicdoc | tr -d '\r' | sed -n 's/^atomicdoc_txn_aborts://p')

echo "$clients clients place $each orders each; every TXN increments $stats..."
start=$(date +%s.%N)
pids=()
for u in $(seq "$clients"); do
    (
        # one redis-cli connection per client, fed the TXNs as a script
        for n in $(seq "$each"); do
            printf 'DOC.TXN 2 %s example:{app}:user:%s INCR 1 $.orders 1 PUSH 2 $.orders '"'"'{"n":%s}'"'"'\n' \
                "$stats" "$u" "$n"
        done | cli >/dev/null
    ) &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || { echo "a client failed" >&2; exit 1; }; done
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

echo "  stats:   $(cli DOC.GET "$stats") (version $(cli DOC.VERSION "$stats"))"
for u in $(seq "$clients"); do
    echo "  user $u: $(cli DOC.LEN "example:{app}:user:$u" '$.orders') orders"
done
aborts=$(( $(cli INFO atomicdoc | tr -d '\r' | sed -n 's/^atomicdoc_txn_aborts://p') - aborts0 ))
echo "  aborted TXNs: $aborts, in ${secs}s"
if [ "$(cli DOC.GET "$stats" '$.orders')" != $((clients * each)) ] || [ "$aborts" != 0 ]; then
    echo "unexpected: the counter is off or TXNs aborted" >&2
    exit 1
fi
echo "exactly $((clients * each)) orders counted, none retried"
