#!/usr/bin/env bash
# Prints the path of hg (Mercurial) for the direct-mode tests, installing Debian's mercurial,
# subversion and fossil when one is missing (apt: the package cache is outside the clone). The
# tests find svn, svnadmin, svnserve and fossil on PATH.
set -euo pipefail
if [ -n "${AGORA_HG:-}" ] && [ -x "$AGORA_HG" ] && command -v svnserve >/dev/null 2>&1 &&
  command -v fossil >/dev/null 2>&1; then
  echo "$AGORA_HG"; exit 0
fi
missing=()
command -v hg >/dev/null 2>&1 || missing+=(mercurial)
{ command -v svn >/dev/null 2>&1 && command -v svnserve >/dev/null 2>&1; } || missing+=(subversion)
command -v fossil >/dev/null 2>&1 || missing+=(fossil)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  { $sudo apt-get install -y -qq "${missing[@]}" ||
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}"; }; } >&2
fi
command -v hg
