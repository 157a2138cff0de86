#!/usr/bin/env bash
# Warm-cache throughput of agora against nginx serving the same files from disk, and agora's peak
# memory while 8 clients pull a large zip at once. Loopback only; every load run is bounded.
#   benches/run.sh            (PostgreSQL store; DATABASE_URL or the local server)
#   STORE=sqlite benches/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DURATION=${DURATION:-8}
CONNS=${CONNS:-32}
STORE=${STORE:-postgres}

need() { command -v "$1" >/dev/null 2>&1 || { apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }; }
need wrk wrk
need nginx nginx-light
need curl curl

SQLX_OFFLINE=true cargo build --release --quiet
bin="$root/target/release/agora"
work=$(mktemp -d /tmp/agora-bench.XXXXXX)
chmod 755 "$work"  # nginx workers run as www-data
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A static GOPROXY tree with a small module and a 21 MiB one, built by agora's own module zip code.
mk_module() {
  local path=$1 version=$2 size=$3 dir="$work/src/$1"
  mkdir -p "$dir" "$work/tree/$path/@v"
  printf 'module %s\n\ngo 1.21\n' "$path" > "$dir/go.mod"
  printf 'package m\n\nfunc Hello() string { return "hello" }\n' > "$dir/m.go"
  if [ "$size" -gt 0 ]; then head -c "$size" /dev/urandom > "$dir/data.bin"; fi
  "$bin" mod zip --path "$path" --version "$version" "$dir" -o "$work/tree/$path/@v/$version.zip" >/dev/null
  cp "$dir/go.mod" "$work/tree/$path/@v/$version.mod"
  printf '{"Version":"%s","Time":"2024-01-02T03:04:05Z"}' "$version" > "$work/tree/$path/@v/$version.info"
  echo "$version" > "$work/tree/$path/@v/list"
}
mk_module example.com/small v1.0.0 0
mk_module example.com/large v1.0.0 $((21 << 20))

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  types { application/zip zip; application/json info; }
  default_type text/plain;
  server { listen 127.0.0.1:$nginx_port; root $work/tree; }
}
CONF
nginx -c "$work/nginx.conf" -p "$work/nginx"

if [ "$STORE" = sqlite ]; then
  db_url="sqlite://$work/agora.db"
else
  base=$(scripts/ensure-postgres.sh); base=${base%/*}
  psql -q "$base/postgres" -c 'DROP DATABASE IF EXISTS agora_bench' -c 'CREATE DATABASE agora_bench'
  db_url="$base/agora_bench"
fi
agora_port=$(free_port)
AGORA_LISTEN=127.0.0.1:$agora_port AGORA_DATABASE_URL=$db_url AGORA_UPSTREAM=http://127.0.0.1:$nginx_port \
  AGORA_DATA_DIR=$work/data AGORA_LOG__LEVEL=warn "$bin" serve > "$work/agora.log" 2>&1 &
apid=$!; pids+=("$apid")
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$agora_port/healthz" >/dev/null && break; sleep 0.1; done

# Warm every file once (this is the miss that fills the store).
for f in small/@v/v1.0.0.info small/@v/v1.0.0.mod small/@v/v1.0.0.zip large/@v/v1.0.0.zip; do
  curl -sS -f -o /dev/null "http://127.0.0.1:$agora_port/example.com/$f" || { curl -sS "http://127.0.0.1:$agora_port/example.com/$f"; cat "$work/agora.log"; exit 1; }
done

rps() { wrk -t2 -c"$2" -d"${DURATION}s" "$1" 2>/dev/null | awk '/Requests\/sec/ {print $2}'; }
printf '\n%-22s %12s %12s %8s\n' "request" "nginx rps" "agora rps" "ratio"
for row in "info:small/@v/v1.0.0.info" "mod:small/@v/v1.0.0.mod" "small zip:small/@v/v1.0.0.zip" "21 MiB zip:large/@v/v1.0.0.zip"; do
  name=${row%%:*}; f=${row#*:}
  c=$CONNS; [ "$name" = "21 MiB zip" ] && c=8
  n=$(rps "http://127.0.0.1:$nginx_port/example.com/$f" "$c")
  a=$(rps "http://127.0.0.1:$agora_port/example.com/$f" "$c")
  printf '%-22s %12s %12s %8s\n' "$name" "$n" "$a" "$(python3 -c "print(f'{$a/$n:.2f}x')")"
done

# Peak resident memory of agora (VmHWM) after 8 clients pull the large zip at once.
wrk -t2 -c8 -d"${DURATION}s" "http://127.0.0.1:$agora_port/example.com/large/@v/v1.0.0.zip" >/dev/null 2>&1
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$apid/status")
printf '\nagora peak RSS (VmHWM) after 8 concurrent 21 MiB zip clients: %s MiB (store: %s)\n' "$((hwm / 1024))" "$STORE"
