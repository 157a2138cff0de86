#!/usr/bin/env bash
# Cold fetch of a corpus of git repositories: agora with AGORA_UPSTREAM=direct against the go
# command's own `go mod download` with GOPROXY=direct, on the same repositories, in one run.
#
#   benches/direct.sh            # uses target/release/agora if present, else builds debug
#   AGORA_BIN=path/to/agora benches/direct.sh
#
# Both sides run `go mod download` of the same module versions into an empty module cache; the
# only difference is where the go command gets them from (git itself, or agora reading git).
# Prints each round's times and the median ratio agora/go (lower is better; the target is <= 0.8).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
go=$("$root/scripts/ensure-go.sh")
bin=${AGORA_BIN:-}
if [ -z "$bin" ]; then
  if [ -x "$root/target/release/agora" ]; then bin="$root/target/release/agora"
  else (cd "$root" && SQLX_OFFLINE=true cargo build -q --bin agora); bin="${CARGO_TARGET_DIR:-$root/target}/debug/agora"; fi
fi
work=$(mktemp -d)
agora_pid=""
cleanup() { [ -n "$agora_pid" ] && kill "$agora_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
commit() { # dir date tag...
  local dir=$1 date=$2; shift 2
  git -C "$dir" add -A
  GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b \
    GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date git -C "$dir" commit -qm "$date"
  for t in "$@"; do git -C "$dir" tag "$t"; done
}
repo() { mkdir -p "$work/repos/$1"; git -C "$work/repos/$1" init -qb main; }

# The corpus: the shapes the differential test covers, plus a few ordinary modules.
repo caps; d=$work/repos/caps
printf 'module github.com/Bench-Org/Caps\n\ngo 1.21\n' >"$d/go.mod"; echo 'package caps' >"$d/caps.go"; echo lic >"$d/LICENSE"
commit "$d" 2024-01-01T00:00:00Z v1.0.0
repo multi; d=$work/repos/multi; mkdir -p "$d/sub" "$d/v2" "$d/vendor/x/y"
printf 'module github.com/benchorg/multi\n\ngo 1.21\n' >"$d/go.mod"; echo 'package multi' >"$d/multi.go"; echo lic >"$d/LICENSE"
printf '*.txt eol=crlf\n' >"$d/.gitattributes"; printf 'a\nb\n' >"$d/notes.txt"
printf '# x/y v1.0.0\n' >"$d/vendor/modules.txt"; echo 'package y' >"$d/vendor/x/y/y.go"
printf 'module github.com/benchorg/multi/sub\n\ngo 1.21\n' >"$d/sub/go.mod"; echo 'package sub' >"$d/sub/sub.go"
printf 'module github.com/benchorg/multi/v2\n\ngo 1.21\n' >"$d/v2/go.mod"; echo 'package multi' >"$d/v2/multi.go"
commit "$d" 2024-01-01T00:00:00Z v1.0.0 sub/v0.1.0 v2.0.0
repo legacy; d=$work/repos/legacy
for v in 1 2 3; do echo "package legacy // $v" >"$d/legacy.go"; commit "$d" 2024-0$v-01T00:00:00Z v$v.0.0; done
repo big; d=$work/repos/big
printf 'module github.com/benchorg/big\n\ngo 1.21\n' >"$d/go.mod"; echo 'package big' >"$d/big.go"
head -c $((21 << 20)) /dev/urandom >"$d/data.bin"; commit "$d" 2024-01-01T00:00:00Z v1.0.0
for i in $(seq 1 8); do
  repo "lib$i"; d=$work/repos/lib$i
  printf 'module github.com/benchorg/lib%s\n\ngo 1.21\n' "$i" >"$d/go.mod"
  for f in $(seq 1 40); do printf 'package lib\n\nconst C%s = "%s"\n' "$f" "$(head -c 600 /dev/urandom | base64 -w0)" >"$d/f$f.go"; done
  commit "$d" 2024-01-01T00:00:00Z v1.0.0
  echo '// more' >>"$d/f1.go"; commit "$d" 2024-02-01T00:00:00Z v1.1.0
done

{
  echo '[protocol "file"]'; echo '	allow = always'
  for r in "$work"/repos/*; do
    name=$(basename "$r")
    case $name in caps) mod=github.com/Bench-Org/Caps ;; *) mod=github.com/benchorg/$name ;; esac
    printf '[url "file://%s"]\n\tinsteadOf = https://%s\n' "$r" "$mod"
  done
} >"$work/gitconfig"

targets=(github.com/Bench-Org/Caps@v1.0.0 github.com/benchorg/multi@v1.0.0 github.com/benchorg/multi/sub@v0.1.0
  github.com/benchorg/multi/v2@v2.0.0 github.com/benchorg/legacy@v1.0.0 github.com/benchorg/legacy@v2.0.0+incompatible
  github.com/benchorg/legacy@v3.0.0+incompatible github.com/benchorg/big@v1.0.0)
for i in $(seq 1 8); do targets+=("github.com/benchorg/lib$i@v1.0.0" "github.com/benchorg/lib$i@v1.1.0"); done

godl() { # goproxy modcache gitconfig
  mkdir -p "$work/empty"
  (cd "$work/empty" && env -i PATH="$PATH" HOME="$work/home" GOPATH="$work/gopath" GOMODCACHE="$2" \
    GOCACHE="$work/gocache" GOPROXY="$1" GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-modcacherw \
    GIT_CONFIG_GLOBAL="$3" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 \
    "$go" mod download -json "${targets[@]}" >"$work/dl.json")
}
now() { date +%s.%N; }

# Rounds alternate the two sides, each cold: a fresh module cache for the go command, a fresh
# agora (empty database, empty repository cache). The median ratio is the figure; one run on a
# shared 2-core machine varies by +-10 %.
start_agora() { # round
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/agora$1"
  AGORA_LISTEN=127.0.0.1:$port AGORA_DATABASE_URL="sqlite://$work/agora$1/agora.db" AGORA_UPSTREAM=direct \
    AGORA_DATA_DIR="$work/agora$1" AGORA_DIRECT__GIT_CONFIG_GLOBAL="$work/gitconfig" AGORA_LOG__LEVEL=warn \
    "$bin" serve >"$work/agora$1.log" 2>&1 &
  agora_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
}
ROUNDS=${ROUNDS:-5}
ratios=()
for r in $(seq 1 "$ROUNDS"); do
  rm -rf "$work/mc-go" "$work/mc-agora"
  t0=$(now); godl direct "$work/mc-go" "$work/gitconfig"; t1=$(now)
  go_secs=$(echo "$t1 - $t0" | bc)
  start_agora "$r"
  t0=$(now); godl "http://127.0.0.1:$port" "$work/mc-agora" /dev/null; t1=$(now)
  agora_secs=$(echo "$t1 - $t0" | bc)
  ratio=$(echo "$agora_secs / $go_secs" | bc -l)
  ratios+=("$ratio")
  printf 'round %d: go direct %5.2fs, through agora %5.2fs, ratio %.2f\n' "$r" "$go_secs" "$agora_secs" "$ratio"
  [ "$r" -lt "$ROUNDS" ] && { kill "$agora_pid" 2>/dev/null; wait "$agora_pid" 2>/dev/null || true; agora_pid=""; }
done

# Same hashes both ways.
sums() { grep -h '"Sum"' "$1" | sort; }
godl direct "$work/mc-go2" "$work/gitconfig"; sums "$work/dl.json" >"$work/s-go"
godl "http://127.0.0.1:$port" "$work/mc-agora2" /dev/null; sums "$work/dl.json" >"$work/s-agora"
if ! diff -q "$work/s-go" "$work/s-agora" >/dev/null; then echo "h1 hashes differ!"; diff "$work/s-go" "$work/s-agora"; exit 1; fi

echo "modules: ${#targets[@]} versions from $(ls "$work/repos" | wc -l) repositories (one of 21 MiB), $ROUNDS cold rounds"
printf 'ratio agora/go, median of %d: %.2f (min %.2f, max %.2f)\n' "$ROUNDS" \
  "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')" \
  "$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)" "$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)"
