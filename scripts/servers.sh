#!/usr/bin/env bash
# scripts/servers.sh - the four servers atomicdoc supports, for `make test` and
# `make run SERVER=...`, kept under build/servers/ (a second run finds them there
# and does nothing):
#
#   redis7     Debian 12's /usr/bin/redis-server (7.0), installed by deps.sh
#   redis8     Redis 8.0.2, built from the upstream tarball Debian trixie's Sources list
#   valkey8.0  Valkey 8.0.1, the binary of Debian's bookworm-backports package,
#              extracted under build/servers/valkey8.0 (never installed)
#   valkey8.1  Valkey 8.1.1, built from the upstream tarball Debian trixie's Sources list
#
# Usage:
#   servers.sh [NAME ...]     make sure these servers exist (default: all four;
#                             names separated by spaces or commas)
#   servers.sh path NAME      print the server binary of NAME (after making sure)
#   servers.sh header DEST    write redismodule.h of the Redis 8.0.2 tarball to DEST
#
# Indexes come through a private apt configuration (apt_private.sh) from the
# archive the machine already uses; tarballs are checked against the SHA-256 the
# Sources index gives, .debs by apt itself. Builds: `make -j2 BUILD_TLS=no` of the
# server binary alone, jemalloc as upstream ships it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/apt_private.sh

ALL="redis7 redis8 valkey8.0 valkey8.1"
REDIS8_ORIG=redis_8.0.2.orig.tar.gz
VALKEY81_ORIG=valkey_8.1.1+dfsg1.orig.tar.xz
VALKEY80_DEB_VERSION=8.0.1+dfsg1-1~bpo12+1
JOBS=${JOBS:-2}

ROOT=$(pwd)/build/servers
DL=$ROOT/dl
APTDIR=$ROOT/apt

binary_of() {
  case "$1" in
    redis7)    echo /usr/bin/redis-server ;;
    redis8)    echo "$ROOT/redis8/bin/redis-server" ;;
    valkey8.0) echo "$ROOT/valkey8.0/bin/valkey-server" ;;
    valkey8.1) echo "$ROOT/valkey8.1/bin/valkey-server" ;;
    *) echo "servers.sh: unknown server '$1' (known: $ALL)" >&2; return 1 ;;
  esac
}

apt_ready=""
apt_ready() {
  [ -n "$apt_ready" ] && return 0
  echo "servers: reading the trixie Sources and bookworm-backports Packages indexes" >&2
  apt_private_init "$APTDIR" "deb-src trixie" "deb bookworm-backports"
  apt_ready=1
}

# orig PACKAGE NAME: the verified tarball's path (downloaded once).
orig() {
  local dest=$DL/$2
  if [ ! -s "$dest" ]; then
    apt_ready
    echo "servers: downloading $2" >&2
    apt_fetch_orig "$1" "$2" "$dest"
  fi
  echo "$dest"
}

# build NAME TARBALL PROGRAM: builds PROGRAM (redis-server / valkey-server) from
# the tarball and installs it as build/servers/NAME/bin/PROGRAM.
build() {
  local name=$1 tarball=$2 prog=$3
  local src=$ROOT/src/$name log=$ROOT/$name-build.log
  rm -rf "$src"; mkdir -p "$src" "$ROOT/$name/bin"
  tar -xf "$tarball" -C "$src" --strip-components=1
  echo "servers: building $name ($prog, make -j$JOBS; log: $log)" >&2
  # GIT_CEILING_DIRECTORIES: the build stamps the git commit it finds around
  # it; ours (the tarball has no .git) would be a lie in INFO server.
  if ! GIT_CEILING_DIRECTORIES=$ROOT/src make -C "$src/src" -j"$JOBS" BUILD_TLS=no "$prog" \
       >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "servers: building $name failed" >&2
    return 1
  fi
  cp "$src/src/$prog" "$ROOT/$name/bin/$prog.tmp"
  mv "$ROOT/$name/bin/$prog.tmp" "$ROOT/$name/bin/$prog"
  rm -rf "$src"
}

# The bookworm-backports binary: valkey-tools holds the program, valkey-server
# only names it; both are extracted, the program copied under its server name.
extract_valkey80() {
  apt_ready
  local d=$ROOT/valkey8.0 pkgdir
  pkgdir=$DL/valkey8.0
  rm -rf "$pkgdir" "$d"; mkdir -p "$pkgdir" "$d/root" "$d/bin"
  echo "servers: downloading valkey-server $VALKEY80_DEB_VERSION" >&2
  (cd "$pkgdir" && apt-get "${APT_OPTS[@]}" download -qq \
     "valkey-server=$VALKEY80_DEB_VERSION" "valkey-tools=$VALKEY80_DEB_VERSION" >/dev/null)
  local deb
  for deb in "$pkgdir"/*.deb; do dpkg-deb -x "$deb" "$d/root"; done
  cp "$(readlink -f "$d/root/usr/bin/valkey-server")" "$d/bin/valkey-server.tmp"
  mv "$d/bin/valkey-server.tmp" "$d/bin/valkey-server"
}

ensure() {
  local name=$1 bin
  bin=$(binary_of "$name") || return 1
  [ -x "$bin" ] && return 0
  # One fetch or build at a time: a second run waits, then finds the result.
  mkdir -p "$ROOT"
  exec 9>"$ROOT/.lock"
  flock 9
  [ -x "$bin" ] && { exec 9>&-; return 0; }
  case "$name" in
    redis7)    echo "servers: $bin missing: run scripts/deps.sh" >&2; return 1 ;;
    redis8)    build redis8 "$(orig redis "$REDIS8_ORIG")" redis-server ;;
    valkey8.1) build valkey8.1 "$(orig valkey "$VALKEY81_ORIG")" valkey-server ;;
    valkey8.0) extract_valkey80 ;;
  esac
  exec 9>&-
  "$bin" --version >&2
}

case "${1:-}" in
  path)
    ensure "$2"
    binary_of "$2"
    ;;
  header)
    tarball=$(orig redis "$REDIS8_ORIG")
    member=$(tar -tf "$tarball" | grep -E '^[^/]+/src/redismodule\.h$' | head -n 1)
    mkdir -p "$(dirname "$2")"
    tar -xf "$tarball" -O "$member" > "$2.tmp"
    mv "$2.tmp" "$2"
    ;;
  *)
    list="${*:-$ALL}"
    for s in ${list//,/ }; do ensure "$s"; done
    ;;
esac
