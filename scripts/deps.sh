#!/usr/bin/env bash
# Installs what atomicdoc needs to build and test, from Debian's packages, and
# fetches redismodule.h from Debian's `redis` source package into build/include.
# Quiet and fast when everything is already present. Run as root (or via sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS="build-essential pkg-config redis-server redis-tools libhiredis-dev libcriterion-dev
python3-redis clang libclang-rt-14-dev dpkg-dev xz-utils"

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

# redismodule.h: in no binary package, so take it from the source package of the
# very redis-server we run, through a private apt configuration that adds deb-src.
hdr=build/include/redismodule.h
if [ ! -s "$hdr" ]; then
  echo "deps: fetching redismodule.h from the redis source package"
  work=$(pwd)/build/apt-src
  rm -rf "$work"; mkdir -p "$work/sources" "$work/lists/partial" "$work/dl" build/include
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    sed 's/^Types:.*/Types: deb-src/' "$f" > "$work/sources/$(basename "$f")"
  done
  if [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > "$work/sources/list.list" || true
    [ -s "$work/sources/list.list" ] || rm -f "$work/sources/list.list"
  fi
  opts=(-o "Dir::Etc::SourceParts=$work/sources" -o "Dir::Etc::SourceList=/dev/null"
        -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::archives=$work/dl")
  apt-get "${opts[@]}" update -qq >/dev/null
  ver=$(dpkg-query -W -f='${Version}' redis-server 2>/dev/null || true)
  (cd "$work/dl" && { apt-get "${opts[@]}" source --download-only -qq "redis=$ver" >/dev/null 2>&1 \
                      || apt-get "${opts[@]}" source --download-only -qq redis >/dev/null; })
  tarball=$(ls "$work"/dl/redis_*.orig.tar.* | head -n 1)
  member=$(tar -tf "$tarball" | grep -E '^[^/]+/src/redismodule\.h$' | head -n 1)
  tar -xf "$tarball" -O "$member" > "$hdr.tmp"
  mv "$hdr.tmp" "$hdr"
  rm -rf "$work"
fi
