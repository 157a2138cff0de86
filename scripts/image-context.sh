#!/usr/bin/env bash
# Proves that deploy/Dockerfile can build from the repository as it is, without Docker:
#
#  1. copies exactly what .dockerignore lets through into a scratch directory (the file must
#     be "*" followed by "!path" lines; any other pattern is refused rather than guessed at),
#     and checks that every COPY source of the Dockerfile is in it;
#  2. builds agora there the way the Dockerfile does: --locked, --offline, SQLX_OFFLINE=true,
#     no .git in reach, the commit passed in AGORA_BUILD_COMMIT (the image's build argument);
#  3. runs the binary the way the image does: as the Dockerfile's USER (non-root), with its ENV
#     (its /data and HOME moved to fresh directories owned by that user, listening on a free
#     loopback port instead of 0.0.0.0:3000, AGORA_UPSTREAM=off), and checks `agora --version`,
#     the Dockerfile's own HEALTHCHECK command, /readyz, /version (the commit passed in) and a
#     clean exit on SIGTERM.
#
# Usage: scripts/image-context.sh [--release | --context-only]
#   (default)       dev profile with CARGO_TARGET_DIR defaulting to the repository's target/:
#                   the registry dependencies `make test` has just built are reused and only
#                   gomod and agora compile. Only the context matters for this proof, not the
#                   profile: a missing source fails the dev build exactly as the release one.
#   --release       the release profile, as the image builds it (`make image-context`).
#   --context-only  stop after step 1 (no cargo).
# The context is copied to <target dir>/image-context/context, recreated on every run (a stable
# path lets cargo reuse what it built there last time). The repository's own
# <target dir>/<profile>/agora is put back as it was after the build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

profile=dev profile_dir=debug mode=build
case "${1:-}" in
  "") ;;
  --release) profile=release profile_dir=release ;;
  --context-only) mode=context ;;
  *) echo "usage: $0 [--release | --context-only]" >&2; exit 2 ;;
esac
die() { echo "image-context: FAIL: $*" >&2; exit 1; }
start=$(date +%s)

target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac
ctx=$target_dir/image-context/context
run="" server_pid="" saved=""
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$saved" ]; then
    mv -f "$saved" "$target_dir/$profile_dir/agora" 2>/dev/null || true
  fi
  [ -n "$run" ] && rm -rf "$run"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. the context: "*" then "!path" lines, nothing else ---------------------------------
