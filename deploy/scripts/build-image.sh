#!/usr/bin/env bash
# Builds the Cairn image the way this repository tests it, in one command:
#   deploy/scripts/build-image.sh                 → localhost/cairn:latest (what compose and the
#                                                   Kubernetes devnet overlay run)
# - the base: BASE if set; else with Docker its default (node:24-bookworm-slim); with Podman the
#   local base localhost/cairn-base:node24, made by make-base-image.sh when missing and when
#   Docker Hub cannot be reached (REGISTRY_BASE=1 skips the local base);
# - the host's CA bundle (/etc/ssl/certs/ca-certificates.crt, or CA_BUNDLE) mounted into the build
#   for npm: harmless on an open network, needed behind a proxy that intercepts TLS;
# - Podman: Docker's image format (`--format docker`: Podman drops HEALTHCHECK from OCI images);
# - then the build stage's image, which Podman keeps (`<none>`, ~830 MB), is removed (by its label
#   cairn.stage=build: no other image is touched), and the image's size is printed.
# Environment: IMAGE (localhost/cairn:latest), DOCKER (use this docker CLI instead of Podman),
# BASE, CA_BUNDLE, COMMIT (default: git rev-parse HEAD), NETWORK (host).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
IMAGE="${IMAGE:-localhost/cairn:latest}"
if [ -n "${DOCKER:-}" ]; then
  run() { "$DOCKER" "$@"; }
else
  run() { "$root/deploy/scripts/podman.sh" "$@"; }
fi

args=(--network "${NETWORK:-host}")
if [ -z "${BASE:-}" ] && [ -z "${DOCKER:-}" ] && [ -z "${REGISTRY_BASE:-}" ]; then
  BASE=localhost/cairn-base:node24
  run image exists "$BASE" || "$root/deploy/scripts/make-base-image.sh"
fi
[ -n "${BASE:-}" ] && args+=(--build-arg "BASE=$BASE")
ca="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
# (docker build has no -v: with Docker, a proxy's CA goes into the base image instead.)
if [ -f "$ca" ] && [ -z "${DOCKER:-}" ]; then
  args+=(-v "$ca:/run/extra-ca.crt:ro" --build-arg EXTRA_CA_CERTS=/run/extra-ca.crt)
fi
[ -z "${DOCKER:-}" ] && args+=(--format docker)
version="$(node -p "require('./packages/node/package.json').version")"
commit="${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
args+=(--build-arg "VERSION=$version" --build-arg "COMMIT=$commit" --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)")

start=$(date +%s)
run build "${args[@]}" -t "$IMAGE" .
echo "built $IMAGE in $(($(date +%s) - start)) s"
# The build stage's image (dangling once the build ends): removed; nothing else is.
run image prune -f --filter label=cairn.stage=build >/dev/null || true
size=$(run image inspect "$IMAGE" --format '{{.Size}}')
echo "image size $(awk -v s="$size" 'BEGIN { printf "%.0f MB", s / 1e6 }')"
