#!/usr/bin/env bash
# book_seat.sh - two buyers try to book seat 1A at the same moment.
#
# The seat document starts with "claimedBy": null. Each buyer, in its own background
# subshell, runs DOC.CAS: set claimedBy to my name only if it is still null. The
# compare and the swap are one atomic command, so exactly one buyer gets 1 (booked)
# and the other gets 0 (taken); the seat holds the winner's name.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where. Uses the key example:seat:1A.
set -euo pipefail

cli() { redis-cli -h "${REDIS_HOST:-127.0.0.1}" -p "${REDIS_PORT:-6379}" "$@"; }
key=example:seat:1A

cli DEL "$key" >/dev/null
cli DOC.SET "$key" '$' '{"seat":"1A","claimedBy":null}' >/dev/null
echo "seat before: $(cli DOC.GET "$key")"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for buyer in alice bob; do
    (
        got=$(cli DOC.CAS "$key" '$.claimedBy' null "\"$buyer\"")
        echo "$got" >"$out/$buyer"
        if [ "$got" = 1 ]; then echo "$buyer: booked"; else echo "$buyer: already taken"; fi
    ) &
done
wait

winners=$(($(cat "$out/alice") + $(cat "$out/bob")))
echo "seat after:  $(cli DOC.GET "$key") (version $(cli DOC.VERSION "$key"))"
if [ "$winners" -ne 1 ]; then
    echo "unexpected: $winners buyers booked the seat" >&2
    exit 1
fi
echo "exactly one buyer got seat 1A"
