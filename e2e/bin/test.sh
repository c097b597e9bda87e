#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, starts the real servers once for the
# whole run (PostgreSQL, Kubernetes control plane with kwok nodes and two real nodes, Temporal), runs typecheck,
# lint, the compiled build, every TypeScript test file and the Python tests, then stops the servers.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
bash e2e/bin/install-deps.sh

echo "== typecheck"
npx tsc -p tsconfig.json
echo "== lint"
npx eslint --quiet .
npx prettier --check . >/dev/null || { npx prettier --check . ; exit 1; }
echo "== build"
# The compiled dist/ (what the images hold): its tests run it with plain node. Suites that need the
# container images build them through ensureImages() (e2e/src/infra/images.ts), cached by content.
npm run build

state=$(mktemp -d /tmp/switchforge-test-XXXXXX)
export SWITCHFORGE_STATE_DIR="$state" SWITCHFORGE_INFRA_STATE="$state"
cleanup() { node --import tsx e2e/src/infra/cli.ts down >/dev/null 2>&1 || true; rm -rf "$state"; }
trap cleanup EXIT
echo "== starting infrastructure"
node --import tsx e2e/src/infra/cli.ts up postgres kubernetes temporal nodes
# The CRDs once for the run: suites applying them at the same moment would race to create them.
"${SWITCHFORGE_CACHE:-$HOME/.cache/switchforge}/bin/kubectl" --kubeconfig "$state/kubernetes/admin.kubeconfig" apply --server-side -f crds/device.yaml -f crds/audiojob.yaml -f crds/devicediscovery.yaml -f crds/deviceprofile.yaml -f crds/deviceinventory.yaml >/dev/null

status=0
echo "== TypeScript tests"
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.test.ts' | grep -v node_modules | sort)
node --import tsx --test --test-concurrency=2 --test-timeout=600000 --test-reporter=spec "${files[@]}" || status=$?

if [ -f python-workers/run-tests.sh ]; then
  echo "== Python tests"
  bash python-workers/run-tests.sh || status=$?
fi
echo "== test command finished in $(( $(date +%s) - start )) s (exit $status)"
exit $status
