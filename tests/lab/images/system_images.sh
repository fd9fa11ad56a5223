#!/usr/bin/env bash
# Build (or reuse) the nodes' system images (pause, CoreDNS) and export each, by its recipe-hash tag, as an
# OCI archive for `ctr -n k8s.io images import` (tests/lab/tasks/join.yml). Archives are cached in OUTDIR by
# that tag. Prints a JSON list [{"recipe", "name", "archive"}] on stdout; "built"/"exported" lines on stderr.
#   usage: tests/lab/images/system_images.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: system_images.sh OUTDIR}
mkdir -p "$out"
entries=()
for recipe in pause coredns; do
  "$here/$recipe/build.sh" >&2
  latest=$("$here/$recipe/build.sh" --print-name)
  # The recipe-hash tag: immutable, so neither the kubelet nor containerd ever tries to pull it.
  name=$(podman image inspect --format json "$latest" | python3 -c '
import json, sys
latest = sys.argv[1]
repo = latest.rsplit(":", 1)[0]
tags = [t for t in json.load(sys.stdin)[0]["RepoTags"] if t.startswith(repo + ":") and t != latest]
print(sorted(tags)[0])' "$latest")
  archive=$out/$recipe-${name##*:}.tar
  if [ ! -s "$archive" ]; then
    "$here/export.sh" "$name" "$archive.tmp" >&2
    mv "$archive.tmp" "$archive"
    echo "exported $archive" >&2
  fi
  entries+=("{\"recipe\": \"$recipe\", \"name\": \"$name\", \"archive\": \"$archive\"}")
done
(IFS=,; echo "[${entries[*]}]")
