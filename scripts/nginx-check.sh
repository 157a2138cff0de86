#!/usr/bin/env bash
# Tests deploy/nginx.conf, the file docker-compose.yml ships, in front of three real agora
# replicas sharing a scratch PostgreSQL database:
#
#  * the config is templated for local use by changing only the four lines marked
#    "nginx-check:" in it (pid file, resolver address, listen port, backend port; the replica
#    name "agora", valid=, timeouts and everything else stay as shipped);
#  * a tiny DNS server on loopback plays Docker's: it answers "agora" with the replicas'
#    addresses (127.0.0.2, .3, .4), read from a file on every query so the test can change them;
#  * nginx starts before any replica runs (it resolves at request time, so it must start anyway
#    and answer 502), then the replicas start (`agora migrate` first);
#  * a token with the publish scope is created, and a module of about 5 MiB under
#    AGORA_PRIVATE (what publishing is limited to by default) is published through nginx with
#    `agora publish`: nginx must log 201 for the PUT (its old 1 MiB limit answered 413);
#  * the zip is downloaded back through nginx and compared (sha256) with `agora mod zip`'s;
#  * one replica is killed while DNS still names it: repeated GETs through nginx all succeed;
#  * that replica comes back at a new address (127.0.0.5) and DNS changes: after `valid=`
#    nginx sends requests to the new address without a reload.
#
# Needs nginx (nginx-light is installed with apt when missing and running as root), python3,
# curl, psql, and PostgreSQL ($DATABASE_URL, else scripts/ensure-postgres.sh). The binary is
# $AGORA_BIN (default target/debug/agora, built by `make test`'s cargo step).
# Everything started here is stopped, and the scratch database dropped, on exit.
# Last line: "nginx-check: OK: ..." (exit 0) or "nginx-check: FAIL: ..." (exit 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
AGORA_BIN=${AGORA_BIN:-$root/target/debug/agora}
MODULE=example.com/private/big
VERSION=v1.0.0
start=$(date +%s)

die() { echo "nginx-check: FAIL: $*" >&2; exit 1; }
[ -x "$AGORA_BIN" ] || die "no agora binary at $AGORA_BIN (run cargo build, or set AGORA_BIN)"
case $AGORA_BIN in /*) ;; *) AGORA_BIN=$root/$AGORA_BIN ;; esac

tmp="" pids=() nginx_pid="" db="" admin_url=""
cleanup() {
  local rc=$? pid
  if [ -n "$nginx_pid" ]; then
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nginx_pid" 2>/dev/null || true
  fi
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$db" ]; then
    psql -q "$admin_url" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 ||
      echo "nginx-check: could not drop database $db" >&2
  fi
  if [ "$rc" != 0 ] && [ -n "$tmp" ]; then
    for f in "$tmp"/*.log; do
      [ -s "$f" ] && { echo "--- ${f##*/} (last lines)" >&2; tail -n 8 "$f" >&2; }
    done
  fi
  [ -n "$tmp" ] && rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- nginx ------------------------------------------------------------------------------
nginx=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$nginx" ]; then
  [ "$(id -u)" = 0 ] || die "nginx is not installed (apt-get install nginx-light)"
  echo "nginx-check: installing nginx-light" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q nginx-light >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q nginx-light >/dev/null; } ||
    die "apt-get install nginx-light failed"
  nginx=/usr/sbin/nginx
fi
nginx_version=$("$nginx" -v 2>&1 | sed 's/.*nginx\///')

