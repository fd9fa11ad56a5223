#!/usr/bin/env bash
# Build the lab's git-sync image (tests/lab/images/git-sync) FROM the lab's bookworm base image and
# cache it in podman's image store as localhost/datasurface-yellow-lab/git-sync:<recipe hash>
# (+ :latest). /git-sync is a STAND-IN for k8s.io/git-sync v4 (the Go module proxy refuses that
# module here); it reads the GITSYNC_*/GIT_SYNC_* settings the Airflow chart gives its git-sync
# containers. The recipe hash covers the base image's ID, the build context and this script;
# running it again unchanged prints "(cached)" and does nothing. Needs Debian.
# The last step checks the image: --version, uid 65533, git, and the chart's git-sync-init settings
# syncing a local repository (a commit, then an update) into the v4 layout.
#   usage: tests/lab/images/git-sync/build.sh [--print-name]
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../../../.."
. tests/lab/images/lib.sh

repo=$yellow_image_prefix/git-sync
context=$yellow_images_dir/git-sync
version=$(sed -n 's/^version="\(.*\)"$/\1/p' "$context/git-sync")

if [ "${1:-}" = "--print-name" ]; then
  echo "$repo:latest"
  exit 0
fi

base_id=$(yellow_base_image_id)
recipe_hash=$(yellow_recipe_hash "$base_id" "$context" "$self")
image=$repo:$recipe_hash

if yellow_image_cached git-sync "$image" "$repo"; then
  exit 0
fi

echo "git-sync image: building $image ($version)"
start=$(date +%s)
yellow_build_image git-sync "$image" "$context"

got=$(podman run --rm "$image" --version)
[ "$got" = "$version" ] || yellow_check_failed git-sync "$image" "--version printed '$got', expected '$version'"
got=$(podman run --rm --entrypoint sh "$image" -c 'id; echo "home=$HOME"; git --version; command -v ssh')
for want in "uid=65533(git-sync) gid=65533(git-sync)" home=/tmp "git version 2." /usr/bin/ssh; do
  yellow_expect git-sync "$image" "$want" "$got" "image contents"
done
# The chart's git-sync-init environment (v4 and v3 names) against a repository in the container.
# shellcheck disable=SC2016 # expanded in the container
got=$(podman run --rm --entrypoint bash \
  -e GITSYNC_REF=main -e GIT_SYNC_BRANCH=main -e GIT_SYNC_REV=HEAD -e GITSYNC_ROOT=/tmp/git -e GIT_SYNC_ROOT=/tmp/git \
  -e GITSYNC_LINK=repo -e GIT_SYNC_DEST=repo -e GITSYNC_DEPTH=1 -e GIT_SYNC_DEPTH=1 -e GITSYNC_ADD_USER=true \
  -e GIT_SYNC_ADD_USER=true -e GITSYNC_PERIOD=60s -e GITSYNC_MAX_FAILURES=0 -e GIT_SYNC_MAX_SYNC_FAILURES=0 \
  -e GITSYNC_ONE_TIME=true -e GIT_SYNC_ONE_TIME=true "$image" -c '
  set -e; export GITSYNC_REPO=file:///tmp/src GIT_SYNC_REPO=file:///tmp/src
  g() { git -C /tmp/src -c user.name=lab -c user.email=lab@example.invalid "$@"; }
  git init -q -b main /tmp/src; mkdir /tmp/src/dags; echo one >/tmp/src/dags/d.py; g add -A; g commit -qm one
  /git-sync 2>/dev/null; echo "first=$(cat /tmp/git/repo/dags/d.py) $(readlink /tmp/git/repo | cut -c1-12)"
  echo two >/tmp/src/dags/d.py; g commit -qam two
  /git-sync 2>/dev/null; echo "second=$(cat /tmp/git/repo/dags/d.py) worktrees=$(ls /tmp/git/.worktrees | wc -l)"
  GITSYNC_REPO=file:///tmp/missing /git-sync 2>/dev/null || echo "missing-repo-rc=$?"')
for want in "first=one .worktrees/" "second=two worktrees=1" "missing-repo-rc=1"; do
  yellow_expect git-sync "$image" "$want" "$got" "sync with the chart's settings"
done

podman tag "$image" "$repo:latest"
echo "git-sync image: $image built in $(($(date +%s) - start)) s ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}'))"
