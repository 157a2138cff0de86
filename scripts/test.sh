#!/usr/bin/env bash
# The README's test command (`make test`, and so CI): finds or starts PostgreSQL, finds or
# installs a go command, an S3-compatible server (s3s-fs), Chromium with its driver and Mercurial, builds
# once and runs every test, then the deployment checks (the image's build context, nginx in
# front of three replicas, the Helm chart, the fuzz targets). The first step that fails stops it
# with its status.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
export SQLX_OFFLINE=true
cache=${AGORA_CACHE:-$HOME/.cache/agora}
# Builds go to a directory outside the clone unless CARGO_TARGET_DIR says otherwise, so a fresh
# clone on a machine that built before compiles only agora and gomod, not every dependency. The
# artifacts of this project's own crates left there by other clones more than a day ago are
# dropped first: a clone rebuilds its own anyway.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$cache/target}
if [ -d "$CARGO_TARGET_DIR/debug" ]; then
  find "$CARGO_TARGET_DIR/debug/deps" "$CARGO_TARGET_DIR/debug/.fingerprint" \
    "$CARGO_TARGET_DIR/debug/build" -maxdepth 1 -mtime +1 \
    \( -name 'agora-*' -o -name 'libagora-*' -o -name 'gomod-*' -o -name 'libgomod-*' \
       -o -name 'api-*' -o -name 'cli-*' -o -name 'differential-*' -o -name 'zip_check-*' \
       -o -name 'zip_create-*' -o -name 'zipbench-*' \) -exec rm -rf {} + 2>/dev/null || true
fi
export FUZZ_BUILD_TARGET_DIR=${FUZZ_BUILD_TARGET_DIR:-$CARGO_TARGET_DIR/fuzz-build}
export AGORA_BIN=${AGORA_BIN:-$CARGO_TARGET_DIR/debug/agora}
# Overridable so the test of this script can make the first step fail.
DATABASE_URL=$("${ENSURE_POSTGRES:-scripts/ensure-postgres.sh}")
AGORA_GO=$(scripts/ensure-go.sh)
AGORA_S3S=$(CARGO=$CARGO scripts/ensure-s3.sh)
AGORA_CHROMEDRIVER=$(scripts/ensure-chromium.sh)
AGORA_HG=$(scripts/ensure-vcs.sh)
export DATABASE_URL AGORA_GO AGORA_S3S AGORA_CHROMEDRIVER AGORA_HG
echo "DATABASE_URL=$(printf '%s' "$DATABASE_URL" | sed -E 's#//[^/@]*@#//***@#') go=$AGORA_GO s3=$AGORA_S3S"
"$CARGO" test --workspace --all-targets --no-fail-fast
CARGO=$CARGO scripts/image-context.sh
scripts/nginx-check.sh
scripts/helm-check.sh
scripts/fuzz-build.sh
