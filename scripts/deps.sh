#!/usr/bin/env bash
# Installs what atomicdoc needs to build and test, from Debian's packages, and
# fetches redismodule.h from Debian trixie's `redis` source package into build/include.
# Quiet and fast when everything is already present. Run as root (or via sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS="build-essential pkg-config redis-server redis-tools libhiredis-dev libcriterion-dev
python3-redis clang libclang-rt-14-dev clang-format dpkg-dev xz-utils"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing="$missing $p"
done

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

if [ -n "$missing" ]; then
  echo "deps: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# A Debian redis-server package starts a service on 6379 when installed; our
# `make run` wants that port, so stop it if a service manager started it.
if [ -n "$missing" ] && command -v service >/dev/null 2>&1; then
  $SUDO service redis-server stop >/dev/null 2>&1 || true
fi

# redismodule.h: in no binary package. We build against the newest server we
# support, so the header comes from Debian trixie's `redis` 8.0 source package
# (its upstream tarball, checked against trixie's Sources index, through a private
# apt configuration: scripts/servers.sh). The module checks at run time for every
# API call an older server lacks (RMAPI_FUNC_SUPPORTED). A header of an older
# source package (no RedisModule_AddACLCategory) is replaced.
hdr=build/include/redismodule.h
if [ ! -s "$hdr" ] || ! grep -q 'RedisModule_AddACLCategory' "$hdr"; then
  echo "deps: fetching redismodule.h from the Redis 8.0 tarball of Debian trixie's redis source package"
  bash scripts/servers.sh header "$hdr"
fi
