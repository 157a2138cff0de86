#!/usr/bin/env bash
# Prints a DATABASE_URL for tests. Uses $DATABASE_URL if set; else the machine's PostgreSQL on
# 127.0.0.1:5432 (starting its cluster if it is stopped); else a throwaway cluster under
# .tools/pg, started from the installed PostgreSQL binaries.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${DATABASE_URL:-}" ]; then echo "$DATABASE_URL"; exit 0; fi

ready() { pg_isready -q -h 127.0.0.1 -p "$1" 2>/dev/null; }

# AGORA_THROWAWAY_PG=1 skips the machine's server (to test the fallback below).
if [ -z "${AGORA_THROWAWAY_PG:-}" ] && command -v pg_isready >/dev/null 2>&1 && ready 5432; then
  echo "postgres://postgres@127.0.0.1:5432/postgres"; exit 0
fi
if [ -z "${AGORA_THROWAWAY_PG:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for v in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start >&2 2>/dev/null || true
  done
  for _ in $(seq 1 20); do ready 5432 && { echo "postgres://postgres@127.0.0.1:5432/postgres"; exit 0; }; sleep 0.5; done
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ]; then
  echo "no PostgreSQL found: install it (apt-get install postgresql) or set DATABASE_URL" >&2
  exit 1
fi
data="$root/.tools/pg/data"; port=55432
run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
if ! ready $port; then
  mkdir -p "$root/.tools/pg"
  [ "$(id -u)" = 0 ] && chown -R postgres "$root/.tools/pg"
  if [ ! -f "$data/PG_VERSION" ]; then
    run "'$bin/initdb' -D '$data' -U postgres --auth=trust -E UTF8 >/dev/null"
  fi
  run "'$bin/pg_ctl' -D '$data' -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300' -l '$root/.tools/pg/log' -w start >/dev/null"
fi
echo "postgres://postgres@127.0.0.1:$port/postgres"
