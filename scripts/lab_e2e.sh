#!/usr/bin/env bash
# The local lab end to end, as the README's main command runs it, asserted (the `lab` stage of
# scripts/test.sh): `make lab` on a fresh lab (up + site.yml, ending with the verify report), a
# second site.yml run at -vvv that must report changed=0 on every host and leave the cluster as it was
# (the same Jobs, the Helm release's revision unchanged, no pod recreated: read from the real control
# plane), a --check run that must pass and change nothing, the verify report OK and marked simulated,
# day 2 (update_image: exactly model-merge created again), the tests on the running lab (tests/lab/tests), a sweep
# of every log for every lab secret (.lab/secrets and the control plane's client keys: plain, base64, base64 of user:password;
# scripts/assert_no_secrets.py, `0 hits`), then `make lab-down`.
# The control plane: the lab's own in .lab/cluster, with the node containers joined as real nodes.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
logs=$root/.cache/logs
mkdir -p "$logs"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=false
cluster_dir=$root/.lab/cluster  # the lab always runs its own control plane (real nodes join it)
namespace=demo1
helm=$root/.cache/bin/helm
rc=0
fail() { echo "lab_e2e: FAIL: $*" >&2; rc=1; }
step() { echo "--- $* ($(date -u +%H:%M:%S))"; SECONDS=0; }
took() { echo "    took ${SECONDS} s"; }

# Every host's recap must say changed=0 (and failed=0).
all_unchanged() {
  local log=$1 bad
  bad=$(grep -E '^[a-z0-9.-]+ +: ok=' "$log" | grep -Ev 'changed=0 .*failed=0' || true)
  [ -z "$bad" ] || { echo "$bad" >&2; return 1; }
  grep -qE '^[a-z0-9.-]+ +: ok=' "$log"
}

# Assertions read the cluster as its admin (the playbooks run as the operator).
kube() {
  "$kubectl" --kubeconfig "$cluster_dir/admin.kubeconfig" "$@"
}
# One line per bootstrap Job (name uid creationTimestamp; the generator labels them datasurface.io/psp),
# per long-running pod (name uid restarts; pods of Jobs are left out: the chart's migrate and create-user Jobs
# and their pods go with their ttlSecondsAfterFinished) and the Helm release's revision.
jobs_state() {
  kube get jobs -n "$namespace" -l datasurface.io/psp -o jsonpath='{range .items[*]}job {.metadata.name} {.metadata.uid} {.metadata.creationTimestamp}{"\n"}{end}' | sort
}
cluster_state() {
  jobs_state
  kube get pods -n "$namespace" -o json | python3 -c '
import json, sys
for pod in json.load(sys.stdin)["items"]:
    if not any(ref.get("kind") == "Job" for ref in pod["metadata"].get("ownerReferences", [])):
        restarts = sum(c.get("restartCount", 0) for c in pod.get("status", {}).get("containerStatuses", []))
        print("pod", pod["metadata"]["name"], pod["metadata"]["uid"], "restarts", restarts)' | sort
  echo "helm airflow revision $(helm_revision)"
}
helm_revision() {
  "$helm" --kubeconfig "$cluster_dir/admin.kubeconfig" status airflow -n "$namespace" -o json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])'
}
same_state() {  # same_state BEFORE AFTER WHAT
  if [ "$1" = "$2" ]; then
    echo "    unchanged after $3: $(grep -c '^job ' <<<"$2") Job(s), $(grep -c '^pod ' <<<"$2") pod(s) (same uids), $(grep '^helm ' <<<"$2")"
  else
    fail "$3 changed the cluster:"$'\n'"$(diff <(echo "$1") <(echo "$2"))"
    # Why a container restarted: its last termination, and the pods' events.
    kube get pods -n "$namespace" -o jsonpath='{range .items[*]}{range .status.containerStatuses[?(@.restartCount>0)]}    {.name}: {.lastState.terminated.reason} exit {.lastState.terminated.exitCode} at {.lastState.terminated.finishedAt}{"\n"}{end}{end}'
    kube get events -n "$namespace" --field-selector type=Warning -o custom-columns=LAST:.lastTimestamp,OBJ:.involvedObject.name,REASON:.reason,MSG:.message | tail -n 15
  fi
}

make -s lab-down >"$logs/lab-down-before.log" 2>&1 || true
step "make lab (fresh)"
make -s lab >"$logs/lab-run1.log" 2>&1 || fail "make lab failed (see $logs/lab-run1.log)"
# What `make lab` said about the cluster: the control plane's own line, and what is real and simulated.
awk '/^TASK \[Say (which parts of the cluster are real|what is real and what is simulated)\]/ {on = 1; next} on && /^$/ {on = 0} on' \
  "$logs/lab-run1.log"
