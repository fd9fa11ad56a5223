#!/usr/bin/env bash
# Build (or reuse) the lab control plane's binaries from the wrapper Go modules in components/:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kubelet, kube-proxy (Kubernetes), etcd, kwok, and copy
# KWOK's own stage definitions next to them. The cache lives outside the checkout, keyed by the pins
# (every go.mod/go.sum here, this script, the Go version): a new pin builds a new directory.
# Prints the cache directory (containing bin/ and kwok-stages/) on stdout; logs go to stderr.
#   YELLOW_CLUSTER_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/datasurface-yellow/cluster)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
components=$here/components
command -v go >/dev/null || { echo "build.sh: go is not on PATH (Go >= 1.26 is needed)" >&2; exit 1; }

kube_version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' "$components/kubernetes/go.mod")
etcd_version=$(awk '$1 == "require" && $2 == "go.etcd.io/etcd/server/v3" {print $3}' "$components/etcd/go.mod")
kwok_version=$(awk '$1 == "require" && $2 == "sigs.k8s.io/kwok" {print $3}' "$components/kwok/go.mod")
[ -n "$kube_version" ] && [ -n "$etcd_version" ] && [ -n "$kwok_version" ] || {
  echo "build.sh: could not read the pinned versions from $components/*/go.mod" >&2; exit 1; }

# Only the modules built here: components/ also holds the lab images' modules (pause, coredns).
key=$( (cat "$components"/{etcd,kubernetes,kwok}/go.mod "$components"/{etcd,kubernetes,kwok}/go.sum "$0"; go version) |
  sha256sum | cut -c1-16)
root=${YELLOW_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/datasurface-yellow/cluster}
out=$root/$kube_version-etcd$etcd_version-kwok$kwok_version-$key
bin=$out/bin

check() {
  local want=$1; shift
  local got
  got=$("$@" 2>&1) || { echo "build.sh: '$*' failed: $got" >&2; return 1; }
  case $got in
    *"$want"*) echo "build.sh: $(basename "$1"): $(echo "$got" | head -n 1)" >&2 ;;
    *) echo "build.sh: $* printed '$got', expected '$want'" >&2; return 1 ;;
  esac
}

verify() {
  check "Kubernetes $kube_version" "$bin/kube-apiserver" --version &&
    check "Kubernetes $kube_version" "$bin/kube-controller-manager" --version &&
    check "Kubernetes $kube_version" "$bin/kube-scheduler" --version &&
    check "Client Version: $kube_version" "$bin/kubectl" version --client &&
    check "Kubernetes $kube_version" "$bin/kubelet" --version &&
    check "Kubernetes $kube_version" "$bin/kube-proxy" --version &&
    check "etcd Version: ${etcd_version#v}" "$bin/etcd" --version &&
    check "${kwok_version#v}" "$bin/kwok" --version &&
    [ -s "$out/kwok-stages/pod-ready.yaml" ] && [ -s "$out/kwok-configuration.yaml" ]
}

if [ -f "$out/.complete" ] && verify; then
  echo "build.sh: reusing $out" >&2
  echo "$out"
  exit 0
fi

start=$(date +%s)
tmp=$out.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp/bin" "$tmp/kwok-stages"
trap 'rm -rf "$tmp"' EXIT
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

major=${kube_version#v}; major=${major%%.*}
minor=${kube_version#v*.}; minor=${minor%%.*}
kube_ldflags="-s -w -checklinkname=0"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
echo "build.sh: building Kubernetes $kube_version (cold: tens of minutes on 2 cores)" >&2
(cd "$components/kubernetes" && go build -trimpath -ldflags "$kube_ldflags" -o "$tmp/bin/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
echo "build.sh: building etcd $etcd_version" >&2
(cd "$components/etcd" && go build -trimpath -ldflags "-s -w" -o "$tmp/bin/etcd" go.etcd.io/etcd/server/v3)
echo "build.sh: building kwok $kwok_version" >&2
(cd "$components/kwok" && go build -trimpath \
  -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kube_version#v}" \
  -o "$tmp/bin/kwok" sigs.k8s.io/kwok/cmd/kwok)
# KWOK's own stages (node fast + heartbeat with lease, pod fast, the container-failure chaos stage).
kwok_dir=$(cd "$components/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
    pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete pod/chaos/pod-container-running-failed; do
  cp "$kwok_dir/kustomize/stage/$stage.yaml" "$tmp/kwok-stages/"
done
cp "$kwok_dir/kustomize/kwok/kwok.yaml" "$tmp/kwok-configuration.yaml"
chmod -R u+w,go-w "$tmp"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
verify
touch "$out/.complete"
echo "build.sh: built $out in $(( $(date +%s) - start )) s" >&2
echo "$out"
