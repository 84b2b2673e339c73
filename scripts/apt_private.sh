# shellcheck shell=bash
# scripts/apt_private.sh - sourced by deps.sh and servers.sh: a private apt
# configuration (own sources, lists and download cache under build/) so we can
# read other Debian suites' indexes without touching the machine's apt setup.
#
# The archive is the one the machine already uses: the URI of the entry in
# /etc/apt that serves the running release (bookworm). Nothing here names a host.

# apt_mirror: prints "URI<TAB>keyring" of the machine's main Debian archive.
apt_mirror() {
  local codename f
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822 stanzas are separated by blank lines; take the one listing the release.
    awk -v rel="$codename" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uri = ""; key = ""; hit = 0; deb = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)      { split(substr($i, 6), u, " "); for (j in u) if (u[j] != "") { uri = u[j]; break } }
          if ($i ~ /^Signed-By:/) { key = substr($i, 11); gsub(/^ +| +$/, "", key) }
          if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
          if ($i ~ /^Suites:/)    { n = split(substr($i, 8), s, " "); for (j = 1; j <= n; j++) if (s[j] == rel) hit = 1 }
        }
        if (hit && deb && uri != "") { print uri "\t" key; exit }
      }' "$f"
  done | head -n 1 | grep . && return 0
  if [ -f /etc/apt/sources.list ]; then
    awk -v rel="$codename" '$1 == "deb" && $3 == rel { print $2 "\t"; exit }' /etc/apt/sources.list | grep .
    return
  fi
  return 1
}

# apt_private_init DIR STANZA...: writes a sources file in DIR with one stanza per
# argument ("TYPE SUITE", e.g. "deb-src trixie"), runs apt-get update into DIR's
# own lists, and sets APT_OPTS (an array) for later apt-get/apt-cache calls.
apt_private_init() {
  local dir=$1; shift
  local line uri key
  line=$(apt_mirror) || { echo "apt_private: no Debian archive found in /etc/apt" >&2; return 1; }
  uri=${line%%$'\t'*}; key=${line#*$'\t'}
  mkdir -p "$dir/sources" "$dir/lists/partial" "$dir/archives/partial"
  : > "$dir/sources/private.sources"
  local s
  for s in "$@"; do
    {
      echo "Types: ${s%% *}"
      echo "URIs: $uri"
      echo "Suites: ${s#* }"
      echo "Components: main"
      [ -n "$key" ] && echo "Signed-By: $key"
      echo
    } >> "$dir/sources/private.sources"
  done
  APT_OPTS=(-o "Dir::Etc::SourceParts=$dir/sources" -o "Dir::Etc::SourceList=/dev/null"
            -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache::archives=$dir/archives"
            -o "Dir::Cache=$dir/cache" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
  mkdir -p "$dir/cache"
  APT_MIRROR=$uri
  apt-get "${APT_OPTS[@]}" update -qq >/dev/null
}

# apt_fetch_orig PACKAGE ORIGNAME DEST: downloads the upstream tarball ORIGNAME
# (e.g. redis_8.0.2.orig.tar.gz) that the configured Sources index lists for
# source package PACKAGE into DEST, checking its SHA-256 against the index.
apt_fetch_orig() {
  local pkg=$1 name=$2 dest=$3
  local info dirpath sum
  info=$(apt-cache "${APT_OPTS[@]}" showsrc --only-source "$pkg")
  dirpath=$(printf '%s\n' "$info" | awk '/^Directory:/ { print $2; exit }')
  sum=$(printf '%s\n' "$info" | awk -v n="$name" '
    /^Checksums-Sha256:/ { on = 1; next }
    /^[^ ]/ { on = 0 }
    on && $3 == n { print $1; exit }')
  if [ -z "$dirpath" ] || [ -z "$sum" ]; then
    echo "apt_private: $name is not in the Sources index of $pkg (found: $(printf '%s\n' "$info" | grep -o "${pkg}_[^ ]*orig[^ ]*" | sort -u | tr '\n' ' '))" >&2
    return 1
  fi
  mkdir -p "$(dirname "$dest")"
  # apt's own downloader checks the hash it is given, and we check again.
  /usr/lib/apt/apt-helper "${APT_OPTS[@]}" download-file "$APT_MIRROR/$dirpath/$name" "$dest.part" \
    "SHA256:$sum" >/dev/null
  if [ "$(sha256sum "$dest.part" | cut -d' ' -f1)" != "$sum" ]; then
    echo "apt_private: $name: SHA-256 differs from the Sources index" >&2
    rm -f "$dest.part"
    return 1
  fi
  mv "$dest.part" "$dest"
}
