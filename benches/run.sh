#!/usr/bin/env bash
# `make bench`: every performance row of agora from one run, side by side with nginx serving the
# same files from disk (warm rows) and with the go command downloading straight from that tree
# (cold rows). Loopback only; every load run is bounded.
#
#   benches/run.sh                      all sections
#   ONLY=cold,pgonly benches/run.sh     some of: warm pgonly rss cold scale s3
#   DURATION=8 CONNS=32 ROUNDS=3        seconds per load run, connections, cold rounds
#   AGORA_BIN=path/to/agora             a binary built already (default: a release build)
#
# Rows print as agora/nginx (throughput: higher is better) or agora/straight (time: lower is
# better) ratios. The 100k-module data set is generated once into the database agora_bench_scale
# (delete it to regenerate).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DURATION=${DURATION:-8}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-warm,pgonly,rss,cold,scale,s3}
on() { [[ ",$ONLY," == *",$1,"* ]]; }

need() { command -v "$1" >/dev/null 2>&1 || { apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }; }
need wrk wrk
need nginx nginx-light
need curl curl
need psql postgresql-client
go=$(scripts/ensure-go.sh)

bin=${AGORA_BIN:-}
if [ -z "$bin" ]; then
  SQLX_OFFLINE=true cargo build --release --quiet --bin agora
  bin="${CARGO_TARGET_DIR:-$root/target}/release/agora"
fi
work=$(mktemp -d /tmp/agora-bench.XXXXXX)
chmod 755 "$work" # nginx workers run as www-data
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

