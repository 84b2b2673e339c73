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
# Needs a redis-server with atomicdoc loaded. REDIS_HOST (default 127.0.0.1) and
# REDIS_PORT (default 6379) say where. Uses the key example:profile:7.
set -euo pipefail

cli() { redis-cli -h "${REDIS_HOST:-127.0.0.1}" -p "${REDIS_PORT:-6379}" "$@"; }
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
