#!/usr/bin/env bash
# Write one image of podman's store as an OCI archive that the lab nodes' containerd (Debian's 1.6)
# imports as is, keeping the name:
#   ctr -n k8s.io images import OUT.tar      # -> image "IMAGE" (e.g. localhost/datasurface-yellow-lab/pause:<hash>)
# OUT.tar is written atomically (temporary file, then rename); an existing OUT.tar is replaced.
#   usage: tests/lab/images/export.sh IMAGE OUT.tar
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 IMAGE OUT.tar" >&2; exit 2; }
image=$1 out=$2
podman image exists "$image" || { echo "export: no image $image in podman's store (build it first)" >&2; exit 1; }
# podman save names the manifest (org.opencontainers.image.ref.name) after the argument as given:
# pass the full name, not an ID, so that containerd keeps it.
case $image in
  */*:*) ;;
  *) echo "export: give the full name REPOSITORY:TAG (got '$image')" >&2; exit 1 ;;
esac
tmp=$(mktemp "$(dirname "$out")/.export.XXXXXX")
trap 'rm -f "$tmp"' EXIT
rm -f "$tmp"  # podman save refuses an existing output file
podman save --quiet --format oci-archive -o "$tmp" "$image"
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "export: $image -> $out ($(du -h "$out" | cut -f1))"
