#!/usr/bin/env bash
# Build the DataSurface stand-in generator's image (tests/generator_stub) FROM the lab's bookworm
# base image and cache it in podman's image store. The tag carries a hash of the files that go into
# the image and of the base image's ID, so changing the stand-in (or rebuilding the base) rebuilds;
# running it again unchanged does nothing. The Containerfile's RUN installs Debian packages (git, psycopg2...
# for the Jobs' runtime commands), so a build needs the Debian mirror: it runs with the host's network.
#   usage: tests/lab/build_generator_image.sh [--print-name]
set -euo pipefail
cd "$(dirname "$0")/../.."

repo=localhost/datasurface-yellow-lab/generator
context=tests/generator_stub

if [ "${1:-}" = "--print-name" ]; then
  echo "$repo:latest"
  exit 0
fi

tests/lab/build_base_image.sh >/dev/null
base_id=$(podman image inspect --format '{{.Id}}' "$(tests/lab/build_base_image.sh --print-name)")
stub_hash=$(
  cd "$context" &&
    find Containerfile .containerignore src workdir -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum
)
recipe_hash=$(printf '%s\n%s\n' "$base_id" "$stub_hash" | sha256sum | cut -c1-12)
image=$repo:$recipe_hash

if podman image exists "$image"; then
  podman tag "$image" "$repo:latest"
  echo "generator image: $image (cached)"
  exit 0
fi

echo "generator image: building $image"
log=$(mktemp "${TMPDIR:-/tmp}/yellow-generator-build.XXXXXX")
trap 'rm -f "$log"' EXIT
podman build --pull=never --network=host -f "$context/Containerfile" -t "$image" "$context" >"$log" 2>&1 || {
  tail -n 30 "$log" >&2
  exit 1
}
podman tag "$image" "$repo:latest"
echo "generator image: $image built"
