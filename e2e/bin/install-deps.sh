#!/usr/bin/env bash
# Installs everything switchforge needs on a bare Debian machine, idempotently and cached:
# Debian packages, npm packages, the Go-built servers, the Python virtual environment.
#   usage: install-deps.sh [--no-python]
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { printf '[deps %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# containerd, runc, the CNI plugins, iptables, conntrack and iproute2: the local real nodes.
APT_PACKAGES=(postgresql-15 postgresql-contrib openssl util-linux procps ca-certificates python3-venv
  containerd runc containernetworking-plugins iptables conntrack iproute2)
bash e2e/bin/apt-install.sh "${APT_PACKAGES[@]}"

# npm: reinstall only when the lockfile changed since the last install.
stamp=node_modules/.switchforge-lock-hash
want=$(sha256sum package-lock.json | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi

bash e2e/infra/build-binaries.sh
# Protocol peers and tools written by others that the tests drive.
bash e2e/infra/prometheus.sh >/dev/null
bash e2e/infra/chromium.sh >/dev/null

if [ "${1:-}" != "--no-python" ] && [ -f python-workers/setup.sh ]; then
  bash python-workers/setup.sh >/dev/null
fi
log "dependencies ready"