tmp=$(mktemp -d "${TMPDIR:-/tmp}/agora-nginx-check.XXXXXX")
free_port() {  # a TCP port free on every address given
  python3 - "$@" <<'PY'
import socket, sys
for _ in range(50):
    s = socket.socket(); s.bind((sys.argv[1], 0)); port = s.getsockname()[1]
    try:
        held = []
        for a in sys.argv[2:]:
            t = socket.socket(); t.bind((a, port)); held.append(t)
    except OSError:
        continue
    print(port); break
else:
    sys.exit("no free port")
PY
}
port=$(free_port 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5)
nginx_port=$(free_port 127.0.0.1)
dns_port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# --- a DNS server for the name "agora" ------------------------------------------------------
echo "127.0.0.2 127.0.0.3 127.0.0.4" > "$tmp/agora.addrs"
cat > "$tmp/dns.py" <<'PY'
"""Answers A queries for "agora" with the addresses in a file (re-read every query); other
names: NXDOMAIN; other types for "agora": no records. TTL 1 s (nginx's valid= wins anyway)."""
import socket, struct, sys
port, addrs_file = int(sys.argv[1]), sys.argv[2]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", port))
while True:
    data, peer = sock.recvfrom(512)
    try:
        qid, flags, qd = struct.unpack(">HHH", data[:6])
        i, labels = 12, []
        while data[i]:
            labels.append(data[i + 1:i + 1 + data[i]].decode("ascii", "replace").lower()); i += 1 + data[i]
        qtype = struct.unpack(">H", data[i + 1:i + 3])[0]
        question = data[12:i + 5]
    except (IndexError, struct.error):
        continue
    answers = []
    if labels == ["agora"]:
        rcode = 0
        if qtype == 1:
            for a in open(addrs_file).read().split():
                answers.append(b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 1, 4) + socket.inet_aton(a))
    else:
        rcode = 3
    header = struct.pack(">HHHHHH", qid, 0x8180 | (flags & 0x0100) | rcode, 1, len(answers), 0, 0)
    sock.sendto(header + question + b"".join(answers), peer)
PY
python3 "$tmp/dns.py" "$dns_port" "$tmp/agora.addrs" 2> "$tmp/dns.log" &
pids+=("$!")

# --- deploy/nginx.conf with its four marked lines changed -----------------------------------
python3 - deploy/nginx.conf "$tmp/nginx.conf" "$tmp" "$dns_port" "$nginx_port" "$port" <<'PY'
import re, sys
src, dst, tmp, dns_port, nginx_port, port = sys.argv[1:]
subs = {  # marker -> (pattern, replacement): each must change its line
    "pid file": (r"^(\s*pid\s+)\S+;", rf"\g<1>{tmp}/nginx.pid;"),
    "resolver": (r"^(\s*resolver\s+)\S+", rf"\g<1>127.0.0.1:{dns_port}"),
    "listen": (r"^(\s*listen\s+)\S+;", rf"\g<1>127.0.0.1:{nginx_port};"),
    "backend": (r"^(\s*set\s+\$agora_backend\s+agora):\d+;", rf"\g<1>:{port};"),
}
lines = open(src).read().split("\n")
seen = {}
for n, line in enumerate(lines):
    m = re.search(r"#\s*nginx-check:\s*(.+?)\s*$", line)
    if not m:
        continue
    marker = m.group(1)
    if marker not in subs or marker in seen:
        sys.exit(f"{src}:{n + 1}: unexpected or repeated marker 'nginx-check: {marker}'")
    pattern, repl = subs[marker]
    new, count = re.subn(pattern, repl, line)
    if count != 1:
        sys.exit(f"{src}:{n + 1}: the '{marker}' line no longer looks like {pattern!r}")
    lines[n], seen[marker] = new, n + 1
if set(seen) != set(subs):
    sys.exit(f"{src}: markers missing: {sorted(set(subs) - set(seen))}")
open(dst, "w").write("\n".join(lines))
PY
[ "$(diff deploy/nginx.conf "$tmp/nginx.conf" | grep -c '^>')" = 4 ] || die "templating changed more than four lines"
"$nginx" -t -q -c "$tmp/nginx.conf" -p "$tmp/" -e "$tmp/nginx-test.log" || die "nginx -t refused the config ($(cat "$tmp/nginx-test.log"))"

# nginx first, with no replica running: it must start, answer its own health check, and 502.
"$nginx" -c "$tmp/nginx.conf" -p "$tmp/" -e stderr -g 'daemon off;' \
  > "$tmp/nginx-access.log" 2> "$tmp/nginx-error.log" &
