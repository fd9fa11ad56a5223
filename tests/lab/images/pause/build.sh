#!/usr/bin/env bash
# Build the lab nodes' pause image (the pod sandbox image kubelet/containerd start first in every pod)
# from our own Go pause program (tests/cluster/components/pause, no dependencies) and cache it in
# podman's image store. No registry is needed: a static binary, a tar holding only /pause, podman import.
# The tag carries a hash of the sources, this script and the Go version, so changing any of them
# rebuilds; running it again unchanged does nothing. A fresh build is checked: `-v` prints the version
# and a running container exits 0 on SIGTERM.
#   usage: tests/lab/images/pause/build.sh [--print-name]
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../../../.."

src=tests/cluster/components/pause
repo=localhost/datasurface-yellow-lab/pause

if [ "${1:-}" = "--print-name" ]; then
  echo "$repo:latest"
  exit 0
fi

command -v go >/dev/null || { echo "pause image: go is not on PATH (Go >= 1.26 is needed)" >&2; exit 1; }
version=$(sed -n 's/^const version = "\(.*\)"$/\1/p' "$src/main.go")
[ -n "$version" ] || { echo "pause image: no 'const version' in $src/main.go" >&2; exit 1; }
recipe_hash=$( (cat "$src/go.mod" "$src/main.go" "$self"; go version) | sha256sum | cut -c1-12)
image=$repo:$recipe_hash

if podman image exists "$image"; then
  podman tag "$image" "$repo:latest"
  echo "pause image: $image (cached)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/yellow-pause.XXXXXX")
check_ctr=yellow-pause-check-$$
trap 'podman rm -f "$check_ctr" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
echo "pause image: building $image (pause.go $version, $(go env GOVERSION))"
mkdir "$work/rootfs"
(cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local \
  go build -trimpath -ldflags "-s -w" -o "$work/rootfs/pause" .)
tar -C "$work/rootfs" --owner=0 --group=0 --numeric-owner --mtime=@0 -c pause | podman import --quiet \
  --change 'ENTRYPOINT ["/pause"]' \
  --change 'USER 65535:65535' \
  - "$image" >/dev/null

fail() { echo "pause image: $*" >&2; podman rmi "$image" >/dev/null 2>&1 || true; exit 1; }
want="pause.go $version"
got=$(podman run --rm "$image" -v 2>&1) || fail "'podman run --rm $image -v' failed: $got"
case $got in "$want"*) ;; *) fail "'-v' printed '$got', expected '$want ...'" ;; esac
# Runs as PID 1 and stops on SIGTERM with exit code 0. The signal is repeated until the container has
# exited: one sent before the program installed its handlers is dropped (PID 1 ignores unhandled signals).
podman run -d --name "$check_ctr" "$image" >/dev/null
for _ in $(seq 50); do
  [ "$(podman inspect --format '{{.State.Status}}' "$check_ctr")" = exited ] && break
  podman kill --signal TERM "$check_ctr" >/dev/null 2>&1 || true
  sleep 0.2
done
status=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$check_ctr")
[ "$status" = "exited 0" ] || fail "after SIGTERM the container is '$status', expected 'exited 0'"
podman logs "$check_ctr" 2>&1 | grep -q 'Shutting down, got signal: terminated' ||
  fail "no 'Shutting down' line in the container's log: $(podman logs "$check_ctr" 2>&1)"

podman tag "$image" "$repo:latest"
echo "pause image: $image built ($got; SIGTERM -> exit 0)"
