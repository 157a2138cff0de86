#!/usr/bin/env bash
# Prints the path of a pgbouncer for the tests behind a pooler. Uses $AGORA_PGBOUNCER, else one
# on PATH (or /usr/sbin), else Debian's pgbouncer package unpacked without root (`apt-get
# download` and `dpkg -x`: none of the package's service set-up runs) into a cache outside the
# clone ($AGORA_CACHE, default ~/.cache/agora) so fresh clones reuse it, together with the
# libraries it links that the machine lacks (libc-ares2 on a plain Debian 12). What it prints
# then is $AGORA_CACHE/pgbouncer/bin/pgbouncer: the binary itself, or a wrapper that points
# LD_LIBRARY_PATH at those libraries. Without root and without apt's package lists, the lists are
# fetched into the cache first (apt-get update with its own directories).
set -euo pipefail
if [ -n "${AGORA_PGBOUNCER:-}" ] && [ -x "$AGORA_PGBOUNCER" ]; then echo "$AGORA_PGBOUNCER"; exit 0; fi
for p in "$(command -v pgbouncer 2>/dev/null || true)" /usr/sbin/pgbouncer; do
  if [ -n "$p" ] && [ -x "$p" ]; then echo "$p"; exit 0; fi
done
root="${AGORA_CACHE:-$HOME/.cache/agora}/pgbouncer"
entry="$root/bin/pgbouncer"
if [ -x "$entry" ] && "$entry" --version >/dev/null 2>&1; then echo "$entry"; exit 0; fi

mkdir -p "$root"
work=$(mktemp -d "$root/.unpack.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs" "$work/tree"

# apt's own lists when they are there; else lists of our own in the cache (no root needed).
apt_opts=()
if ! apt-cache show pgbouncer >/dev/null 2>&1; then
  mkdir -p "$root/apt/lists/partial" "$root/apt/cache/archives/partial"
  apt_opts=(-o "Dir::State::Lists=$root/apt/lists" -o "Dir::Cache=$root/apt/cache"
    -o Debug::NoLocking=1)
  apt-get "${apt_opts[@]}" update -qq >&2
fi

# pgbouncer, and each library it depends on that no alternative of is installed. The other
# dependencies (postgresql-common, lsb-base, init-system-helpers) are for the service only.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
depends=$(apt-cache "${apt_opts[@]}" show --no-all-versions pgbouncer |
  sed -n 's/^\(Pre-\)\{0,1\}Depends: //p' | tr ',' '\n')
wanted=(pgbouncer)
while IFS= read -r group; do
  [ -n "${group// /}" ] || continue
  first="" satisfied=""
  IFS='|' read -r -a alternatives <<<"$group"
  for alt in "${alternatives[@]}"; do
    name=$(echo "$alt" | sed 's/([^)]*)//; s/:any//' | tr -d ' ')
    [ -n "$first" ] || first=$name
    installed "$name" && satisfied=1
  done
  case $first in lib*) [ -n "$satisfied" ] || wanted+=("$first") ;; esac
done <<<"$depends"
echo "ensure-pgbouncer: unpacking ${wanted[*]} into $root" >&2
# As root apt downloads as its _apt user, who cannot write to a private directory: it would say so.
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)
(cd "$work/debs" && apt-get "${apt_opts[@]}" download -qq "${wanted[@]}") >&2
for deb in "$work/debs"/*.deb; do dpkg -x "$deb" "$work/tree"; done
[ -x "$work/tree/usr/sbin/pgbouncer" ] || { echo "ensure-pgbouncer: no usr/sbin/pgbouncer in the package" >&2; exit 1; }

rm -rf "$root/tree" "$root/bin"
mv "$work/tree" "$root/tree"
mkdir -p "$root/bin"
libs=$(find "$root/tree" \( -name '*.so' -o -name '*.so.*' \) \( -type f -o -type l \) -printf '%h\n' |
  sort -u | paste -sd: -)
if [ -z "$libs" ]; then
  ln -s "$root/tree/usr/sbin/pgbouncer" "$entry"
else
  cat >"$entry" <<EOF
#!/bin/sh
# Debian's pgbouncer unpacked by scripts/ensure-pgbouncer.sh, with the libraries it brought.
LD_LIBRARY_PATH="$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$root/tree/usr/sbin/pgbouncer" "\$@"
EOF
  chmod +x "$entry"
fi
if ! "$entry" --version >/dev/null 2>&1; then
  echo "ensure-pgbouncer: the unpacked pgbouncer does not run:" >&2
  "$entry" --version >&2 || true
  LD_LIBRARY_PATH="$libs" ldd "$root/tree/usr/sbin/pgbouncer" | grep 'not found' >&2 || true
  rm -rf "$root/bin"
  exit 1
fi
echo "$entry"
