#!/usr/bin/env bash
# Build the lab nodes' CoreDNS image from the pinned Go module (wrapper module
# tests/cluster/components/coredns, go.mod + go.sum committed) and cache it in podman's image store.
# No registry is needed: a static binary plus the host's Debian CA bundle in a tar, podman import.
# As upstream's image: /coredns carries the file capability cap_net_bind_service=+ep (a non-root
# process gets the capability the pod adds only that way under containerd 1.6), USER 65532 (distroless
# "nonroot"), ENTRYPOINT ["/coredns"]. The tag carries a hash of the pins, this script, the Go version
# and the CA bundle, so changing any of them rebuilds; running it again unchanged does nothing.
# A fresh build is checked: `-version` prints the pinned version, `-plugins` lists the plugins of
# kubeadm's Corefile (tests/lab/images/coredns/coredns.yaml) and log, and the image answers DNS on :53
# as user 65532 with only NET_BIND_SERVICE and a read-only root filesystem.
#   usage: tests/lab/images/coredns/build.sh [--print-name]
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../../../.."

src=tests/cluster/components/coredns
repo=localhost/datasurface-yellow-lab/coredns
ca_bundle=/etc/ssl/certs/ca-certificates.crt
plugins="errors health ready kubernetes prometheus forward cache loop reload loadbalance log"

if [ "${1:-}" = "--print-name" ]; then
  echo "$repo:latest"
  exit 0
fi

command -v go >/dev/null || { echo "coredns image: go is not on PATH (Go >= 1.26 is needed)" >&2; exit 1; }
command -v setcap >/dev/null || { echo "coredns image: setcap is not on PATH (Debian package libcap2-bin)" >&2; exit 1; }
[ -s "$ca_bundle" ] || { echo "coredns image: $ca_bundle is missing (Debian package ca-certificates)" >&2; exit 1; }
version=$(awk '$1 == "require" && $2 == "github.com/coredns/coredns" {print $3}' "$src/go.mod")
[ -n "$version" ] || { echo "coredns image: could not read the CoreDNS pin from $src/go.mod" >&2; exit 1; }
recipe_hash=$( (cat "$src/go.mod" "$src/go.sum" "$src/tools.go" "$self" "$ca_bundle"; go version) | sha256sum | cut -c1-12)
image=$repo:$recipe_hash

if podman image exists "$image"; then
  podman tag "$image" "$repo:latest"
  echo "coredns image: $image (cached)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/yellow-coredns.XXXXXX")
check_ctr=yellow-coredns-check-$$
trap 'podman rm -f "$check_ctr" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
echo "coredns image: building $image (CoreDNS $version, $(go env GOVERSION); cold: minutes on 2 cores)"
mkdir -p "$work/rootfs/etc/ssl/certs"
(cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath \
  -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$version" \
  -o "$work/rootfs/coredns" github.com/coredns/coredns)
setcap cap_net_bind_service=+ep "$work/rootfs/coredns"
install -m 0644 "$ca_bundle" "$work/rootfs/etc/ssl/certs/ca-certificates.crt"
tar -C "$work/rootfs" --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name \
  --xattrs --xattrs-include=security.capability -c . | podman import --quiet \
  --change 'ENTRYPOINT ["/coredns"]' \
  --change 'USER 65532:65532' \
  --change 'EXPOSE 53/udp' --change 'EXPOSE 53/tcp' \
  - "$image" >/dev/null

fail() { echo "coredns image: $*" >&2; podman rmi "$image" >/dev/null 2>&1 || true; exit 1; }
got=$(podman run --rm "$image" -version 2>&1) || fail "'podman run --rm $image -version' failed: $got"
case $got in "CoreDNS-${version#v}"*) ;; *) fail "'-version' printed '$got', expected 'CoreDNS-${version#v}'" ;; esac
listed=$(podman run --rm "$image" -plugins 2>&1) || fail "'-plugins' failed: $listed"
for plugin in $plugins; do
  grep -qx "$plugin" <<<"$listed" || fail "plugin $plugin is not compiled in; -plugins printed: $listed"
done
# Serve as the pod does (non-root, only NET_BIND_SERVICE, read-only root) with CoreDNS's default
# config (whoami on :53) and ask it one question over UDP.
podman run -d --name "$check_ctr" --cap-drop=ALL --cap-add=NET_BIND_SERVICE --read-only \
  -p 127.0.0.1::53/udp "$image" >/dev/null
port=$(podman port "$check_ctr" 53/udp | sed 's/.*://')
python3 - "$port" <<'PY' || fail "no DNS answer from the container: $(podman logs "$check_ctr" 2>&1)"
import socket, struct, sys
query = struct.pack(">HHHHHH", 0x5945, 0x0100, 1, 0, 0, 0) + b"\x06whoami\x07example\x00" + struct.pack(">HH", 1, 1)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(1)
for _ in range(30):
    try:
        sock.sendto(query, ("127.0.0.1", int(sys.argv[1])))
        answer = sock.recv(512)
    except OSError:
        continue
    ident, flags = struct.unpack(">HH", answer[:4])
    sys.exit(0 if ident == 0x5945 and flags & 0x8000 and flags & 0x000F == 0 else 1)
sys.exit(1)
PY

podman tag "$image" "$repo:latest"
echo "coredns image: $image built ($(head -n 1 <<<"$got"); answers DNS on :53 as 65532)"
