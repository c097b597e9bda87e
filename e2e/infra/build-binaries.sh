#!/usr/bin/env bash
# Builds the real servers the project runs locally and in tests (Kubernetes control plane,
# kubectl, etcd, kwok, the Temporal CLI) from their published Go modules, at pinned versions.
# Idempotent: each binary is built once into the cache and reused; a fresh machine rebuilds.
#   usage: build-binaries.sh [name ...]   (default: all)
set -euo pipefail

K8S_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.7.0
TEMPORAL_CLI_VERSION=v1.5.1
GNMI_VERSION=v0.14.1
HELM_VERSION=v3.19.5
VERSITYGW_VERSION=v1.8.0

CACHE="${SWITCHFORGE_CACHE:-$HOME/.cache/switchforge}"
BIN="$CACHE/bin"
WORK="$CACHE/build"
mkdir -p "$BIN" "$WORK"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Serialise concurrent builders (two test suites starting at once) on one lock.
exec 9>"$CACHE/build.lock"
flock 9

# `go build -v` names each package as it compiles: print a count now and then, pass errors through.
progress() { # label
  awk -v label="$1" '/^[A-Za-z0-9._~-]+(\/[^ :]+)*$/ { n++; if (n % 200 == 0) printf("[build %s] %s: %d packages compiled\n", strftime("%H:%M:%S"), label, n) > "/dev/stderr"; next } { print > "/dev/stderr" }'
}

have() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/$1.version" 2>/dev/null)" = "$2" ]; }

# k8s.io/kubernetes commands, all from one wrapper module.
#   build_k8s_cmds label name...   (each name is a k8s.io/kubernetes/cmd/<name> package)
build_k8s_cmds() {
  local label=$1
  shift
  local names=("$@") missing=0 n
  for n in "${names[@]}"; do have "$n" "$K8S_VERSION" || missing=1; done
  [ $missing = 0 ] && return 0
  log "kubernetes $K8S_VERSION: ${names[*]} (cold: 15-30 min on 2 cores)"
  local dir="$WORK/kubernetes-$K8S_VERSION" minor="${K8S_VERSION#v1.}"
  minor="${minor%%.*}"
  mkdir -p "$dir"
  # k8s.io/kubernetes points its staging modules at ./staging; a wrapper module replaces each
  # with the published v0.Y.Z so that the main module can be built from the proxy.
  local stage="v0.${K8S_VERSION#v1.}"
  {
    echo "module switchforge.local/kubernetes-build"
    echo "go 1.24"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo "replace ("
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$stage"'#p' "$gomod"
    echo ")"
  } > "$dir/go.mod"
  local pkgs=()
  for n in "${names[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$n"); done
  (cd "$dir" && go mod download k8s.io/kubernetes && go get "${pkgs[0]}@$K8S_VERSION" "${pkgs[@]:1}" >/dev/null 2>&1 || true)
  local ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  (cd "$dir" && go build -v -trimpath -ldflags "$ld" -o "$dir/out/" "${pkgs[@]}" 2>&1 | progress "$label")
  for n in "${names[@]}"; do install -m 0755 "$dir/out/$n" "$BIN/$n"; echo "$K8S_VERSION" > "$BIN/$n.version"; done
}
build_kubernetes() { build_k8s_cmds kubernetes kube-apiserver kube-controller-manager kube-scheduler kubectl; }
# The local cluster's real nodes: the kubelet and kube-proxy of the control plane's version.
build_nodes() { build_k8s_cmds nodes kubelet kube-proxy; }

# One Go main package, built in a throwaway module that requires it at a pinned version.
build_module_cmd() { # name module version package
  local name=$1 module=$2 version=$3 pkg=$4
  have "$name" "$version" && return 0
  log "$name $version from $pkg"
  local dir="$WORK/$name-$version"
  mkdir -p "$dir"
  printf 'module switchforge.local/%s-build\ngo 1.24\n' "$name" > "$dir/go.mod"
  (cd "$dir" && go get "$module@$version" && go build -v -trimpath -ldflags "-s -w" -o "$dir/$name" "$pkg" 2>&1 | progress "$name")
  install -m 0755 "$dir/$name" "$BIN/$name"
  echo "$version" > "$BIN/$name.version"
}

