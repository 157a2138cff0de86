#!/usr/bin/env bash
# Prints the path of chromedriver for the browser tests, installing Debian's chromium and
# chromium-driver when they are missing (apt: the package cache is outside the clone).
set -euo pipefail
if [ -n "${AGORA_CHROMEDRIVER:-}" ] && [ -x "$AGORA_CHROMEDRIVER" ]; then echo "$AGORA_CHROMEDRIVER"; exit 0; fi
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  { $sudo apt-get install -y -qq chromium chromium-driver ||
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium chromium-driver; }; } >&2
fi
command -v chromedriver
