#!/usr/bin/env bash
# unique_visitors.sh - count the unique visitors of a page.
#
# The race: 20 visitors at once GET the visitor list, append their id if absent, and
# SET it back: ids are lost, counted. atomicdoc: DOC.ADDTOSET page $.visitors <id>
# appends the id only if it is not already in the array (deep equality), in one
# command; DOC.LEN of the array is then the number of unique visitors, and a repeat
# visit adds nothing and does not move the version.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where; CLIENTS (default 20). Uses the keys
# example:page:home and example:page:home:string. Exits 1 if ADDTOSET loses a visitor.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
key=example:page:home plain=example:page:home:string

echo "-- race: $CLIENTS visitors GET the list, add their id, SET it back"
cli SET "$plain" "" >/dev/null
visit_with_get_set() {
  local list
  list=$(cli GET "$plain")
  case ",$list," in *",u$1,"*) ;; *) cli SET "$plain" "${list:+$list,}u$1" >/dev/null ;; esac
}
together "$CLIENTS" visit_with_get_set
seen=$(cli GET "$plain" | tr ',' '\n' | grep -c . || true)
echo "   $CLIENTS distinct visitors, $seen counted: $((CLIENTS - seen)) lost"

echo "-- atomicdoc: $CLIENTS visitors run DOC.ADDTOSET $key \$.visitors '\"u<i>\"', then all of them again"
cli DEL "$key" >/dev/null
cli DOC.SET "$key" '$' '{"url":"/","visitors":[]}' >/dev/null
visit() { cli DOC.ADDTOSET "$key" '$.visitors' "\"u$1\""; }
together "$CLIENTS" visit
first=$(sum_out)
version=$(cli DOC.VERSION "$key")
together "$CLIENTS" visit
again=$(sum_out)
unique=$(cli DOC.LEN "$key" '$.visitors')
echo "   first visits added $first, repeat visits added $again; $unique unique visitors (version $version, then $(cli DOC.VERSION "$key"))"
if [ "$unique" != "$CLIENTS" ] || [ "$first" != "$CLIENTS" ] || [ "$again" != 0 ] || [ "$(cli DOC.VERSION "$key")" != "$version" ]; then
  echo "unexpected: visitors lost or counted twice" >&2
  exit 1
fi
echo "   every visitor counted once: nothing lost"