nginx_pid=$!
proxy=http://127.0.0.1:$nginx_port
code() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }
for _ in $(seq 1 50); do [ "$(code "$proxy/nginx-health")" = 200 ] && break; sleep 0.1; done
[ "$(code "$proxy/nginx-health")" = 200 ] || die "nginx did not start without replicas"
before=$(code "$proxy/$MODULE/@v/list")
[ "$before" = 502 ] || die "with no replica up, nginx answered $before instead of 502"

# --- PostgreSQL and three replicas ----------------------------------------------------------
url=${DATABASE_URL:-$(scripts/ensure-postgres.sh)}
base=${url%%\?*}; base=${base%/*}
admin_url=$base/postgres
db=agora_nginx_check_$$
psql -q "$admin_url" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
  -c "CREATE DATABASE $db" >/dev/null ||
  { db=""; die "cannot create a scratch database on $base"; }
db_url=$base/$db
agora_env=(env -i "PATH=$PATH" "HOME=$tmp" "AGORA_DATABASE_URL=$db_url" AGORA_MIGRATE_ON_START=false
           AGORA_UPSTREAM=off "AGORA_PRIVATE=example.com/private/*" AGORA_DATABASE__MAX_CONNECTIONS=4
           AGORA_DATABASE__FILL_CONNECTIONS=2 AGORA_SHUTDOWN_GRACE_SECS=2 AGORA_LOG__LEVEL=warn)
"${agora_env[@]}" "$AGORA_BIN" migrate > "$tmp/migrate.log" 2>&1 || die "agora migrate failed"
replica() {  # replica ADDRESS: start agora serve on ADDRESS:$port and wait until it is ready
  mkdir -p "$tmp/data-$1"
  "${agora_env[@]}" "AGORA_LISTEN=$1:$port" "AGORA_DATA_DIR=$tmp/data-$1" "$AGORA_BIN" serve \
    > "$tmp/replica-$1.log" 2>&1 &
  replica_pid=$!
  pids+=("$replica_pid")
  disown "$replica_pid"   # killed on purpose below: no "Killed" job notice
  for _ in $(seq 1 100); do
    [ "$(code "http://$1:$port/readyz")" = 200 ] && return 0
    kill -0 "$replica_pid" 2>/dev/null || die "replica $1 exited"
    sleep 0.1
  done
  die "replica $1 never became ready"
}
declare -A replica_pids
for a in 127.0.0.2 127.0.0.3 127.0.0.4; do replica "$a"; replica_pids[$a]=$replica_pid; done

# --- publish a ~5 MiB module through nginx --------------------------------------------------
token=$("${agora_env[@]}" "$AGORA_BIN" token create --name nginx-check --scopes read,publish 2> "$tmp/token.log") ||
  die "agora token create failed"
[ -n "$token" ] || die "agora token create printed no secret"
mkdir -p "$tmp/mod"
printf 'module %s\n\ngo 1.21\n' "$MODULE" > "$tmp/mod/go.mod"
printf 'package big\n\n// Blob is shipped next to this file.\nconst Blob = "blob.bin"\n' > "$tmp/mod/big.go"
head -c $((5 << 20)) /dev/urandom > "$tmp/mod/blob.bin"
"$AGORA_BIN" mod zip --path "$MODULE" --version "$VERSION" -o "$tmp/local.zip" "$tmp/mod" > "$tmp/modzip.log" 2>&1 ||
  die "agora mod zip failed"
zip_bytes=$(stat -c %s "$tmp/local.zip")
(( zip_bytes >= 5 << 20 )) || die "the module zip is only $zip_bytes bytes"
published=0
AGORA_TOKEN=$token "$AGORA_BIN" publish --server "$proxy" --path "$MODULE" --version "$VERSION" "$tmp/mod" \
  > "$tmp/publish.log" 2>&1 || published=$?
put_status=$(awk -v r="\"PUT /$MODULE/@v/$VERSION.zip " 'index($0, r) { for (i = 1; i <= NF; i++) if ($i ~ /HTTP\/1\.1"$/) print $(i + 1) }' "$tmp/nginx-access.log" | tail -n 1)
[[ $put_status == 201 && $published == 0 ]] ||
  die "publishing $((zip_bytes >> 10)) KiB through nginx: nginx logged ${put_status:-nothing} for the PUT, agora publish exited $published"
[ "$(grep -c '"PUT ' "$tmp/nginx-access.log")" = 1 ] || die "the PUT reached nginx more than once"
grep '"PUT ' "$tmp/nginx-access.log" | grep -q 'upstream=[0-9.:]* upstream_status=' ||
  die "nginx passed the PUT to more than one replica"

curl -fsS -o "$tmp/download.zip" "$proxy/$MODULE/@v/$VERSION.zip" || die "downloading the zip through nginx failed"
[ "$(sha256sum < "$tmp/download.zip")" = "$(sha256sum < "$tmp/local.zip")" ] ||
  die "the zip served through nginx differs from agora mod zip's"
[ "$(curl -fsS "$proxy/$MODULE/@v/$VERSION.mod")" = "$(cat "$tmp/mod/go.mod")" ] || die "the .mod served differs"

# --- one replica killed while DNS still names it ----------------------------------------------
gets() {  # gets N: N GETs (.info and .mod in turn) through nginx; prints how many were not 200
  local bad=0 i paths=("@v/$VERSION.info" "@v/$VERSION.mod")
  for ((i = 0; i < $1; i++)); do
    [ "$(code "$proxy/$MODULE/${paths[i % 2]}")" = 200 ] || bad=$((bad + 1))
  done
  echo "$bad"
}
kill -KILL "${replica_pids[127.0.0.4]}"
for _ in $(seq 1 50); do [ "$(code "http://127.0.0.4:$port/healthz")" = 000 ] && break; sleep 0.1; done
[ "$(code "http://127.0.0.4:$port/healthz")" = 000 ] || die "the killed replica still answers"
mark=$(wc -l < "$tmp/nginx-access.log")
bad=$(gets 30)
[ "$bad" = 0 ] || die "$bad of 30 GETs failed with one replica down"
retried=$(tail -n +$((mark + 1)) "$tmp/nginx-access.log" | grep -c "upstream=127.0.0.4:$port, " || true)

# --- the replica comes back at a new address ------------------------------------------------
replica 127.0.0.5
echo "127.0.0.2 127.0.0.3 127.0.0.5" > "$tmp/agora.addrs.new"
mv "$tmp/agora.addrs.new" "$tmp/agora.addrs"
valid=$(sed -n 's/.*resolver .*valid=\([0-9]*\)s.*/\1/p' "$tmp/nginx.conf")
sleep $(( ${valid:-5} + 1 ))
mark=$(wc -l < "$tmp/nginx-access.log")
bad=$(gets 30)
[ "$bad" = 0 ] || die "$bad of 30 GETs failed after the replica moved"
moved=$(tail -n +$((mark + 1)) "$tmp/nginx-access.log" | grep -c "upstream=127.0.0.5:$port" || true)
(( moved > 0 )) || die "nginx never sent a request to the recreated replica at 127.0.0.5"
stale=$(tail -n +$((mark + 1)) "$tmp/nginx-access.log" | grep -c "127.0.0.4:$port" || true)
[ "$stale" = 0 ] || die "nginx still tried the old address 127.0.0.4 $stale times after valid=${valid}s"
kill -0 "$nginx_pid" 2>/dev/null || die "nginx died"

echo "nginx-check: OK: nginx $nginx_version with deploy/nginx.conf (4 lines templated) started with no replica (502);" \
  "published $MODULE@$VERSION ($((zip_bytes / 1024)) KiB) through it with a publish token: 201," \
  "download sha256 matches; replica killed: 30/30 GETs ok ($retried retried on another);" \
  "replica recreated at a new address: 30/30 GETs ok, $moved sent to it after valid=${valid}s ($(( $(date +%s) - start ))s)"
