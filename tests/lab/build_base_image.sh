#!/usr/bin/env bash
# Build the lab's Debian bookworm base image once (debootstrap + podman import) and cache it in
# podman's image store. The tag carries a hash of this recipe, so changing the package list
# rebuilds; running it again with the same recipe does nothing.
#   usage: tests/lab/build_base_image.sh [--print-name]
set -euo pipefail
cd "$(dirname "$0")/../.."

suite=bookworm
mirror=${YELLOW_LAB_MIRROR:-http://deb.debian.org/debian}
packages=python3,python3-apt,sudo,ca-certificates,iproute2,procps,gnupg,curl,openssh-server
repo=localhost/datasurface-yellow-lab/$suite
recipe_hash=$(printf '%s|%s|%s' "$suite" "$packages" "v2" | sha256sum | cut -c1-12)
image=$repo:$recipe_hash

if [ "${1:-}" = "--print-name" ]; then
  echo "$repo:latest"
  exit 0
fi

if podman image exists "$image"; then
  podman tag "$image" "$repo:latest"
  echo "lab image: $image (cached)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/yellow-rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "lab image: building $image with debootstrap ($mirror)"
debootstrap --variant=minbase --include="$packages" "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
# Keep the image small and the apt state honest: containers run `apt-get update` themselves.
rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/tmp/*
# An emptied lists directory has a fresh mtime, which apt's cache_valid_time would take for a
# recent `apt-get update`: date it back so the first install always refreshes.
touch -d @0 "$work/rootfs/var/lib/apt/lists"
tar -C "$work/rootfs" -c . | podman import \
  --change 'CMD ["/bin/bash"]' \
  --change 'ENV container=podman' \
  - "$image" >/dev/null
podman tag "$image" "$repo:latest"
echo "lab image: $image built"
