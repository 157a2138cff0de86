#!/usr/bin/env bash
# Throughput and peak RSS of hash_zip and check_zip on a ~100 MiB module zip, next to sha256sum.
# Usage: gomod/bench/hash_bench.sh   (from anywhere; builds the example in release mode)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
cd "$root"
cargo build -q --release -p gomod --example zipbench
bin="$CARGO_TARGET_DIR/release/examples/zipbench"
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time" >&2
  (apt-get install -y -qq time >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq time)) >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" make "$work/tree" "$work/bench.zip"
size=$(stat -c %s "$work/bench.zip")
echo "zip size: $((size / 1048576)) MiB ($size bytes)"
cat "$work/bench.zip" >/dev/null   # warm the page cache
measure() {
  local label=$1; shift
  /usr/bin/time -v "$@" 2>"$work/time.txt" | sed "s/^/  /"
  local rss wall
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
  echo "$label: wall $wall, peak RSS ${rss} KiB"
}
for i in 1 2; do
  echo "--- run $i"
  s=$(date +%s.%N); sha256sum "$work/bench.zip" >/dev/null; e=$(date +%s.%N)
  echo "  sha256sum: $(echo "$size / 1048576 / ($e - $s)" | bc -l | xargs printf '%.0f') MiB/s"
  measure sha256sum sha256sum "$work/bench.zip"
  measure hash_zip "$bin" hash "$work/bench.zip"
  measure check_zip "$bin" check "$work/bench.zip"
done
