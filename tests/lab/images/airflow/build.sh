#!/usr/bin/env bash
# Build the lab's Airflow 3.1.6 image (tests/lab/images/airflow) FROM the lab's bookworm base image
# and cache it in podman's image store as localhost/datasurface-yellow-lab/airflow:<recipe hash>
# (+ :latest). The recipe hash covers the base image's ID, every file of the build context (the
# pinned constraints included) and this script, so a change rebuilds; running it again unchanged
# prints "(cached)" and does nothing. Needs Debian and PyPI (pip reaches PyPI with the host's CA bundle,
# mounted for the build only; pip's download cache is not used: the downloads here are served uncacheable).
# The last step checks the image: `airflow version` = 3.1.6, `pip check`, user, /entrypoint, /clean-logs.
#   usage: tests/lab/images/airflow/build.sh [--print-name | --refresh-constraints]
#   --refresh-constraints  regenerate airflow/constraints-3.1.6-py3.11.txt with a resolving install
#                          (no constraints, only $resolve_holds) in a throwaway container, then build
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../../../.."
. tests/lab/images/lib.sh

airflow_version=3.1.6
# celery, cncf-kubernetes, postgres, redis: the executor and backends; fab: the chart's
# [core] auth_manager is FabAuthManager (and its create-user Job runs `airflow users create`);
# statsd: the chart turns [metrics] statsd_on on.
airflow_extras=celery,cncf-kubernetes,fab,postgres,redis,statsd
# Held back in the resolving install (--refresh-constraints), each for a failure pip check misses:
# celery 5.7 dropped celery.backends.database.retry, which the celery provider imports (seen with
# provider 3.26.0: CeleryExecutor and `airflow celery` fail to load).
# Not held: PyJWT (the fab provider resolved needs >= 2.11, which refuses to sign a token without an issuer,
# as Airflow 3.1.6 does when [api_auth] jwt_issuer is unset: apache/airflow#61270). inventories/lab sets it.
resolve_holds="celery<5.7"
repo=$yellow_image_prefix/airflow
context=$yellow_images_dir/airflow
constraints=$context/constraints-3.1.6-py3.11.txt
host_ca=${YELLOW_BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

if [ "${1:-}" = "--print-name" ]; then
  echo "$repo:latest"
  exit 0
fi

[ -r "$host_ca" ] || { echo "airflow image: CA bundle $host_ca not readable (set YELLOW_BUILD_CA_BUNDLE)" >&2; exit 1; }
build_mounts=(-v "$host_ca:/run/yellow-build/ca.crt:ro")
base_image=$(tests/lab/build_base_image.sh --print-name)

if [ "${1:-}" = "--refresh-constraints" ]; then
  tests/lab/build_base_image.sh >/dev/null
  echo "airflow image: resolving apache-airflow[$airflow_extras]==$airflow_version without constraints, holding $resolve_holds"
  new=$(mktemp "${TMPDIR:-/tmp}/yellow-constraints.XXXXXX")
  podman run --rm "${build_mounts[@]}" -e PIP_CERT=/run/yellow-build/ca.crt \
    -e PIP_DISABLE_PIP_VERSION_CHECK=1 --user 0 "$base_image" bash -c '
      set -euo pipefail
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      python3 -m venv /tmp/venv
      /tmp/venv/bin/pip install -q --upgrade pip setuptools
      /tmp/venv/bin/pip install -q "apache-airflow[$1]==$2" $3
      /tmp/venv/bin/pip check >&2
      /tmp/venv/bin/pip freeze --all' _ "$airflow_extras" "$airflow_version" "$resolve_holds" >"$new"
  {
    sed -n '/^# /p' "$constraints" | sed "s/^# generated: .*/# generated: $(date -u +%F)/; s/^# held back: .*/# held back: $resolve_holds/"
    cat "$new"
  } >"$new.full"
  chmod 0644 "$new.full"
  mv "$new.full" "$constraints"
  rm -f "$new"
  echo "airflow image: $constraints: $(grep -c '^[^#].*==' "$constraints") pins"
fi

base_id=$(yellow_base_image_id)
recipe_hash=$(yellow_recipe_hash "$base_id" "$context" "$self" "$airflow_version" "$airflow_extras")
image=$repo:$recipe_hash

if yellow_image_cached airflow "$image" "$repo"; then
  exit 0
fi

echo "airflow image: building $image (apache-airflow[$airflow_extras]==$airflow_version, -c $(basename "$constraints"))"
start=$(date +%s)
yellow_build_image airflow "$image" "$context" "${build_mounts[@]}" \
  --build-arg AIRFLOW_VERSION="$airflow_version" --build-arg AIRFLOW_EXTRAS="$airflow_extras"

# Last step: check the image as the chart's pods use it (runAsUser 50000, the image's entrypoint).
got=$(podman run --rm "$image" airflow version 2>/dev/null | tail -n 1)
[ "$got" = "$airflow_version" ] || yellow_check_failed airflow "$image" "airflow version printed '$got', expected $airflow_version"
got=$(podman run --rm -e CONNECTION_CHECK_MAX_COUNT=0 --entrypoint /bin/bash "$image" -c \
  'id; echo "home=$HOME airflow_home=$AIRFLOW_HOME"; command -v airflow python psql pg_isready; pip check;
   test -x /entrypoint && test -r /clean-logs && test -x /usr/bin/dumb-init && echo files-ok;
   touch "$AIRFLOW_HOME/write-test" && echo airflow-home-writable')
for want in "uid=50000(airflow) gid=0(root)" "home=/home/airflow airflow_home=/opt/airflow" \
    /home/airflow/.local/bin/airflow /home/airflow/.local/bin/python /usr/bin/psql /usr/bin/pg_isready \
    "No broken requirements found." files-ok \
    airflow-home-writable; do
  yellow_expect airflow "$image" "$want" "$got" "image contents"
done
# The probes' form: `sh -c "CONNECTION_CHECK_MAX_COUNT=0 exec /entrypoint <command>"`, and the
# entrypoint's bash/python/airflow dispatch; an arbitrary uid with gid 0 gets a passwd entry.
got=$(podman run --rm -e CONNECTION_CHECK_MAX_COUNT=0 --entrypoint sh "$image" -c \
  'exec /entrypoint python -c "import airflow, statsd, psycopg2, redis
import airflow.providers.celery.executors.celery_executor_utils
print(\"imports-ok\")"' 2>/dev/null)
yellow_expect airflow "$image" imports-ok "$got" "/entrypoint python"
got=$(podman run --rm --passwd=false -e CONNECTION_CHECK_MAX_COUNT=0 --user 4242:0 "$image" bash -c 'echo "$(whoami) $HOME"; umask')
yellow_expect airflow "$image" "default /home/airflow" "$got" "/entrypoint bash as an arbitrary uid"
yellow_expect airflow "$image" "0002" "$got" "/entrypoint umask"
got=$(podman run --rm -e CONNECTION_CHECK_MAX_COUNT=0 -e AIRFLOW__CORE__AUTH_MANAGER=airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager \
  "$image" airflow users create --help 2>&1 | grep -c -- --password || true)
[ "$got" -ge 1 ] || yellow_check_failed airflow "$image" "'airflow users create' (FAB provider) is missing"
# /clean-logs: a 20-day-old log goes, a fresh one and lost+found stay, empty directories go.
got=$(podman run --rm -e AIRFLOW__LOG_RETENTION_DAYS=15 -e AIRFLOW__LOG_CLEANUP_FREQUENCY_MINUTES=1 --entrypoint bash "$image" -c '
  l=$AIRFLOW_HOME/logs; mkdir -p $l/old/run $l/new $l/empty/nested $l/lost+found
  touch -d "20 days ago" $l/old/run/1.log; touch $l/new/1.log
  timeout --preserve-status -s TERM 3 bash /clean-logs >/dev/null; printf "rc=%s " "$?"; cd $l && find . | sort | tr "\n" " "')
yellow_expect airflow "$image" "rc=0 . ./lost+found ./new ./new/1.log " "$got" "/clean-logs"

podman tag "$image" "$repo:latest"
echo "airflow image: $image built in $(($(date +%s) - start)) s ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}'))"
