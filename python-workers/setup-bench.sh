#!/usr/bin/env bash
# Create (once) the analyzer benchmark's venv (bench-requirements.txt: the analyzer's imports,
# mir_eval and essentia, which is AGPL and so kept out of the image's venv) and print its path as
# the last line of stdout. Named for a hash of its requirement files, like setup.sh's venv.
#   SWITCHFORGE_CACHE   cache root (default ~/.cache/switchforge)
#   PYTHON              interpreter to build the venv from (default python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SWITCHFORGE_CACHE:-$HOME/.cache/switchforge}"
python="${PYTHON:-python3}"

hash="$(cat "$here/bench-requirements.txt" "$here/requirements.txt" | sha256sum | cut -c1-12)"
venv="$cache/venv/analyzer-bench-$hash"

if [[ -f "$venv/.complete" ]]; then
  echo "$venv"
  exit 0
fi

mkdir -p "$cache/venv" "$cache/wheels-bench"
exec 9>"$venv.lock"
flock 9
if [[ ! -f "$venv/.complete" ]]; then
  echo "analyzer bench: building $venv with $("$python" --version 2>&1)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  pip=("$venv/bin/python" -m pip --disable-pip-version-check)
  reqs=(-r "$here/bench-requirements.txt")
  # Offline from the wheelhouse when it holds everything, else fill it first.
  if ! (cd "$here" && "${pip[@]}" install --progress-bar off --no-index --find-links "$cache/wheels-bench" "${reqs[@]}") >&2 2>/dev/null; then
    echo "analyzer bench: fetching wheels into $cache/wheels-bench" >&2
    (cd "$here" && "${pip[@]}" wheel --progress-bar off -w "$cache/wheels-bench" --find-links "$cache/wheels-bench" "${reqs[@]}") >&2
    (cd "$here" && "${pip[@]}" install --progress-bar off --no-index --find-links "$cache/wheels-bench" "${reqs[@]}") >&2
  fi
  "$venv/bin/python" -c "import essentia.standard, librosa, mir_eval" >&2
  touch "$venv/.complete"
  echo "analyzer bench: ready" >&2
fi
echo "$venv"
