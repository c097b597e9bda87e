#!/usr/bin/env bash
# `npm run up`: installs what is missing, then brings the whole system up locally in the
# background (control plane, PostgreSQL, Temporal, simulated switches, operator, workers, API).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash e2e/bin/install-deps.sh
exec node --import tsx e2e/src/local/cli.ts up
