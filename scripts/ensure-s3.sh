#!/usr/bin/env bash
# Prints the path of an S3-compatible server for the tests (s3s-fs, from crates.io), building it
# once into a cache outside the clone ($AGORA_CACHE, default ~/.cache/agora) so fresh clones
# reuse it. Pinned: 0.14.1 is the newest release that builds with Rust 1.92+.
set -euo pipefail
if [ -n "${AGORA_S3S:-}" ] && [ -x "$AGORA_S3S" ]; then echo "$AGORA_S3S"; exit 0; fi
version=0.14.1
root="${AGORA_CACHE:-$HOME/.cache/agora}/s3s-fs-$version"
if [ ! -x "$root/bin/s3s-fs" ]; then
  # Its own target directory: building it must not disturb the project's.
  CARGO_TARGET_DIR="$root/target" "${CARGO:-cargo}" install --quiet --locked \
    --features binary --root "$root" "s3s-fs@$version" >&2
  rm -rf "$root/target"
fi
echo "$root/bin/s3s-fs"