# (the debug output wraps long lines: compare with the white space folded)
tr -s ' \n' '  ' <"$logs/lab-run1.log" | grep -q 'the nodes yellow-lab-node1, yellow-lab-node2, yellow-lab-node3 (podman containers' ||
  fail "make lab did not say that the nodes are real"
grep -q 'lab STAND-INS: ' "$logs/lab-run1.log" || fail "make lab did not name its stand-ins"
tail -n 25 "$logs/lab-run1.log"
took

kubectl=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["cache"] + "/bin/kubectl")' "$cluster_dir/cluster.json") ||
  { fail "no control plane state in $cluster_dir"; exit 1; }
echo "--- kubectl version against the lab: $(kube version 2>&1 | grep '^Server Version')"
# The nodes are the lab's containers, joined with a real kubelet and containerd (no KWOK node).
nodes=$(kube get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion} {.metadata.annotations.kwok\.x-k8s\.io/node}{"\n"}{end}')
echo "$nodes" | sed 's/^/    node /'
[ "$(grep -c ' v1.34.4 containerd://' <<<"$nodes")" -eq 3 ] && ! grep -q ' fake$' <<<"$nodes" ||
  fail "expected the 3 lab nodes with kubelet v1.34.4 on containerd, none simulated"
state1=$(cluster_state) || fail "could not read the cluster after the first run"
echo "    after the first run: $(grep -c '^job ' <<<"$state1") Job(s), $(grep -c '^pod ' <<<"$state1") pod(s), $(grep '^helm ' <<<"$state1")"
[ "$(grep -c '^job ' <<<"$state1")" -eq 3 ] || fail "expected 3 Jobs (ring1-init, model-merge, reconcile-views) after the first run"

# At -vvv Ansible prints every task result, loop item (a skipped one in full) and module argument:
# the secret sweep below reads this log.
step "site.yml again at -vvv: changed=0 on every host, the cluster as it was"
ansible-playbook site.yml -i inventories/lab -vvv >"$logs/lab-run2.log" 2>&1 || fail "second run failed"
all_unchanged "$logs/lab-run2.log" || fail "second run changed something"
# ... and asked the cluster and the hosts only what it had to: the applies of objects the cluster already holds as
# wanted (datasurface.yellow.k8s_pending), the package installs and the bootstrap image pulls the node pull answered
# were skipped on every host.
python3 - "$logs/lab-run2.log" <<'PY' || fail "the second run applied, installed or pulled something it had no need to"
import sys
lines = open(sys.argv[1]).read().splitlines()
tasks = ["platform_prereqs : Create the platform secrets", "platform_prereqs : Grant the Airflow components the platform secrets",
         "airflow : Create the credential secrets the values reference", "bootstrap : Apply the objects Helm does not own",
         "bootstrap : Pull the images the Jobs run into containerd", "node_prep : Install the NFS client and iSCSI initiator",
         "postgres_host : Install the missing PostgreSQL packages"]
bad = []
for task in tasks:
    starts = [i for i, line in enumerate(lines) if line.startswith("TASK [") and task in line]
    if len(starts) != 1:
        bad.append(f"{task}: {len(starts)} headers")
        continue
    end = next((i for i in range(starts[0] + 1, len(lines)) if lines[i].startswith(("TASK [", "PLAY ", "RUNNING HANDLER"))), len(lines))
    results = [line.split(":")[0] for line in lines[starts[0] + 1:end] if line.startswith(("ok:", "changed:", "skipping:", "fatal:"))]
    if not results or set(results) != {"skipping"}:
        bad.append(f"{task}: {sorted(set(results)) or 'no result'}")
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
grep -E '^[a-z0-9.-]+ +: ok=' "$logs/lab-run2.log"
grep -q '^<[a-z0-9.-]*> ESTABLISH ' "$logs/lab-run2.log" || fail "the second run's log is not at -vvv"
state2=$(cluster_state) || fail "could not read the cluster after the second run"
same_state "$state1" "$state2" "the second run"
took

step "site.yml --check: passes, changes nothing"
ansible-playbook site.yml -i inventories/lab --check >"$logs/lab-check.log" 2>&1 || fail "--check run failed"
all_unchanged "$logs/lab-check.log" || fail "--check run reported changes"
state3=$(cluster_state) || fail "could not read the cluster after the --check run"
same_state "$state2" "$state3" "the --check run"
took

echo "--- the verify report: OK, and says what is simulated"
report=$(ls .lab/reports/verify-*.json 2>/dev/null | head -n 1)
if [ -z "$report" ]; then
  fail "no verify report in .lab/reports"
else
  python3 - "$report" <<'PY' || fail "verify report is not all OK and simulated"
