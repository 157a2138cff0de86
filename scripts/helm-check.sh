#!/usr/bin/env bash
# Lints, renders and validates helm/agora with every values file in helm/agora/ci/, without a
# helm binary or a cluster: helm-python-sdk embeds Helm's Go SDK; kubernetes-validate checks
# the manifests (strict) against the lowest and highest Kubernetes the chart claims, jsonschema
# the Prometheus Operator objects against scripts/schemas/; yamllint checks the rendered YAML.
# The tools live in a venv cached outside the clone ($AGORA_CACHE, default ~/.cache/agora),
# created on first run. Last line: "N passed, M failed";
# the exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${AGORA_CACHE:-$HOME/.cache/agora}/helm-venv
PINS="helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 jsonschema==4.26.0 yamllint==1.38.0"
PYTHON=${PYTHON:-python3}

# Reuse the venv when it was built with exactly these pins; otherwise (re)build it.
if [[ ! -x $VENV/bin/python || "$(cat "$VENV/.pins" 2>/dev/null)" != "$PINS" ]]; then
    echo "helm-check: installing $PINS into $VENV" >&2
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
    # shellcheck disable=SC2086 # word splitting of the pin list is intended
    "$VENV/bin/pip" install --quiet --disable-pip-version-check $PINS
    echo "$PINS" > "$VENV/.pins"
fi

exec "$VENV/bin/python" scripts/helm_check.py "$@"