pg=$(scripts/ensure-postgres.sh)
pg=${pg%/*}
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB;" \
  "$(psql -tA "$pg/postgres" -c 'SHOW server_version' | cut -d' ' -f1 | sed 's/^/PostgreSQL /'), $(nginx -v 2>&1 | sed 's/.*: //'), $("$go" version | cut -d' ' -f3)"

# A static GOPROXY tree, zips built by agora's own module zip code.
mk_module() { # path version random-bytes
  local path=$1 version=$2 size=$3 dir="$work/src/$1"
  mkdir -p "$dir" "$work/tree/$path/@v"
  printf 'module %s\n\ngo 1.21\n' "$path" >"$dir/go.mod"
  for i in 1 2 3 4; do printf 'package m\n\nfunc F%s() string { return "%s" }\n' "$i" "$path" >"$dir/f$i.go"; done
  if [ "$size" -gt 0 ]; then head -c "$size" /dev/urandom >"$dir/data.bin"; fi
  "$bin" mod zip --path "$path" --version "$version" "$dir" -o "$work/tree/$path/@v/$version.zip" >/dev/null
  cp "$dir/go.mod" "$work/tree/$path/@v/$version.mod"
  printf '{"Version":"%s","Time":"2024-01-02T03:04:05Z"}' "$version" >"$work/tree/$path/@v/$version.info"
  echo "$version" >"$work/tree/$path/@v/list"
}
mk_module bench.example/small v1.0.0 0
mk_module bench.example/large v1.0.0 $((32 << 20))
# The cold corpus: six small modules and four of 256 KiB, 1, 4 and 16 MiB.
corpus=()
sizes=(0 0 0 0 0 0 $((256 << 10)) $((1 << 20)) $((4 << 20)) $((16 << 20)))
for i in "${!sizes[@]}"; do
  m=$(printf 'bench.example/c%02d' "$i")
  mk_module "$m" v1.0.0 "${sizes[$i]}"
  corpus+=("$m@v1.0.0")
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
nginx_url=http://127.0.0.1:$nginx_port
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
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

fresh_db() { # name -> URL of an empty database
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
  echo "$pg/$1"
}

# Starts agora; extra AGORA_* settings as arguments. Sets $agora_url and $agora_pid.
serve() { # db-url name [VAR=value ...]
  local db=$1 name=$2
  shift 2
  local port
  port=$(free_port)
  mkdir -p "$work/$name"
  env AGORA_LISTEN="127.0.0.1:$port" AGORA_DATABASE_URL="$db" AGORA_UPSTREAM="$nginx_url" \
    AGORA_DATA_DIR="$work/$name/data" AGORA_LOG__LEVEL=warn AGORA_SUMDB__VERIFY_ZIPS=false "$@" \
    "$bin" serve >"$work/$name/log" 2>&1 &
  agora_pid=$!
  pids+=("$agora_pid")
  agora_url=http://127.0.0.1:$port
  for _ in $(seq 1 100); do curl -sf "$agora_url/healthz" >/dev/null && return; sleep 0.1; done
  echo "agora ($name) did not start:" >&2
  cat "$work/$name/log" >&2
  exit 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
get() { curl -sS -f -o /dev/null "$1" || { echo "GET $1 failed" >&2; exit 1; }; }
hwm() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$1/status"; }

rps() { # url conns -> requests/s
  wrk -t2 -c"$2" -d"${DURATION}s" "$1" 2>/dev/null | awk '/Requests\/sec/ {print $2}'
}
# wrk --latency: requests/s and p99 in ms.
rps_p99() { # url conns [lua script]
  local out
  out=$(wrk -t2 -c"$2" -d"${DURATION}s" --latency ${3:+-s "$3"} "$1" 2>/dev/null)
  local r p
  r=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}' <<<"$out")
  echo "$r $p"
}
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
row() { printf '%-58s %12s %12s %8s   %s\n' "$@"; }
header() { printf '\n%-58s %12s %12s %8s   %s\n' "$1" "$2" "$3" "ratio" "target"; }

small=bench.example/small/@v/v1.0.0
large=bench.example/large/@v/v1.0.0

# Fills the warm database once: every file of the hot modules through a first agora.
warm_db=$(fresh_db agora_bench)
serve "$warm_db" fill
for f in "$small.info" "$small.mod" "$small.zip" "$large.zip" bench.example/small/@v/list; do get "$agora_url/$f"; done
for m in "${corpus[@]}"; do get "$agora_url/${m%@*}/@v/${m#*@}.info"; done
stop "$agora_pid"

if on warm; then
  serve "$warm_db" warm
  for f in "$small.info" "$small.mod" "$small.zip" "$large.zip" bench.example/small/@v/list; do get "$agora_url/$f"; done
  header "warm hits (PostgreSQL store, default caches)" "nginx rps" "agora rps" ">= 1.0x"
  for r in "info:$small.info" "mod:$small.mod" "small zip:$small.zip" "list:bench.example/small/@v/list" "32 MiB zip (8 clients):$large.zip"; do
    name=${r%%:*} f=${r#*:} c=$CONNS
    [[ $name == 32* ]] && c=8
    n=$(rps "$nginx_url/$f" "$c")
    a=$(rps "$agora_url/$f" "$c")
    t=">= 1.0x"; [[ $name == 32* ]] && t=""
    row "$name" "$n" "$a" "$(ratio "$a" "$n")" "$t"
  done
  stop "$agora_pid"
fi

if on pgonly; then
  serve "$warm_db" pgonly AGORA_CACHE__DISK_BYTES=0 AGORA_CACHE__MEMORY_ZIP_MAX_BYTES=0
  header "zips from PostgreSQL only (local caches off)" "nginx rps" "agora rps" ""
  read -r n np <<<"$(rps_p99 "$nginx_url/$small.zip" "$CONNS")"
  read -r a ap <<<"$(rps_p99 "$agora_url/$small.zip" "$CONNS")"
  row "small zip ($CONNS clients; p99 nginx ${np} ms, agora ${ap} ms)" "$n" "$a" "$(ratio "$a" "$n")" ">= 0.5x"
  n=$(rps "$nginx_url/$large.zip" 8)
  a=$(rps "$agora_url/$large.zip" 8)
  row "32 MiB zip (8 clients)" "$n" "$a" "$(ratio "$a" "$n")" ">= 0.8x"
  stop "$agora_pid"
fi

if on rss; then
  header "peak RSS (VmHWM) of a fresh replica, 8 clients pulling the 32 MiB zip" "MiB" "" ""
  for r in "from the disk cache:" "from PostgreSQL only:AGORA_CACHE__DISK_BYTES=0 AGORA_CACHE__MEMORY_ZIP_MAX_BYTES=0"; do
    name=${r%%:*} extra=${r#*:}
    # shellcheck disable=SC2086
    serve "$warm_db" rss $extra
    get "$agora_url/$large.zip"
    wrk -t2 -c8 -d"${DURATION}s" "$agora_url/$large.zip" >/dev/null 2>&1
    row "$name" "$(hwm "$agora_pid")" "" "" "<= 24 MiB"
    stop "$agora_pid"
  done
  cold_db=$(fresh_db agora_bench_cold)
  serve "$cold_db" rss
  get "$agora_url/$large.zip"
  row "a cold fetch of the 32 MiB zip, then one client" "$(hwm "$agora_pid")" "" "" ""
  stop "$agora_pid"
fi

if on cold; then
  mkdir -p "$work/empty"
  download() { # proxy-url log-name -> seconds for `go mod download` of the corpus into an empty cache
    local cache=$work/modcache t0 t1
    rm -rf "$cache"
    t0=$(date +%s.%N)
    (cd "$work/empty" && env GOPROXY="$1" GOMODCACHE="$cache" GOSUMDB=off GOFLAGS=-modcacherw \
      GOTOOLCHAIN=local GO111MODULE=on GOPATH="$work/gopath" "$go" mod download "${corpus[@]}") ||
      { echo "go mod download through $1 failed; agora's log:" >&2; tail -20 "$work/$2/log" >&2; exit 1; }
    t1=$(date +%s.%N)
    chmod -R u+w "$cache" && rm -rf "$cache"
    python3 -c "print(f'{$t1 - $t0:.3f}')"
  }
  straight=() on_pg=() on_sqlite=()
  for _ in $(seq 1 "$ROUNDS"); do
    straight+=("$(download "$nginx_url" nginx)")
    serve "$(fresh_db agora_bench_cold)" cold-pg
    on_pg+=("$(download "$agora_url" cold-pg)")
    stop "$agora_pid"
    rm -f "$work/cold.db"
    serve "sqlite://$work/cold.db" cold-sqlite
    on_sqlite+=("$(download "$agora_url" cold-sqlite)")
    stop "$agora_pid"
  done
  median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  s=$(median "${straight[@]}")
  header "cold go mod download of ${#corpus[@]} modules (median of $ROUNDS, seconds)" "straight" "agora" "<= 1.1x"
  p=$(median "${on_pg[@]}")
  row "PostgreSQL store (runs: ${on_pg[*]})" "$s" "$p" "$(ratio "$p" "$s")" "<= 1.1x"
  q=$(median "${on_sqlite[@]}")
  row "SQLite store (runs: ${on_sqlite[*]}; straight: ${straight[*]})" "$s" "$q" "$(ratio "$q" "$s")" "<= 1.1x"
fi

if on s3; then
  # Zips in a real S3 server (s3s-fs, as in the tests) on loopback.
  s3s=$(scripts/ensure-s3.sh)
  s3_port=$(free_port)
  mkdir -p "$work/s3/bench"
  "$s3s" --host 127.0.0.1 --port "$s3_port" --access-key BENCHKEY --secret-key bench-secret-key "$work/s3" \
    >"$work/s3.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$s3_port/" && break; sleep 0.1; done
  s3env=(AGORA_BLOBS__URL=s3://bench/zips AWS_ACCESS_KEY_ID=BENCHKEY AWS_SECRET_ACCESS_KEY=bench-secret-key
    AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$s3_port")
  # 8 clients, 48 downloads of the 32 MiB zip, redirects followed: MiB/s.
  pull() { # url
    local t0 t1
    t0=$(date +%s.%N)
    seq 1 48 | xargs -P 8 -I{} curl -sS -f -L -o /dev/null "$1"
    t1=$(date +%s.%N)
    python3 -c "print(f'{48 * 32 / ($t1 - $t0):.0f}')"
  }
  s3_db=$(fresh_db agora_bench_s3)
  serve "$s3_db" s3-fill "${s3env[@]}"
  get "$agora_url/$large.zip"
  stop "$agora_pid"
  header "32 MiB zip in S3, 8 clients (local caches off), MiB/s" "nginx" "agora" ""
  n=$(pull "$nginx_url/$large.zip")
  serve "$s3_db" s3-stream "${s3env[@]}" AGORA_CACHE__DISK_BYTES=0 AGORA_CACHE__MEMORY_ZIP_MAX_BYTES=0
  a=$(pull "$agora_url/$large.zip")
  row "stream mode (through the replica)" "$n" "$a" "$(ratio "$a" "$n")" ""
  stop "$agora_pid"
  serve "$s3_db" s3-redirect "${s3env[@]}" AGORA_BLOBS__REDIRECT=true
  a=$(pull "$agora_url/$large.zip")
  row "redirect mode (307 to a presigned URL)" "$n" "$a" "$(ratio "$a" "$n")" ""
  stop "$agora_pid"
  if ! declare -F download >/dev/null; then
    echo "(the cold S3 row needs the cold section: ONLY=cold,s3)"
  else
    on_s3=()
    for _ in $(seq 1 "$ROUNDS"); do
      serve "$(fresh_db agora_bench_cold)" cold-s3 "${s3env[@]}" AGORA_BLOBS__URL="s3://bench/cold$RANDOM$RANDOM"
      on_s3+=("$(download "$agora_url" cold-s3)")
      stop "$agora_pid"
    done
    header "cold go mod download of ${#corpus[@]} modules (median of $ROUNDS, seconds)" "straight" "agora" "<= 1.1x"
    q=$(median "${on_s3[@]}")
    row "PostgreSQL store, zips in S3 (runs: ${on_s3[*]})" "$s" "$q" "$(ratio "$q" "$s")" "<= 1.1x"
  fi
fi

if on scale; then
  scale_db=$pg/agora_bench_scale
  if [ "$(psql -tA "$pg/postgres" -c "SELECT 1 FROM pg_database WHERE datname = 'agora_bench_scale'")" != 1 ] ||
    [ "$(psql -tA "$scale_db" -c "SELECT count(*) FROM modules WHERE path = 'synth.example/zipped'" 2>/dev/null)" != 1 ]; then
    echo "generating the scale data set (100k modules, 1M versions) ..."
    fresh_db agora_bench_scale >/dev/null
    AGORA_DATABASE_URL=$scale_db "$bin" migrate >/dev/null
    t0=$(date +%s)
    psql -q "$scale_db" -f benches/scale.sql
    python3 benches/scale_zip.py | psql -q "$scale_db"
    echo "  done in $(($(date +%s) - t0)) s"
  fi
  for m in "${corpus[@]}"; do echo "/${m%@*}/@v/${m#*@}.info"; done >"$work/hot.txt"
  cat >"$work/hot.lua" <<LUA
local paths = {}
for line in io.lines("$work/hot.txt") do paths[#paths + 1] = line end
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
LUA
  cat >"$work/synth.lua" <<'LUA'
request = function()
  return wrk.format("GET", string.format("/synth.example/m%06d/@v/v1.0.%d.info", math.random(0, 99999), math.random(0, 9)))
end
LUA
  # The in-memory row cache off, so every request reads the store: what grows with the data.
  nocache=(AGORA_CACHE__MEMORY_BYTES=0 AGORA_CACHE__LIST_TTL_SECS=0)
  header "warm .info, every request a store lookup (p99 ms in the name)" "10 modules" "100k/1M" ">= 0.9x"
  serve "$warm_db" small "${nocache[@]}"
  read -r a ap <<<"$(rps_p99 "$agora_url/" "$CONNS" "$work/hot.lua")"
  stop "$agora_pid"
  serve "$scale_db" scale "${nocache[@]}"
  read -r b bp <<<"$(rps_p99 "$agora_url/" "$CONNS" "$work/synth.lua")"
  row "random .info (p99 $ap ms vs $bp ms)" "$a" "$b" "$(ratio "$b" "$a")" ">= 0.9x"
  header "queries on 1M versions (list cache off)" "rps" "p99 ms" ""
  read -r r p <<<"$(rps_p99 "$agora_url/synth.example/many/@v/list" 4)"
  row "list of a module with 10k versions (4 clients)" "$r" "$p" "" "p99 <= 20 ms"
  read -r r p <<<"$(rps_p99 "$agora_url/catalog?pagesize=1000" 4)"
  row "/catalog first page of 1000 (4 clients)" "$r" "$p" "" "p99 <= 20 ms"
  mid=$(psql -tA "$scale_db" -c "SELECT id FROM versions ORDER BY id OFFSET 500000 LIMIT 1")
  read -r r p <<<"$(rps_p99 "$agora_url/catalog?pagesize=1000&token=$mid" 4)"
  row "/catalog page of 1000 in the middle (4 clients)" "$r" "$p" "" "p99 <= 20 ms"
  header "web pages on 100k modules / 1M versions (4 clients)" "rps" "p99 ms" ""
  for r in "front page:/" "search, 100 matches (a page of 50):/ui/search?q=m0999" \
    "search, no match (scans every path):/ui/search?q=nothing-like-this" \
    "module page (10 versions):/ui/mod/synth.example/m012345" \
    "version page (zip of 202 files listed):/ui/mod/synth.example/zipped/@v/v1.0.0" \
    "operations (top 20 of 100k modules by use):/ui/ops"; do
    read -r rr pp <<<"$(rps_p99 "$agora_url${r#*:}" 4)"
    row "${r%%:*}" "$rr" "$pp" "" "p99 <= 50 ms"
  done
  stop "$agora_pid"
fi
