#!/usr/bin/env bash
# `podman` as it runs on machines whose cgroups crun refuses (Cairn's CI hosts): runc, cgroupfs and
# deploy/podman/containers.conf (default_ulimits = []). On a normal machine plain `podman` or
# `docker` does the same job. Usage: deploy/scripts/podman.sh build -t cairn .
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/../podman/containers.conf}"
exec podman --runtime /usr/sbin/runc --cgroup-manager cgroupfs "$@"
