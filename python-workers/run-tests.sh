#!/usr/bin/env bash
# Build the venv if needed, then run the pytest suite of python-workers (extra args go to pytest).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$("$here/setup.sh" | tail -n 1)"
cd "$here"
exec "$venv/bin/python" -m pytest "$@"
