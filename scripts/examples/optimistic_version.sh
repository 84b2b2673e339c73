#!/usr/bin/env bash
# optimistic_version.sh - optimistic concurrency with document versions.
#
# Two editors read the same profile with DOC.GET ... WITHVERSION, change it in the
# application, and write it back with
#
#   DOC.TXN 1 key  CHECK 1 VERSION <the version they read>  SET 1 $ <their document>
#
# The first write wins and moves the version; the second is refused (ABORTED op 1:
# CHECK VERSION failed) instead of silently overwriting the first one's change. The
# loser reads again, reapplies its change to the fresh document, and succeeds.
#
# Then 20 editors at once each add their own tag. With GET + SET (no version check)
# the last writer silently drops the tags of everyone who wrote since its read:
# counted. With CHECK VERSION a stale write is refused, and the editor reads again and
# reapplies its change (optimistic concurrency retries by design: here the retry is the
# application's, never the database's), so all 20 tags end up there.
#
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where; CLIENTS (default 20). Uses the keys
# example:profile:7, example:profile:8 and example:profile:8:string. Exits 1 if a
# version-checked change is lost.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
key='example:profile:7'
oneline() { tr '\n' ' '; echo; }

# read_doc: sets VERSION and DOC from one DOC.GET WITHVERSION (one instant).
read_doc() {
    local reply
    reply=$(cli DOC.GET "$key" WITHVERSION)
    VERSION=$(sed -n 1p <<<"$reply")
    DOC=$(sed -n 2p <<<"$reply")
}
# write_if VERSION DOC
write_if() { cli DOC.TXN 1 "$key" CHECK 1 VERSION "$1" SET 1 '$' "$2" | oneline; }

cli DEL "$key" >/dev/null
cli DOC.SET "$key" '$' '{"name":"Ann","email":"ann@old.example","tags":[]}' >/dev/null

read_doc; a_version=$VERSION a_doc=$DOC
read_doc; b_version=$VERSION b_doc=$DOC
echo "editor A read version $a_version: $a_doc"
echo "editor B read version $b_version: $b_doc"

a_doc=${a_doc/ann@old.example/ann@new.example}   # A changes the email
b_doc=${b_doc/\"tags\":[]/\"tags\":[\"vip\"]}    # B adds a tag
echo "A writes if still version $a_version -> $(write_if "$a_version" "$a_doc")"
echo "B writes if still version $b_version -> $(write_if "$b_version" "$b_doc")"

read_doc
echo "B reads again: version $VERSION: $DOC"
b_doc=${DOC/\"tags\":[]/\"tags\":[\"vip\"]}
echo "B writes if still version $VERSION -> $(write_if "$VERSION" "$b_doc")"
echo "final: $(cli DOC.GET "$key" WITHVERSION | oneline)"
if [ "$(cli DOC.GET "$key" '$.email')" != '"ann@new.example"' ] || [ "$(cli DOC.GET "$key" '$.tags[0]')" != '"vip"' ]; then
    echo "unexpected: a change was lost" >&2
    exit 1
fi
echo "both changes are there; no write was lost"

seed='{"name":"Ann","tags":["seed"]}'
echo "-- race: $CLIENTS editors GET the profile, add their tag, SET it back"
cli SET 'example:profile:8:string' "$seed" >/dev/null
tag_with_get_set() {
  local doc
  doc=$(cli GET 'example:profile:8:string')
  cli SET 'example:profile:8:string' "${doc/\"tags\":[/\"tags\":[\"t$1\",}" >/dev/null
}
together "$CLIENTS" tag_with_get_set
kept=$(cli GET 'example:profile:8:string' | grep -o '"t[0-9]*"' | wc -l)
echo "   $CLIENTS tags added, $kept kept: $((CLIENTS - kept)) changes silently lost"

echo "-- atomicdoc: $CLIENTS editors read WITHVERSION, add their tag, write with CHECK VERSION (reread when refused)"
cli DEL 'example:profile:8' >/dev/null
cli DOC.SET 'example:profile:8' '$' "$seed" >/dev/null
tag_with_version() {
  local reply version doc refused=0
  for _ in $(seq 1000); do
    reply=$(cli DOC.GET 'example:profile:8' WITHVERSION)
    version=$(sed -n 1p <<<"$reply"); doc=$(sed -n 2p <<<"$reply")
    doc=${doc/\"tags\":[/\"tags\":[\"t$1\",}
    if cli DOC.TXN 1 'example:profile:8' CHECK 1 VERSION "$version" SET 1 '$' "$doc" | grep -q ABORTED; then
      refused=$((refused + 1))
    else
      echo "$refused"; return 0
    fi
  done
  return 1
}
together "$CLIENTS" tag_with_version
kept=$(cli DOC.GET 'example:profile:8' '$.tags' | grep -o '"t[0-9]*"' | wc -l)
echo "   $kept of $CLIENTS tags kept; $(sum_out) stale writes were refused and redone (version $(cli DOC.VERSION 'example:profile:8'))"
if [ "$kept" != "$CLIENTS" ]; then
  echo "unexpected: $((CLIENTS - kept)) version-checked changes lost" >&2
  exit 1
fi
echo "   every editor's change is there: nothing lost"
