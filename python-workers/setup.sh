#!/usr/bin/env bash
# Create (once) the virtual environment of python-workers and print its path as the last line
# of stdout. The venv is named for a hash of the requirement files, so a change to them builds a
# new one and an unchanged set costs nothing. Progress goes to stderr.
#   SWITCHFORGE_CACHE   cache root (default ~/.cache/switchforge)
#   PYTHON              interpreter to build the venv from (default python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SWITCHFORGE_CACHE:-$HOME/.cache/switchforge}"
python="${PYTHON:-python3}"

hash="$(cat "$here/requirements.txt" "$here/requirements-dev.txt" "$here/constraints.txt" \
  | sha256sum | cut -c1-12)"
venv="$cache/venv/python-workers-$hash"

if [[ -f "$venv/.complete" ]]; then
  echo "$venv"
  exit 0
fi

mkdir -p "$cache/venv" "$cache/wheels"
# One installer at a time per venv; a second caller waits and then finds it complete.
exec 9>"$venv.lock"
flock 9
if [[ ! -f "$venv/.complete" ]]; then
  echo "python-workers: building $venv with $("$python" --version 2>&1)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  # Wheels are kept in a wheelhouse of our own (pip's HTTP cache does not keep this registry's
  # responses, and torch alone is gigabytes): install from it offline when it holds everything,
  # else fill it first (`pip wheel` skips wheels already there and builds any sdist into one).
  pip=("$venv/bin/python" -m pip --disable-pip-version-check)
  reqs=(-r "$here/requirements-dev.txt" -c "$here/constraints.txt")
  if ! "${pip[@]}" install --progress-bar off --no-index --find-links "$cache/wheels" "${reqs[@]}" >&2 2>/dev/null; then
    echo "python-workers: fetching wheels into $cache/wheels" >&2
    "${pip[@]}" wheel --progress-bar off -w "$cache/wheels" --find-links "$cache/wheels" "${reqs[@]}" >&2
    "${pip[@]}" install --progress-bar off --no-index --find-links "$cache/wheels" "${reqs[@]}" >&2
  fi
  # Warm numba's on-disk cache of librosa's compiled kernels so the first job does not pay for it.
  "$venv/bin/python" -c "import librosa, numpy as np; librosa.onset.onset_detect(y=np.random.default_rng(0).standard_normal(22050).astype('float32'), sr=22050)" >&2
  touch "$venv/.complete"
  echo "python-workers: ready" >&2
fi
echo "$venv"