paths=() first=1
while IFS= read -r line || [ -n "$line" ]; do
  line=${line%$'\r'}
  line=${line#"${line%%[![:space:]]*}"}
  line=${line%"${line##*[![:space:]]}"}
  [[ -z $line || $line == \#* ]] && continue
  if (( first )); then
    [[ $line == '*' ]] || die ".dockerignore: the first pattern must be '*', not '$line'"
    first=0
    continue
  fi
  [[ $line == '!'* ]] || die ".dockerignore: '$line' is not a '!path' line; this script only understands '*' then '!path'"
  p=${line#!}; p=${p#/}; p=${p%/}
  [[ -n $p && $p != *[\]\[*?\\]* ]] || die ".dockerignore: '$line' has a wildcard or escape this script does not understand"
  [[ /$p/ != */../* && /$p/ != */./* && /$p/ != *//* ]] || die ".dockerignore: '$line' is not a plain relative path"
  [[ -e $p ]] || die ".dockerignore: '$line' names nothing in the repository"
  paths+=("$p")
done < .dockerignore
(( first == 0 )) || die ".dockerignore has no patterns"
(( ${#paths[@]} > 0 )) || die ".dockerignore lets nothing through"

rm -rf "$ctx"
mkdir -p "$ctx"
for p in "${paths[@]}"; do
  cp -a --parents "$p" "$ctx/"   # like COPY, keeps modification times
done
files=$(find "$ctx" -type f | wc -l)

# Every COPY source of the Dockerfile (other than --from= stages) must be in the context.
missing=$(awk 'toupper($1) == "COPY" {
    n = 0
    for (i = 2; i <= NF; i++) { if ($i ~ /^--from=/) { n = -1; break } if ($i !~ /^--/) a[++n] = $i }
    for (i = 1; i < n; i++) print a[i]
  }' deploy/Dockerfile | while read -r src; do [ -e "$ctx/$src" ] || echo "$src"; done)
[ -z "$missing" ] || die "deploy/Dockerfile copies what the context leaves out: $(tr '\n' ' ' <<< "$missing")"
copies=$(awk 'toupper($1) == "COPY" && $0 !~ /--from=/' deploy/Dockerfile | wc -l)
if [ "$mode" = context ]; then
  echo "image-context: OK: context of ${#paths[@]} paths ($files files) in $ctx; all $copies COPY sources present"
  exit 0
fi

# --- 2. build it as the Dockerfile does -----------------------------------------------------
command -v "${CARGO:-cargo}" >/dev/null || die "cargo not found"
commit=${AGORA_BUILD_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
out=$target_dir/$profile_dir/agora
if [ -e "$out" ]; then
  saved=$target_dir/$profile_dir/.agora.image-context-saved
  cp -p "$out" "$saved"
fi
release_flag=()
[ "$profile" = release ] && release_flag=(--release)
build_start=$(date +%s)
# GIT_CEILING_DIRECTORIES: the context has no .git and must not find the repository's above it.
(cd "$ctx" && env -u DATABASE_URL -u SQLX_OFFLINE_DIR -u RUSTC_WRAPPER \
   GIT_CEILING_DIRECTORIES="$(dirname "$ctx")" SQLX_OFFLINE=true CARGO_INCREMENTAL=0 \
   CARGO_TERM_COLOR=never AGORA_BUILD_COMMIT="$commit" \
   "${CARGO:-cargo}" build --quiet --locked --offline "${release_flag[@]}" \
     --bin agora --target-dir "$target_dir") || die "cargo build in the context failed"
build_secs=$(( $(date +%s) - build_start ))
run=$(mktemp -d "${TMPDIR:-/tmp}/agora-image-run.XXXXXX")
chmod 0755 "$run"
install -D -m 0755 "$out" "$run/bin/agora"   # like /usr/local/bin/agora in the image
if [ -n "$saved" ]; then mv -f "$saved" "$out"; saved=""; fi

# --- 3. run it the way the image does -------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The runtime stage of the Dockerfile: USER, WORKDIR, EXPOSE, ENV and the HEALTHCHECK command,
# with the image's paths moved under $run and the listen address moved to loopback:$port.
image=$(python3 - "$run" "$port" <<'PY'
import json, re, shlex, sys
run, port = sys.argv[1], sys.argv[2]
text = open("deploy/Dockerfile").read().replace("\\\n", " ")
stage = re.split(r"(?im)^FROM\s", text)[-1]
def last(word):
    found = re.findall(rf"(?im)^{word}\s+(.+)$", stage)
    if not found:
        sys.exit(f"deploy/Dockerfile: no {word} in the runtime stage")
    return found[-1].strip()
expose = last("EXPOSE").split("/")[0]
def local(v):
    v = re.sub(r"(?<![\w.])/data(?=/|$)", run + "/data", v)
    v = re.sub(r"(?<![\w.])/home/agora(?=/|$)", run + "/home", v)
    return v.replace(f"0.0.0.0:{expose}", f"127.0.0.1:{port}")
env = []
for line in re.findall(r"(?im)^ENV\s+(.+)$", stage):
    for item in shlex.split(line):
        k, _, v = item.partition("=")
        env.append(f"{k}={local(v)}")
hc = json.loads(re.search(r"(?im)^HEALTHCHECK\s.*?CMD\s+(\[.*\])\s*$", stage).group(1))
hc = [a.replace(f"/127.0.0.1/{expose}", f"/127.0.0.1/{port}") for a in hc]
uid, _, gid = last("USER").partition(":")
print(f"img_uid={shlex.quote(uid)} img_gid={shlex.quote(gid or uid)}")
print(f"img_workdir={shlex.quote(local(last('WORKDIR')))}")
print("img_env=(" + " ".join(shlex.quote(e) for e in env) + ")")
print("img_healthcheck=(" + " ".join(shlex.quote(a) for a in hc) + ")")
PY
) || die "could not read the runtime stage of deploy/Dockerfile"
img_uid="" img_gid="" img_workdir="" img_env=() img_healthcheck=()
eval "$image"
[[ $img_uid =~ ^[0-9]+$ && $img_uid != 0 ]] || die "the image's USER ($img_uid) is not a numeric non-root uid"
install -d -o "$img_uid" -g "$img_gid" -m 0750 "$run/data"
install -d -o "$img_uid" -g "$img_gid" -m 0750 "$run/home"
as_image=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${img_env[@]}" AGORA_UPSTREAM=off)
if [ "$(id -u)" = 0 ]; then
  as_image+=(setpriv --reuid="$img_uid" --regid="$img_gid" --clear-groups --)
  want_uid=$img_uid
else
  want_uid=$(id -u)   # already unprivileged: run as this user
fi

version=$(cd "$img_workdir" && "${as_image[@]}" "$run/bin/agora" --version) || die "agora --version failed"
[[ $version == "agora "* ]] || die "agora --version printed '$version'"

(cd "$img_workdir" && exec "${as_image[@]}" "$run/bin/agora" serve) > "$run/serve.log" 2>&1 &
server_pid=$!
healthy=""
for _ in $(seq 1 100); do
  kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$run/serve.log" >&2; die "agora serve exited"; }
  if (cd "$img_workdir" && "${as_image[@]}" "${img_healthcheck[@]}") >/dev/null 2>&1; then healthy=1; break; fi
  sleep 0.3
done
[ -n "$healthy" ] || { tail -n 20 "$run/serve.log" >&2; die "the HEALTHCHECK command never succeeded"; }
uid=$(awk '/^Uid:/ {print $3}' "/proc/$server_pid/status")   # effective uid of the server
[ "$uid" = "$want_uid" ] || die "agora serve runs as uid $uid, not $want_uid"
ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
[ "$ready" = 200 ] || die "/readyz answered $ready"
served=$(curl -fsS "http://127.0.0.1:$port/version") || die "/version failed"
python3 -c 'import json, sys; v = json.loads(sys.argv[1]); sys.exit(v.get("commit") != sys.argv[2])' \
  "$served" "$commit" || die "/version says $served, not commit $commit"
[ -s "$run/data/agora.db" ] || die "no SQLite database in the image's data directory"

kill -TERM "$server_pid"
status=0
for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
wait "$server_pid" || status=$?
server_pid=""
[ "$status" = 0 ] || die "agora serve exited with status $status after SIGTERM"

echo "image-context: OK: ${#paths[@]} paths ($files files) from .dockerignore, all $copies COPY sources present;" \
  "built offline ($profile, ${build_secs}s); '$version' ran as uid $uid: HEALTHCHECK ok, /readyz 200," \
  "/version commit $commit, clean exit on SIGTERM ($(( $(date +%s) - start ))s)"
