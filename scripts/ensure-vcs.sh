#!/usr/bin/env bash
# Prints the path of hg (Mercurial) for the direct-mode tests, installing Debian's mercurial
# when it is missing (apt: the package cache is outside the clone).
set -euo pipefail
if [ -n "${AGORA_HG:-}" ] && [ -x "$AGORA_HG" ]; then echo "$AGORA_HG"; exit 0; fi
if ! command -v hg >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  { $sudo apt-get install -y -qq mercurial ||
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq mercurial; }; } >&2
fi
command -v hg
