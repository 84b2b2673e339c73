#!/usr/bin/env bash
# outbox.sh - the transactional outbox: debit an account and queue a task for a
# worker in one DOC.TXN, so there is never a debit without its task (or a task
# without its debit), then undo it with a compensation TXN.
#
#   debit:        CHECK 1 $.balance GE 30, INCR 1 $.balance -30,
#                 PUSH 2 $.tasks {"id":"t1","type":"charge","amount":30,"state":"pending"}
#   compensation: CHECK 2 $ MATCH {"tasks":{"$elemMatch":{"id":"t1","state":"pending"}}},
#                 INCR 1 $.balance 30,
#                 UPDATE 2 {"$set":{"tasks.$[t].state":"refunded"}} ARRAYFILTERS [{"t.id":"t1"}]
#
# The compensation refunds only a task that is still pending, so running it twice
# refunds once. A debit the account cannot afford queues nothing.
#
# Then 20 clients debit 5 at once. Done from the application (GET the balance, SET it
# lower, RPUSH the task) debits are lost while their tasks are queued: balance plus
# queued amounts no longer equals what the account had. With the TXN it always does.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where; CLIENTS (default 20). Uses the keys
# example:{shop}:acct, example:{shop}:outbox and their :string twins. Exits 1 if the
# TXN ever lets a debit and its task part.
# shellcheck disable=SC2016  # $-words in single quotes are JSON paths and operators
set -euo pipefail
. "$(dirname "$0")/lib.sh"
acct='example:{shop}:acct'
outbox='example:{shop}:outbox'
show() {
    echo "  account: $(cli DOC.GET "$acct")"
    echo "  outbox:  $(cli DOC.GET "$outbox")"
}
oneline() { tr '\n' ' '; echo; }

# debit ID AMOUNT
debit() {
    cli DOC.TXN 2 "$acct" "$outbox" \
        CHECK 1 '$.balance' GE "$2" \
        INCR 1 '$.balance' "-$2" \
        PUSH 2 '$.tasks' "{\"id\":\"$1\",\"type\":\"charge\",\"amount\":$2,\"state\":\"pending\"}" | oneline
}
# refund ID AMOUNT
refund() {
    cli DOC.TXN 2 "$acct" "$outbox" \
        CHECK 2 '$' MATCH "{\"tasks\":{\"\$elemMatch\":{\"id\":\"$1\",\"state\":\"pending\"}}}" \
        INCR 1 '$.balance' "$2" \
        UPDATE 2 '{"$set":{"tasks.$[t].state":"refunded"}}' ARRAYFILTERS "[{\"t.id\":\"$1\"}]" | oneline
}

cli DEL "$acct" "$outbox" >/dev/null
cli DOC.SET "$acct" '$' '{"owner":"alice","balance":50}' >/dev/null
cli DOC.SET "$outbox" '$' '{"tasks":[]}' >/dev/null
echo "start:"; show

echo "debit 30 with task t1 -> $(debit t1 30)"
show
echo "debit 40 with task t2 (only 20 left) -> $(debit t2 40)"
echo "  nothing was debited and no task was queued:"
show

echo "the charge failed downstream: compensate t1 -> $(refund t1 30)"
show
echo "the compensation delivered twice -> $(refund t1 30)"
echo "  refunded once only:"
show
[ "$(cli DOC.GET "$acct" '$.balance')" = 50 ] || { echo "unexpected balance" >&2; exit 1; }

echo "-- race: $CLIENTS clients debit 5 with GET + SET, then RPUSH the task (account starts at 1000)"
cli DEL "$acct:string" "$outbox:string" >/dev/null
cli SET "$acct:string" 1000 >/dev/null
debit_with_get_set() {
  local b
  b=$(cli GET "$acct:string")
  cli SET "$acct:string" $((b - 5)) >/dev/null
  cli RPUSH "$outbox:string" "t$1:5" >/dev/null
}
together "$CLIENTS" debit_with_get_set
b=$(cli GET "$acct:string") queued=$(( $(cli LLEN "$outbox:string") * 5 ))
echo "   balance $b + queued $queued = $((b + queued)), not 1000: $(((b + queued - 1000) / 5)) debits lost"

echo "-- atomicdoc: $CLIENTS clients run the debit TXN at once (account starts at 1000)"
cli DOC.SET "$acct" '$' '{"owner":"alice","balance":1000}' >/dev/null
cli DOC.SET "$outbox" '$' '{"tasks":[]}' >/dev/null
debit_all() { debit "t$1" 5 >/dev/null; }
together "$CLIENTS" debit_all
b=$(cli DOC.GET "$acct" '$.balance') n=$(cli DOC.LEN "$outbox" '$.tasks')
echo "   balance $b + queued $((n * 5)) = $((b + n * 5)) ($n tasks)"
if [ $((b + n * 5)) != 1000 ] || [ "$n" != "$CLIENTS" ]; then
  echo "unexpected: a debit and its task parted" >&2
  exit 1
fi
echo "   every debit has its task: nothing lost"
