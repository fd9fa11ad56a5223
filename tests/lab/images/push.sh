#!/usr/bin/env bash
# Copy the lab's images (built, or reused from podman's image store, by the */build.sh beside this
# script) into a registry with skopeo, under the names the Airflow chart's values point at:
#   airflow   -> REGISTRY/apache/airflow:3.1.6
#   git-sync  -> REGISTRY/git-sync/git-sync:<the stand-in's version, v4.4.2-yellow-standin>
#   redis     -> REGISTRY/redis:7.0-bookworm
#   statsd-exporter -> REGISTRY/prometheus/statsd-exporter:v0.28.0
# An image the registry already holds under that tag with the same image (config digest) is
# skipped; a tag holding another build is overwritten. Credentials come only from AUTHFILE (a
# containers-auth.json file; never on a command line).
#   usage: tests/lab/images/push.sh REGISTRY AUTHFILE
#   YELLOW_REGISTRY_TLS_VERIFY=false  for a registry with a self-signed certificate (the lab's)
set -euo pipefail
cd "$(dirname "$0")/../../.."

[ $# -eq 2 ] || { echo "usage: $0 REGISTRY AUTHFILE" >&2; exit 2; }
registry=${1%/}
authfile=$2
[ -r "$authfile" ] || { echo "push.sh: authfile $authfile is not readable" >&2; exit 2; }
tls_verify=${YELLOW_REGISTRY_TLS_VERIFY:-true}
case $tls_verify in true | false) ;; *) echo "push.sh: YELLOW_REGISTRY_TLS_VERIFY must be true or false" >&2; exit 2 ;; esac

git_sync_version=$(sed -n 's/^version="\(.*\)"$/\1/p' tests/lab/images/git-sync/git-sync)
# name, build script, destination
images=(
  "airflow tests/lab/images/airflow/build.sh $registry/apache/airflow:3.1.6"
  "git-sync tests/lab/images/git-sync/build.sh $registry/git-sync/git-sync:$git_sync_version"
  "redis tests/lab/images/redis/build.sh $registry/redis:7.0-bookworm"
  "statsd-exporter tests/lab/images/statsd-exporter/build.sh $registry/prometheus/statsd-exporter:v0.28.0"
)

# registry_config_digest DEST: the config digest of DEST's manifest, empty when the registry lacks it.
registry_config_digest() {
  local raw
  raw=$(skopeo inspect --raw --tls-verify="$tls_verify" --authfile "$authfile" "docker://$1" 2>/dev/null) || return 0
  printf '%s' "$raw" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("config", {}).get("digest", ""))'
}

for entry in "${images[@]}"; do
  read -r name build dest <<<"$entry"
  "$build"
  source_name=$("$build" --print-name)
  local_id=sha256:$(podman image inspect --format '{{.Id}}' "$source_name")
  if [ "$(registry_config_digest "$dest")" = "$local_id" ]; then
    echo "push: $dest already holds $name ${local_id:7:12} (skipped)"
    continue
  fi
  skopeo copy --quiet --dest-tls-verify="$tls_verify" --dest-authfile "$authfile" \
    "containers-storage:$source_name" "docker://$dest"
  got=$(registry_config_digest "$dest")
  [ "$got" = "$local_id" ] || { echo "push: $dest holds config ${got:-nothing} after the copy, expected $local_id" >&2; exit 1; }
  echo "push: $dest <- $name ${local_id:7:12} (copied)"
done
