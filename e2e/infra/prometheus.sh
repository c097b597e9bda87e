#!/usr/bin/env bash
# Installs Debian's Prometheus server (the dashboards test scrapes every component with it), once,
# and prints the path of its binary. Idempotent: an installed package is only located.
#   usage: prometheus.sh
set -euo pipefail
log() { printf '[prometheus %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if ! dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -q 'install ok installed'; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  # Serialise with other installers; refresh the lists only when apt does not know the package.
  exec 9>/tmp/switchforge-apt.lock
  flock 9
  if ! dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -q 'install ok installed'; then
    apt-cache show prometheus >/dev/null 2>&1 || { log "apt-get update"; $SUDO apt-get update -qq; }
    log "apt-get install prometheus"
    # The package's service is not wanted: tests start their own server on a loopback port.
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
  fi
fi
command -v prometheus || { [ -x /usr/bin/prometheus ] && echo /usr/bin/prometheus; } || { log "prometheus binary not found"; exit 1; }
