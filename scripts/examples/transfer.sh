#!/usr/bin/env bash
# transfer.sh - move money between two accounts with DOC.TXN and CHECK.
#
# A transfer is three ops on two documents, run as one atomic command:
#
#   DOC.TXN 2 from to  CHECK 1 $.balance GE amount   (enough money?)
#                      INCR  1 $.balance -amount
#                      INCR  2 $.balance  amount
#
# When the CHECK fails the whole TXN is refused (ABORTED op 1) and neither account
# changes. Then 4 background clients make 200 random transfers in both directions
# at once: no balance ever goes negative and the total stays what it was, with no
# retries and no locks.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where. Uses the keys example:{bank}:alice and
# example:{bank}:bob (one hash tag, so it works on a cluster too).
set -euo pipefail

cli() { redis-cli -h "${REDIS_HOST:-127.0.0.1}" -p "${REDIS_PORT:-6379}" "$@"; }
alice='example:{bank}:alice'
bob='example:{bank}:bob'

# transfer FROM TO AMOUNT: prints the reply (the new balances, or why it aborted).
transfer() {
    cli DOC.TXN 2 "$1" "$2" \
        CHECK 1 '$.balance' GE "$3" \
        INCR 1 '$.balance' "-$3" \
        INCR 2 '$.balance' "$3" | tr '\n' ' '
    echo
}
balances() {
    echo "  alice: $(cli DOC.GET "$alice" '$.balance'), bob: $(cli DOC.GET "$bob" '$.balance')"
}

cli DEL "$alice" "$bob" >/dev/null
cli DOC.SET "$alice" '$' '{"owner":"alice","balance":100}' >/dev/null
cli DOC.SET "$bob" '$' '{"owner":"bob","balance":20}' >/dev/null
echo "start:"; balances

echo "alice pays bob 30 -> $(transfer "$alice" "$bob" 30)"
balances
echo "bob pays alice 500 (he has 50) -> $(transfer "$bob" "$alice" 500)"
balances

echo "4 clients, 50 random transfers each, both directions, at the same time..."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pids=()
for client in 1 2 3 4; do
    (
        ok=0 aborted=0
        for _ in $(seq 50); do
            amount=$((RANDOM % 40 + 1))
            if ((RANDOM % 2)); then from=$alice to=$bob; else from=$bob to=$alice; fi
            if transfer "$from" "$to" "$amount" | grep -q ABORTED; then
                aborted=$((aborted + 1))
            else
                ok=$((ok + 1))
            fi
            # a reader between the writers: never negative, always 120 in total
            read -r a b <<<"$(cli DOC.MGET "$alice" "$bob" '$.balance' | tr '\n' ' ')"
            if ((a < 0 || b < 0 || a + b != 120)); then echo "BROKEN: alice $a bob $b" >&2; exit 1; fi
        done
        echo "$ok $aborted" >"$out/$client"
    ) &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || { echo "a client failed" >&2; exit 1; }; done
ok=0 aborted=0
for client in 1 2 3 4; do
    read -r o a <"$out/$client"
    ok=$((ok + o)) aborted=$((aborted + a))
done
echo "  $ok transfers committed, $aborted refused for lack of money"
balances
total=$(($(cli DOC.GET "$alice" '$.balance') + $(cli DOC.GET "$bob" '$.balance')))
echo "  total: $total (was 120); versions: alice $(cli DOC.VERSION "$alice"), bob $(cli DOC.VERSION "$bob")"
[ "$total" -eq 120 ] || { echo "unexpected: the total changed" >&2; exit 1; }