build_etcd() { build_module_cmd etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3; }
build_kwok() { build_module_cmd kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok; }
build_temporal() { build_module_cmd temporal github.com/temporalio/cli "$TEMPORAL_CLI_VERSION" github.com/temporalio/cli/cmd/temporal; }
# helm: the chart's lint and template tests. The -X flags stamp the version `helm version` reports
# and the Kubernetes version that lint and template assume (helm's Makefile derives it from
# client-go; ours is the control plane's, which helm $HELM_VERSION's client-go matches).
build_helm() {
  local minor="${K8S_VERSION#v1.}"
  minor="${minor%%.*}"
  have helm "$HELM_VERSION+k8s1.$minor" && return 0
  log "helm $HELM_VERSION from helm.sh/helm/v3/cmd/helm"
  local dir="$WORK/helm-$HELM_VERSION" ld="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" pkg
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ld="$ld -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
  done
  mkdir -p "$dir"
  printf 'module switchforge.local/helm-build\ngo 1.24\n' > "$dir/go.mod"
  (cd "$dir" && go get "helm.sh/helm/v3@$HELM_VERSION" && go build -trimpath -ldflags "$ld" -o "$dir/helm" helm.sh/helm/v3/cmd/helm)
  install -m 0755 "$dir/helm" "$BIN/helm"
  echo "$HELM_VERSION+k8s1.$minor" > "$BIN/helm.version"
}
# Versity Gateway: the S3-compatible object store for the audio stems (its posix backend serves a
# folder). Apache-2.0, one main package; MinIO's community edition is AGPL and in maintenance mode,
# SeaweedFS a much larger build for a cluster store the tests don't need.
build_versitygw() { build_module_cmd versitygw github.com/versity/versitygw "$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw; }
build_gnmi-fake() { build_module_cmd gnmi-fake-server github.com/openconfig/gnmi "$GNMI_VERSION" github.com/openconfig/gnmi/testing/fake/gnmi/cmd/fake_server; }

# A program of ours, e2e/infra/<name>/main.go, built against the modules given (`go get`
# arguments); built again when its source changes.
build_local_main() {
  local name=$1 release=$2 src version dir
  shift 2
  src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$name/main.go"
  version="$release+$(sha256sum "$src" | cut -c1-12)"
  have "$name" "$version" && return 0
  log "$name $release with the components of $src"
  dir="$WORK/$name-$release"
  mkdir -p "$dir"
  printf 'module switchforge.local/%s-build\ngo 1.24\n' "$name" > "$dir/go.mod"
  cp "$src" "$dir/main.go"
  (cd "$dir" && go get "$@" && go mod tidy \
    && go build -v -trimpath -ldflags "-s -w" -o "$dir/$name" . 2>&1 | progress "$name")
  install -m 0755 "$dir/$name" "$BIN/$name"
  echo "$version" > "$BIN/$name.version"
}

# CoreDNS for the local cluster, with the plugins e2e/infra/coredns/main.go names.
COREDNS_VERSION=v1.14.7
build_coredns() { build_local_main coredns "$COREDNS_VERSION" "github.com/coredns/coredns@$COREDNS_VERSION"; }

# Telegraf (the ingest benchmark's comparison) with only the plugins the benchmark runs: its
# build tags select plugins, which cuts the build to about 30 s once the Go cache holds grpc (a
# few minutes cold) instead of compiling hundreds of plugins. Not in the default targets.
build_telegraf() {
  local version=v1.37.2 tags=custom,inputs.gnmi,outputs.postgresql
  have telegraf "$version+$tags" && return 0
  log "telegraf $version with $tags"
  local dir="$WORK/telegraf-$version"
  mkdir -p "$dir"
  printf 'module switchforge.local/telegraf-build\ngo 1.25\n' > "$dir/go.mod"
  (cd "$dir" && go get "github.com/influxdata/telegraf@$version" \
    && go build -trimpath -tags "$tags" -ldflags "-s -w -X github.com/influxdata/telegraf/internal.Version=${version#v}" \
      -o "$dir/telegraf" github.com/influxdata/telegraf/cmd/telegraf)
  install -m 0755 "$dir/telegraf" "$BIN/telegraf"
  echo "$version+$tags" > "$BIN/telegraf.version"
}

# A minimal OpenTelemetry Collector (the OTLP receiver and the file exporter, e2e/infra/otelcol/main.go):
# the device-output test's OTLP receiver. Debian's Prometheus (2.42) has no OTLP receiver (2.47 added
# one). One collector release for every module: the file exporter is served at v0.161.0, the core
# modules of that release are v0.161.0 and v1.67.0. Not in the default targets; about a minute once
# the Go cache holds grpc.
OTELCOL_VERSION=v0.161.0
build_otelcol() {
  build_local_main otelcol "$OTELCOL_VERSION" \
    "go.opentelemetry.io/collector/otelcol@$OTELCOL_VERSION" \
    "go.opentelemetry.io/collector/receiver/otlpreceiver@$OTELCOL_VERSION" \
    "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter@$OTELCOL_VERSION" \
    go.opentelemetry.io/collector/confmap/provider/fileprovider@v1.67.0 \
    go.opentelemetry.io/collector/confmap/provider/envprovider@v1.67.0
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(etcd kubernetes nodes coredns kwok temporal gnmi-fake helm versitygw)
for t in "${targets[@]}"; do "build_$t"; done
log "binaries ready in $BIN"
