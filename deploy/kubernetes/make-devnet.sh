#!/usr/bin/env bash
# Makes overlays/devnet/generated/ for `kubectl apply -k deploy/kubernetes/overlays/devnet`: the
# validators' keys (Secret cairn-validator-keys), the genesis (ConfigMap cairn-genesis) and the
# bootnodes as DNS multiaddrs of the StatefulSet's pods (ConfigMap cairn-bootnodes), from
# `cairn devnet init`. The keys are secrets: generated/ is git-ignored; in production keep them in
# a secret manager (External Secrets, Sealed Secrets, SOPS) instead of files.
#
# VALIDATORS (4). CAIRN: how to run the CLI (default: `cairn` when it is on PATH, else this
# checkout's packages/node/bin/cairn.js; without a checkout: CAIRN="docker run --rm --user 0 -v
# /tmp:/tmp localhost/cairn:latest").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# OUT: where to write (default overlays/devnet/generated; podman-pods.mjs --dir reads any).
out="${OUT:-$here/overlays/devnet/generated}"
n="${VALIDATORS:-4}"
checkout_cli="$here/../../packages/node/bin/cairn.js"
if [ -n "${CAIRN:-}" ]; then
  cairn="$CAIRN"
elif command -v cairn >/dev/null 2>&1; then
  cairn=cairn
elif [ -f "$checkout_cli" ] && [ -d "$here/../../node_modules" ]; then
  cairn="node $checkout_cli"
else
  echo "error: no cairn CLI: put cairn on PATH, run npm ci in this checkout, or set CAIRN (e.g. CAIRN=\"docker run --rm --user 0 -v /tmp:/tmp localhost/cairn:latest\")" >&2
  exit 2
fi
if [ -e "$out/genesis.json" ]; then
  echo "error: $out already holds a network (remove it to make a new one: new keys, new genesis)" >&2
  exit 2
fi
tmp="$(mktemp -d /tmp/cairn-k8s-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
$cairn devnet init --validators "$n" --dir "$tmp/net"
node "$here/../scripts/devnet-for-containers.mjs" --dir "$tmp/net" --host 'cairn-validator-{k}.cairn-validators'
mkdir -p "$out"
cp "$tmp/net/genesis.json" "$out/genesis.json"
for i in $(seq 1 "$n"); do
  k=$((i - 1))
  install -m 0600 "$tmp/net/node-$i/keys/node.key" "$out/validator-$k.node.key"
  install -m 0600 "$tmp/net/node-$i/keys/validator.key" "$out/validator-$k.validator.key"
done
printf 'bootnodes=%s\n' "$(cat "$tmp/net/bootnodes")" > "$out/bootnodes.env"
echo "wrote $out (kubectl apply -k $here/overlays/devnet)"