import json, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
print(json.dumps({k: report.get(k) for k in ("simulated", "ok", "summary") if k in report}))
assert report.get("simulated") is True, "report not marked simulated"
assert report.get("ok") is True, "report not ok"
PY
fi

step "day 2 on the lab: playbooks/update_image.yml with a new tag"
jobs_before=$(jobs_state)
ansible-playbook tests/lab/push_tag.yml -i inventories/lab -e yellow_datasurface_image_tag=lab-2 >"$logs/lab-push-tag.log" 2>&1 ||
  fail "pushing the lab-2 tag failed"
ansible-playbook playbooks/update_image.yml -i inventories/lab -e yellow_datasurface_image_tag=lab-2 >"$logs/lab-update-image.log" 2>&1 ||
  fail "update_image failed (see $logs/lab-update-image.log)"
# Read the whole list before matching: `... | grep -q` under pipefail fails when grep exits at the
# first match and the writer then gets SIGPIPE.
for node in yellow-lab-node1 yellow-lab-node2 yellow-lab-node3; do
  images=$(podman exec "$node" ctr -n k8s.io images ls -q 2>&1) ||
    fail "$node: cannot list its images: $images"
  grep -q ':lab-2$' <<<"$images" || fail "$node has no lab-2 image after update_image; it has: $(tr '\n' ' ' <<<"$images")"
done
jobs_after=$(jobs_state)
# Exactly model-merge is a new Job (new uid, created later); ring1-init and reconcile-views are the same.
python3 - "$jobs_before" "$jobs_after" <<'PY' || fail "update_image did not re-create exactly model-merge"
import sys
def jobs(text):
    return {f[1]: (f[2], f[3]) for f in (line.split() for line in text.splitlines()) if len(f) == 4}
before, after = jobs(sys.argv[1]), jobs(sys.argv[2])
new = sorted(name for name in after if after[name][0] != before.get(name, ("",))[0])
print(f"    Jobs re-created by update_image: {new}")
assert sorted(before) == sorted(after), (sorted(before), sorted(after))
assert new == ["test-dp-model-merge-job"], new
name = new[0]
assert after[name][1] >= before[name][1], (before[name], after[name])
print(f"    {name}: uid {before[name][0]} -> {after[name][0]}, created {before[name][1]} -> {after[name][1]}")
PY
grep -E '^[a-z0-9.-]+ +: ok=' "$logs/lab-update-image.log"
took

step "tests on the running lab (tests/lab/tests: an import error reported by verify, a wrong registry password, pg_hba)"
rm -f "$logs"/lab-tests-*.log
python3 -m pytest tests/lab/tests -q -s -p no:cacheprovider >"$logs/lab-tests.log" 2>&1 ||
  { fail "tests on the running lab failed (see $logs/lab-tests.log)"; tail -n 60 "$logs/lab-tests.log"; }
grep -E ': rc [0-9]+ in [0-9]+ s$|^k8s_job failed after|[0-9]+ (passed|failed)' "$logs/lab-tests.log" | tail -n 15
took

echo "--- every lab secret and the control plane's client keys (plain, base64, base64 of user:password) in no log"
# The client keys' PEM body lines, one per file (the sweep reads each file's first word); owner only, removed after.
keys=$(mktemp -d)
for key in operator admin; do
  grep -v -- '-----' "$cluster_dir/pki/$key.key" | awk -v d="$keys" -v k="$key" 'length($0) >= 16 {print > (d "/" k "-key-line" NR)}'
done
test_logs=()
for f in "$logs"/lab-tests-*.log; do [ -e "$f" ] && test_logs+=(--log "$f"); done
python3 scripts/assert_no_secrets.py --secrets-dir .lab/secrets --secrets-dir "$keys" --users-from inventories/lab/group_vars \
  --log "$logs/lab-run1.log" --log "$logs/lab-run2.log" --log "$logs/lab-check.log" \
  --log "$logs/lab-push-tag.log" --log "$logs/lab-update-image.log" --log "$logs/lab-tests.log" \
  "${test_logs[@]}" || fail "a lab secret reached the output"
rm -rf "$keys"

step "make lab-down"
# At -v: a removal that had to be tried again leaves its error in the log, printed here.
ANSIBLE_VERBOSITY=1 make -s lab-down >"$logs/lab-down.log" 2>&1 ||
  { fail "make lab-down failed (see $logs/lab-down.log)"; tail -n 40 "$logs/lab-down.log"; }
grep -A3 -- '^FAILED - RETRYING' "$logs/lab-down.log" | cut -c1-600 || true
# The -v log too: no lab secret (they stay in .lab/secrets; the control plane's keys went with it).
python3 scripts/assert_no_secrets.py --secrets-dir .lab/secrets --users-from inventories/lab/group_vars \
  --log "$logs/lab-down.log" || fail "a lab secret reached lab-down's output"
took
exit $rc
