#!/usr/bin/env bash
# book_seat.sh - 20 buyers try to book seat 1A at the same moment.
#
# The race: each buyer GETs the seat, sees it free, and SETs it to their name; every
# buyer who read before the first SET believes they booked it: double bookings,
# counted. atomicdoc: DOC.CAS seat $.claimedBy null "<buyer>" compares and swaps in one
# command, so exactly one buyer gets 1 and the others 0.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where; CLIENTS (default 20) how many buyers. Uses the
# keys example:seat:1A and example:seat:1A:string. Exits 1 unless exactly one buyer
# wins with DOC.CAS.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
key=example:seat:1A plain=example:seat:1A:string

echo "-- race: $CLIENTS buyers GET the seat and SET it if it is free"
cli SET "$plain" free >/dev/null
book_with_get_set() {
  if [ "$(cli GET "$plain")" = free ]; then cli SET "$plain" "buyer-$1" >/dev/null; echo 1; else echo 0; fi
}
together "$CLIENTS" book_with_get_set
echo "   $(sum_out) buyers were told they booked seat 1A; it went to $(cli GET "$plain")"

echo "-- atomicdoc: $CLIENTS buyers run DOC.CAS $key \$.claimedBy null '\"buyer-<i>\"'"
cli DEL "$key" >/dev/null
cli DOC.SET "$key" '$' '{"seat":"1A","claimedBy":null}' >/dev/null
book() { cli DOC.CAS "$key" '$.claimedBy' null "\"buyer-$1\""; }
together "$CLIENTS" book
winners=$(sum_out)
echo "   $winners buyer booked it: $(cli DOC.GET "$key") (version $(cli DOC.VERSION "$key"))"
if [ "$winners" != 1 ]; then
  echo "unexpected: $winners buyers booked the seat" >&2
  exit 1
fi
echo "   exactly one buyer got seat 1A"
