#!/usr/bin/env bash
# `make image`: builds deploy/Dockerfile into an OCI image with buildah (daemonless), from base
# images made here rather than pulled: debian:bookworm-slim from debootstrap, rust:<version>-bookworm
# from that plus the local Rust toolchain. Then runs the image's binary. Needs root, network to
# the Debian and crates.io mirrors, and ~4 GiB in ~/.cache/agora/image (vfs storage).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${AGORA_CACHE:-$HOME/.cache/agora}/image
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
need() { command -v "$1" >/dev/null 2>&1 || apt-get install -y -qq "$2" >/dev/null; }
need buildah buildah
need debootstrap debootstrap
mkdir -p "$cache"
release=bookworm
rust_version=$(rustc --version | cut -d' ' -f2 | cut -d. -f1,2)
toolchain=$(rustc --print sysroot)

have() { buildah images --format '{{.Name}}:{{.Tag}}' 2>/dev/null | grep -qx "localhost/$1"; }

if ! have "debian:$release-slim"; then
  echo "image: making debian:$release-slim with debootstrap"
  rm -rf "$cache/rootfs"
  debootstrap --variant=minbase "$release" "$cache/rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log"
  c=$(buildah from scratch)
  buildah copy "$c" "$cache/rootfs" / >/dev/null
  buildah commit --quiet "$c" "localhost/debian:$release-slim" >/dev/null
  buildah rm "$c" >/dev/null
fi
if ! have "rust:$rust_version-$release"; then
  echo "image: making rust:$rust_version-$release from it and the local toolchain ($toolchain)"
  c=$(buildah from "localhost/debian:$release-slim")
  buildah run "$c" -- sh -c 'apt-get update -qq && apt-get install -y -qq gcc libc6-dev ca-certificates >/dev/null'
  for d in bin lib; do buildah copy "$c" "$toolchain/$d" "/usr/local/rust/$d" >/dev/null; done
  # This machine's trust store, so cargo reaches crates.io as the host does (through its proxy).
  buildah copy "$c" /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt >/dev/null
  buildah config --env PATH=/usr/local/rust/bin:/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env CARGO_HOME=/usr/local/cargo "$c"
  buildah commit --quiet "$c" "localhost/rust:$rust_version-$release" >/dev/null
  buildah rm "$c" >/dev/null
fi

commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
run_image() {
  echo "image: running it as its entrypoint does (user, environment, tini, serve)"
  buildah inspect --format '{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}}{{"\n"}}' localhost/agora:dev
  local port
  c=$(buildah from localhost/agora:dev)
  trap 'kill "${pid:-}" 2>/dev/null || true; buildah rm "${c:-}" >/dev/null 2>&1 || true' EXIT
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  buildah run --env AGORA_LISTEN="127.0.0.1:$port" "$c" -- /usr/bin/tini -- agora serve >"$cache/run.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  # The image's own HEALTHCHECK command, inside the container.
  buildah run "$c" -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3 && head -n1 <&3 | grep -q ' 200 '"
  local version
  version=$(curl -sf "http://127.0.0.1:$port/version")
  echo "image: /healthz answered, HEALTHCHECK passed, /version says $version"
  grep -q "$commit" <<<"$version" || { echo "image: /version does not name commit $commit" >&2; exit 1; }
  buildah run "$c" -- id -u | grep -qx 10001
  echo "image: ok"
}
if [ "${1:-}" != "--run-only" ]; then
  echo "image: building deploy/Dockerfile (commit $commit)"
  buildah bud --pull-never --layers=false -f "$root/deploy/Dockerfile" \
    --build-arg RUST_VERSION="$rust_version" --build-arg DEBIAN_RELEASE="$release" \
    --build-arg AGORA_BUILD_COMMIT="$commit" -t localhost/agora:dev "$root"
fi
run_image
