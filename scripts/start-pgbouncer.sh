#!/usr/bin/env bash
# Starts a throwaway PgBouncer on 127.0.0.1 in front of the PostgreSQL of a database URL (the
# first argument, else $DATABASE_URL, else scripts/ensure-postgres.sh's) and prints its port:
# connect with the same URL, its host and port replaced by 127.0.0.1:PORT. Every database name
# passes through to the same name on the server; the URL's user is the one user it knows
# (auth_type trust: no password asked of clients; a password in the URL is what PgBouncer logs in
# to the server with). `psql -h 127.0.0.1 -p PORT -U USER pgbouncer -c 'SHOW POOLS'` shows its
# pools. Runs without root (as root, PgBouncer runs as postgres, else nobody).
#
# Environment:
#   PGBOUNCER_PORT         port to listen on (default: a free one)
#   PGBOUNCER_POOL_MODE    transaction (default), session or statement
#   PGBOUNCER_POOL_SIZE    default_pool_size, server connections per database and user (20)
#   PGBOUNCER_MAX_CLIENTS  max_client_conn (10000)
#   PGBOUNCER_DIR          its config, user list, log, pid file and unix socket (default: a new
#                          temporary directory); stop it with kill "$(cat "$PGBOUNCER_DIR/pgbouncer.pid")"
#   AGORA_PGBOUNCER        the pgbouncer to run (default: scripts/ensure-pgbouncer.sh's)
# What else it says (the directory, how to stop it) goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
url=${1:-${DATABASE_URL:-}}
[ -n "$url" ] || url=$("$here/ensure-postgres.sh")
mode=${PGBOUNCER_POOL_MODE:-transaction}
size=${PGBOUNCER_POOL_SIZE:-20}
clients=${PGBOUNCER_MAX_CLIENTS:-10000}
bin=$("$here/ensure-pgbouncer.sh")
die() { echo "start-pgbouncer: $*" >&2; exit 1; }

# postgres[ql]://[user[:password]@]host[:port][/database][?…]; a unix socket host is not handled.
rest=${url#*://}
[ "$rest" != "$url" ] || die "not a postgres:// URL"
rest=${rest%%[/?]*}
user=postgres password=""
if [ "${rest#*@}" != "$rest" ]; then
  cred=${rest%@*} rest=${rest##*@}
  user=${cred%%:*}
  [ "${cred#*:}" = "$cred" ] || password=${cred#*:}
fi
decode() { local s=${1//+/ }; printf '%b' "${s//%/\\x}"; }
user=$(decode "$user") password=$(decode "$password")
case $rest in
  \[*\]:*) host=${rest%%]:*}; host=${host#[}; port=${rest##*]:} ;;
  \[*\]) host=${rest#[}; host=${host%]}; port=5432 ;;
  *:*) host=${rest%:*} port=${rest##*:} ;;
  *) host=$rest port=5432 ;;
esac
[ -n "$host" ] || host=127.0.0.1
case $user$password in *\"*) die "a user or password holding a double quote is not handled" ;; esac

dir=${PGBOUNCER_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/agora-pgbouncer.XXXXXX")}
mkdir -p "$dir"
[ ! -f "$dir/pgbouncer.pid" ] || ! kill -0 "$(cat "$dir/pgbouncer.pid")" 2>/dev/null ||
  die "a pgbouncer already runs from $dir (pid $(cat "$dir/pgbouncer.pid"))"
printf '"%s" "%s"\n' "$user" "$password" >"$dir/userlist.txt"
chmod 600 "$dir/userlist.txt"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# PgBouncer will not run as root: it drops to another user, who must own the directory.
as=()
if [ "$(id -u)" -eq 0 ]; then
  run_as=nobody; id postgres >/dev/null 2>&1 && run_as=postgres
  as=(-u "$run_as")
  chown -R "$run_as" "$dir"
fi
# max_client_conn needs as many descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tries=1; [ -n "${PGBOUNCER_PORT:-}" ] || tries=5
for _ in $(seq 1 "$tries"); do
  listen=${PGBOUNCER_PORT:-$(free_port)}
  cat >"$dir/pgbouncer.ini" <<EOF
; Written by scripts/start-pgbouncer.sh: a throwaway pooler for tests.
[databases]
* = host=$host port=$port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = $user
stats_users = $user
pool_mode = $mode
default_pool_size = $size
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = $clients
; sqlx sends extra_float_digits at start-up, and options when it is configured; PgBouncer
; refuses a client that sends a parameter it neither tracks nor ignores.
ignore_startup_parameters = extra_float_digits,options
server_login_retry = 1
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  [ ${#as[@]} -eq 0 ] || chown "${as[1]}" "$dir/pgbouncer.ini"
  : >"$dir/pgbouncer.log"
  [ ${#as[@]} -eq 0 ] || chown "${as[1]}" "$dir/pgbouncer.log"
  if "$bin" -d "${as[@]}" "$dir/pgbouncer.ini" >>"$dir/pgbouncer.log" 2>&1; then
    # Up once it says so; it carries on with the unix socket alone when the port is taken.
    for _ in $(seq 1 50); do grep -q 'process up' "$dir/pgbouncer.log" && break; sleep 0.1; done
    if grep -q "listening on 127.0.0.1:$listen\$" "$dir/pgbouncer.log" && listening "$listen"; then
      echo "start-pgbouncer: $mode pooling on 127.0.0.1:$listen in front of $host:$port; directory $dir; stop: kill \$(cat $dir/pgbouncer.pid)" >&2
      echo "$listen"
      exit 0
    fi
    [ ! -f "$dir/pgbouncer.pid" ] || kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    for _ in $(seq 1 20); do [ -f "$dir/pgbouncer.pid" ] || break; sleep 0.1; done
  fi
done
echo "start-pgbouncer: pgbouncer did not start; its log ($dir/pgbouncer.log):" >&2
tail -n 20 "$dir/pgbouncer.log" >&2
exit 1
