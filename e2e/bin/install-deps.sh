#!/usr/bin/env bash
# Installs everything switchforge needs on a bare Debian machine, idempotently and cached:
# Debian packages, npm packages, the Go-built servers, the Python virtual environment.
#   usage: install-deps.sh [--no-python]
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { printf '[deps %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

APT_PACKAGES=(postgresql-15 postgresql-contrib openssl util-linux procps ca-certificates python3-venv)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

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
