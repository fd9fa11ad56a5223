#!/usr/bin/env bash
# Build the lab's Redis image (tests/lab/images/redis: Debian bookworm's redis-server 7.0) FROM the
# lab's bookworm base image and cache it in podman's image store as
# localhost/datasurface-yellow-lab/redis:<recipe hash> (+ :latest). The recipe hash covers the base
# image's ID, the build context and this script; running it again unchanged prints "(cached)" and
# does nothing. Needs Debian. The last step checks the image: redis-server 7.0 on PATH, working
# directory /data, and the chart's command (`redis-server --requirepass ...`) serving an
# authenticated PING and saving into /data, as root (the chart's runAsUser 0) and as uid 999.
#   usage: tests/lab/images/redis/build.sh [--print-name]
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../../../.."
. tests/lab/images/lib.sh

repo=$yellow_image_prefix/redis
context=$yellow_images_dir/redis
redis_series=7.0

if [ "${1:-}" = "--print-name" ]; then
  echo "$repo:latest"
  exit 0
fi

base_id=$(yellow_base_image_id)
recipe_hash=$(yellow_recipe_hash "$base_id" "$context" "$self")
image=$repo:$recipe_hash

if yellow_image_cached redis "$image" "$repo"; then
  exit 0
fi

echo "redis image: building $image"
start=$(date +%s)
yellow_build_image redis "$image" "$context"

got=$(podman run --rm "$image" redis-server --version)
yellow_expect redis "$image" "Redis server v=$redis_series." "$got" "redis-server --version"
got=$(podman run --rm "$image" sh -c 'command -v redis-server; pwd; stat -c "%u:%g" /data')
yellow_expect redis "$image" "/usr/bin/redis-server
/data
999:999" "$got" "image layout"
# The chart's command line, password from the environment as the chart passes it.
for user in 0 999; do
  got=$(podman run --rm --user "$user" -e REDIS_PASSWORD=lab-check -e REDISCLI_AUTH=lab-check "$image" sh -c '
    redis-server --requirepass "$REDIS_PASSWORD" --daemonize yes --logfile /tmp/redis.log
    for i in 1 2 3 4 5 6 7 8 9 10; do redis-cli ping 2>/dev/null | grep -q PONG && break; sleep 0.5; done
    echo "auth: $(redis-cli ping)"; echo "noauth: $(env -u REDISCLI_AUTH redis-cli ping 2>&1)"
    redis-cli shutdown save >/dev/null 2>&1; sleep 1; ls /data')
  yellow_expect redis "$image" "auth: PONG" "$got" "redis-server --requirepass as uid $user"
  yellow_expect redis "$image" "noauth: NOAUTH" "$got" "redis-server --requirepass as uid $user"
  yellow_expect redis "$image" "dump.rdb" "$got" "redis-server saving into /data as uid $user"
done

podman tag "$image" "$repo:latest"
echo "redis image: $image built in $(($(date +%s) - start)) s ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}'))"
