#!/usr/bin/env bash
# The local lab end to end, as the README's main command runs it, asserted (the `lab` stage of
# scripts/test.sh): `make lab` on a fresh lab (up + site.yml, ending with the verify report), a
# second site.yml run at -vvv that must report changed=0 on every host, a --check run that must pass
# and change nothing, the verify report saying the cluster is simulated, day 2 (update_image), a
# sweep of every log for every lab secret (.lab/secrets: plain, base64, base64 of user:password;
# scripts/assert_no_secrets.py, `0 hits`), then `make lab-down`.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
logs=$root/.cache/logs
mkdir -p "$logs"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=false
rc=0
fail() { echo "lab_e2e: FAIL: $*" >&2; rc=1; }

# Every host's recap must say changed=0 (and failed=0).
all_unchanged() {
  local log=$1 bad
  bad=$(grep -E '^[a-z0-9.-]+ +: ok=' "$log" | grep -Ev 'changed=0 .*failed=0' || true)
  [ -z "$bad" ] || { echo "$bad" >&2; return 1; }
  grep -qE '^[a-z0-9.-]+ +: ok=' "$log"
}

make -s lab-down >"$logs/lab-down-before.log" 2>&1 || true
echo "--- make lab (fresh)"
make -s lab >"$logs/lab-run1.log" 2>&1 || fail "make lab failed (see $logs/lab-run1.log)"
tail -n 25 "$logs/lab-run1.log"

# At -vvv Ansible prints every task result, loop item (a skipped one in full) and module argument:
# the secret sweep below reads this log.
echo "--- site.yml again at -vvv: changed=0 on every host"
ansible-playbook site.yml -i inventories/lab -vvv >"$logs/lab-run2.log" 2>&1 || fail "second run failed"
all_unchanged "$logs/lab-run2.log" || fail "second run changed something"
grep -E '^[a-z0-9.-]+ +: ok=' "$logs/lab-run2.log"
grep -q '^<[a-z0-9.-]*> ESTABLISH ' "$logs/lab-run2.log" || fail "the second run's log is not at -vvv"

echo "--- site.yml --check: passes, changes nothing"
ansible-playbook site.yml -i inventories/lab --check >"$logs/lab-check.log" 2>&1 || fail "--check run failed"
all_unchanged "$logs/lab-check.log" || fail "--check run reported changes"

echo "--- the verify report says the cluster is simulated"
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

echo "--- day 2 on the lab: playbooks/update_image.yml with a new tag"
jobs_before=$(grep -c '^k8s_api: POST /apis/batch/v1/namespaces/demo1/jobs ' .lab/k8s/requests.log || true)
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
jobs_after=$(grep -c '^k8s_api: POST /apis/batch/v1/namespaces/demo1/jobs ' .lab/k8s/requests.log || true)
[ "$((jobs_after - jobs_before))" -eq 1 ] || fail "update_image created $((jobs_after - jobs_before)) Jobs, expected 1 (model-merge)"
grep -E '^[a-z0-9.-]+ +: ok=' "$logs/lab-update-image.log"

echo "--- every lab secret (plain, base64, base64 of user:password) in no log"
python3 scripts/assert_no_secrets.py --secrets-dir .lab/secrets --users-from inventories/lab/group_vars \
  --log "$logs/lab-run1.log" --log "$logs/lab-run2.log" --log "$logs/lab-check.log" \
  --log "$logs/lab-push-tag.log" --log "$logs/lab-update-image.log" || fail "a lab secret reached the output"

make -s lab-down >"$logs/lab-down.log" 2>&1 || fail "make lab-down failed"
exit $rc
