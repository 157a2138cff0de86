#!/usr/bin/env bash
# Checks that every fuzz target in gomod/fuzz compiles and links on the stable toolchain, without
# cargo-fuzz or nightly: a plain `cargo build` of the fuzz crate (libfuzzer-sys builds and links
# libFuzzer; there is just no coverage instrumentation). CI calls this; running the fuzzers needs
# cargo-fuzz, see gomod/fuzz/README.md.
# Usage: scripts/fuzz-build.sh   (target dir: $FUZZ_BUILD_TARGET_DIR, default target/fuzz-build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
manifest="$root/gomod/fuzz/Cargo.toml"
target_dir=${FUZZ_BUILD_TARGET_DIR:-$root/target/fuzz-build}
start=$(date +%s)
# Stable on purpose: RUSTC_BOOTSTRAP would let nightly-only flags slip through. No debug info:
# about a third faster from cold, and nothing here is debugged.
export CARGO_PROFILE_DEV_DEBUG=${CARGO_PROFILE_DEV_DEBUG:-0}
env -u RUSTC_BOOTSTRAP -u RUSTFLAGS cargo build --locked --quiet \
  --manifest-path "$manifest" --bins --target-dir "$target_dir"
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | grep -vx gomod-fuzz)
for t in $targets; do
  if [ ! -x "$target_dir/debug/$t" ]; then
    echo "fuzz-build: $t was not built" >&2
    exit 1
  fi
done
echo "fuzz-build: $(echo $targets | wc -w) targets built ($(echo $targets)) in $(( $(date +%s) - start ))s"
