# One entry point for people and CI.
SHELL := /bin/bash
CARGO ?= cargo
# Query macros read the committed .sqlx/ data, so building needs no database.
export SQLX_OFFLINE := true

.PHONY: test lint fmt clippy sqlx-prepare bench run image image-context nginx-check helm-check

## Build once, then run every test (unit, store, end to end with the real go command), then the
## deployment checks: the image's build context (built and run as the image runs it), nginx in
## front of three replicas, and the Helm chart.
test:
	CARGO=$(CARGO) scripts/test.sh

## The OCI image itself, with buildah from locally made base images (no registry), then run (~6 min).
image:
	scripts/image.sh

## The image's build context, built with the release profile as the Dockerfile builds it.
image-context:
	CARGO=$(CARGO) scripts/image-context.sh --release

nginx-check:
	scripts/nginx-check.sh

helm-check:
	scripts/helm-check.sh

lint: fmt clippy

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Regenerate .sqlx/ after changing a query (uses a scratch database, PREPARE_DB).
PREPARE_DB ?= agora_prepare
sqlx-prepare:
	@url=$$(scripts/ensure-postgres.sh) && base=$${url%/*} && \
	psql "$$base/postgres" -qc 'DROP DATABASE IF EXISTS $(PREPARE_DB)' -c 'CREATE DATABASE $(PREPARE_DB)' && \
	for f in migrations/postgres/*.sql; do psql -q "$$base/$(PREPARE_DB)" -f $$f; done && \
	rm -rf .sqlx && mkdir -p .sqlx && touch src/store/postgres/*.rs && \
	SQLX_OFFLINE=false SQLX_OFFLINE_DIR=$$PWD/.sqlx DATABASE_URL=$$base/$(PREPARE_DB) $(CARGO) check --lib && \
	ls .sqlx | wc -l

bench:
	benches/run.sh

run:
	$(CARGO) run --release -- serve
