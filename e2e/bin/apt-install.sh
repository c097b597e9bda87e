#!/usr/bin/env bash
# Installs the Debian packages named that are not installed yet (none: does nothing), waiting for
# another apt run to finish rather than failing on its lock.
#   usage: apt-install.sh package...
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0
printf '[deps %s] apt-get install %s\n' "$(date +%H:%M:%S)" "${missing[*]}" >&2
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
  --no-install-recommends "${missing[@]}" >/dev/null
