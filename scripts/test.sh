#!/usr/bin/env bash
# The README's test command (`make test`, and so CI): finds or starts PostgreSQL, finds or
# installs a go command, builds once and runs every test, then the deployment checks (the image's
# build context, nginx in front of three replicas, the Helm chart, the fuzz targets). The first
# step that fails stops it with its status.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
export SQLX_OFFLINE=true
# Overridable so the test of this script can make the first step fail.
DATABASE_URL=$("${ENSURE_POSTGRES:-scripts/ensure-postgres.sh}")
AGORA_GO=$(scripts/ensure-go.sh)
export DATABASE_URL AGORA_GO
echo "DATABASE_URL=$(printf '%s' "$DATABASE_URL" | sed -E 's#//[^/@]*@#//***@#') go=$AGORA_GO"
"$CARGO" test --workspace --all-targets --no-fail-fast
CARGO=$CARGO scripts/image-context.sh
scripts/nginx-check.sh
scripts/helm-check.sh
scripts/fuzz-build.sh
