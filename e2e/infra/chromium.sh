#!/usr/bin/env bash
# Installs Debian's Chromium (driven by playwright-core in the browser tests) if it is missing,
# and fetches GraphiQL's scripts. Idempotent: installs nothing when /usr/bin/chromium exists;
# runs apt-get update only when apt does not know the package yet. Exits non-zero when it cannot
# install (no root, no network); the browser test then skips and says why.
set -euo pipefail
install_chromium() {
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "chromium.sh: /usr/bin/chromium is missing and this user cannot install packages" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show chromium >/dev/null 2>&1; then
  $SUDO apt-get update -qq
fi
# Serialise with other installers on the machine (dpkg has its own lock, but waits are friendlier).
$SUDO flock /tmp/switchforge-apt.lock apt-get install -y -qq --no-install-recommends chromium >/dev/null
}
[ -x /usr/bin/chromium ] || install_chromium
test -x /usr/bin/chromium

# GraphiQL's scripts for the browser test (the API serves them in development mode when
# SWITCHFORGE_GRAPHIQL_ASSETS points here): one tarball through npm's own client, no dependencies.
GRAPHIQL_VERSION=4.5.0
cache="${SWITCHFORGE_CACHE:-$HOME/.cache/switchforge}/graphiql/$GRAPHIQL_VERSION"
if [ ! -f "$cache/dist/yoga-graphiql.umd.js" ]; then
  mkdir -p "$cache"
  tarball=$(cd "$cache" && npm pack --silent "@graphql-yoga/graphiql@$GRAPHIQL_VERSION")
  tar -xzf "$cache/$tarball" -C "$cache" --strip-components=1 package/dist
  rm -f "$cache/$tarball"
fi
echo "graphiql assets: $cache/dist"
