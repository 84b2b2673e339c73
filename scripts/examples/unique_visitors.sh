#!/usr/bin/env bash
# unique_visitors.sh - count the unique visitors of a page.
#
# Every visit runs DOC.ADDTOSET page $.visitors <id>: the id is appended only if it
# is not already in the array (deep equality), and the reply says whether it was
# added. DOC.LEN of the array is then the number of unique visitors. A visit that
# adds nothing does not change the document's version.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where. Uses the key example:page:home.
set -euo pipefail

cli() { redis-cli -h "${REDIS_HOST:-127.0.0.1}" -p "${REDIS_PORT:-6379}" "$@"; }
key=example:page:home

cli DEL "$key" >/dev/null
cli DOC.SET "$key" '$' '{"url":"/","visitors":[]}' >/dev/null

for visitor in u1 u2 u1 u3 u2 u1 u4; do
    added=$(cli DOC.ADDTOSET "$key" '$.visitors' "\"$visitor\"")
    if [ "$added" = 1 ]; then echo "visit by $visitor: new visitor"; else echo "visit by $visitor: seen before"; fi
done
# several ids in one command: each is added at most once, even if given twice
echo "u5 u4 u5 in one command: $(cli DOC.ADDTOSET "$key" '$.visitors' '"u5"' '"u4"' '"u5"') added"

unique=$(cli DOC.LEN "$key" '$.visitors')
echo "visitors: $(cli DOC.GET "$key" '$.visitors') (version $(cli DOC.VERSION "$key"))"
echo "unique visitors: $unique"
if [ "$unique" -ne 5 ]; then
    echo "unexpected: 5 distinct ids, $unique counted" >&2
    exit 1
fi
