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
# changes. The race: 20 clients making transfers by GETting both balances, checking
# and SETting them back create and destroy money (the total drifts, balances go
# negative). With DOC.TXN the same 20 clients never break either invariant.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where; CLIENTS (default 20). Uses the keys
# example:{bank}:alice, example:{bank}:bob (one hash tag, so it works on a cluster
# too) and their :string twins. Exits 1 if a DOC.TXN run breaks an invariant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
alice='example:{bank}:alice' bob='example:{bank}:bob'
EACH=10

# transfer FROM TO AMOUNT: prints the reply (the new balances, or why it aborted).
transfer() {
  cli DOC.TXN 2 "$1" "$2" CHECK 1 '$.balance' GE "$3" INCR 1 '$.balance' "-$3" INCR 2 '$.balance' "$3" | tr '\n' ' '
  echo
}
balances() { echo "   alice: $(cli DOC.GET "$alice" '$.balance'), bob: $(cli DOC.GET "$bob" '$.balance')"; }

cli DEL "$alice" "$bob" >/dev/null
cli DOC.SET "$alice" '$' '{"owner":"alice","balance":100}' >/dev/null
cli DOC.SET "$bob" '$' '{"owner":"bob","balance":20}' >/dev/null
echo "start:"; balances
echo "alice pays bob 30 -> $(transfer "$alice" "$bob" 30)"
echo "bob pays alice 500 (he has 50) -> $(transfer "$bob" "$alice" 500)"
balances

echo "-- race: $CLIENTS clients x $EACH transfers with GET, check, SET, SET (total 1000)"
cli SET "$alice:string" 500 >/dev/null
cli SET "$bob:string" 500 >/dev/null
transfer_with_get_set() {
  local i a b amount from to
  for i in $(seq "$EACH"); do
    amount=$((RANDOM % 50 + 1))
    if ((RANDOM % 2)); then from=$alice:string to=$bob:string; else from=$bob:string to=$alice:string; fi
    a=$(cli GET "$from"); b=$(cli GET "$to")
    if ((a >= amount)); then cli SET "$from" $((a - amount)) >/dev/null; cli SET "$to" $((b + amount)) >/dev/null; fi
  done
}
together "$CLIENTS" transfer_with_get_set
a=$(cli GET "$alice:string") b=$(cli GET "$bob:string")
echo "   alice $a, bob $b: total $((a + b)), off by $((a + b - 1000)) (money made or destroyed)"

echo "-- atomicdoc: $CLIENTS clients x $EACH DOC.TXN transfers (total 1000)"
cli DOC.SET "$alice" '$' '{"owner":"alice","balance":500}' >/dev/null
cli DOC.SET "$bob" '$' '{"owner":"bob","balance":500}' >/dev/null
transfer_with_txn() {
  local i amount
  for i in $(seq "$EACH"); do   # one connection per client: the TXNs fed as a script
    amount=$((RANDOM % 50 + 1))
    if ((RANDOM % 2)); then
      echo "DOC.TXN 2 $alice $bob CHECK 1 \$.balance GE $amount INCR 1 \$.balance -$amount INCR 2 \$.balance $amount"
    else
      echo "DOC.TXN 2 $bob $alice CHECK 1 \$.balance GE $amount INCR 1 \$.balance -$amount INCR 2 \$.balance $amount"
    fi
  done | cli | grep -c ABORTED || true
}
together "$CLIENTS" transfer_with_txn
a=$(cli DOC.GET "$alice" '$.balance') b=$(cli DOC.GET "$bob" '$.balance')
echo "   alice $a, bob $b: total $((a + b)); $(sum_out) transfers refused for lack of money"
if [ $((a + b)) != 1000 ] || ((a < 0 || b < 0)); then
  echo "unexpected: the total changed or a balance went negative" >&2
  exit 1
fi
echo "   total conserved, no balance below 0, no retries"
