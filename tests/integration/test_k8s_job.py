# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""datasurface.yellow.k8s_job run for real (``ansible localhost -m`` and ansible-playbook) against the real control
plane (tests/cluster: kube-apiserver, the real Job, TTL-after-finished, garbage-collector and persistent-volume
controllers, the scheduler; KWOK simulating the nodes), always as the OPERATOR identity (``k8s_env``, the shipped
playbooks/files/operator-rbac.yml); the admin only sets up and looks.

How pods end is KWOK's: pods of a Job complete; the pod-template label
``pod-container-running-failed.stage.kwok.x-k8s.io: "true"`` fails the container (KWOK's chaos stage, after the
annotation's delay); ``yellow.test/simulate: image-pull-backoff`` and ``slow-termination`` are stages of ours
(tests/cluster/stages). Every pod serves one simulated log (tests/cluster/cluster.py ``SIMULATED_LOG``).

Asserted: success; a failed Job reported with the reason, the pod's log and the Job's events (the time from the
Failed condition to the report is printed, not bounded); image pull back-off failing after the grace; a timeout
saying what state the Job was in; waiting on a running Job (in-process, so that its pod is let run exactly when the
runner starts to watch), replacing a failed one; unchanged/rerun/changed-spec/
check-mode/absent (no write seen by a recording proxy - ``k8s_recorder`` - for the unchanged and check-mode runs,
and the objects' uid/resourceVersion unchanged); input errors before any request (the recording proxy sees none);
issue 12's acceptance: FailedCreate (missing ServiceAccount, Pod Security, ResourceQuota), Unschedulable, an unbound
PVC, a Job removed by the TTL-after-finished controller not run again, a Job deleted while its pods still
terminate waited for before it is created again. The API server keeps no audit log here: read requests are seen
only through the recording proxy, which cannot carry watches (it buffers responses), so runs that wait go direct.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml

from tests.cluster.cluster import SIMULATED_LOG, Cluster

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = Path(sys.executable).with_name("ansible")
PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
RECORDS = "datasurface-yellow-k8s-job-records"
IMAGE = "registry.example.com/datasurface/datasurface:v1.2.3"
FAIL_LABEL = "pod-container-running-failed.stage.kwok.x-k8s.io"


def job_manifest(name: str, namespace: str, image: str = IMAGE, labels: Optional[Dict[str, str]] = None,
                 annotations: Optional[Dict[str, str]] = None, pod_spec: Optional[Dict[str, Any]] = None,
                 **spec: Any) -> Dict[str, Any]:
    template: Dict[str, Any] = {"spec": dict({"restartPolicy": "Never", "containers": [
        {"name": "main", "image": image, "args": ["bootstrap", name]}]}, **(pod_spec or {}))}
    if labels or annotations:
        template["metadata"] = {k: v for k, v in (("labels", labels), ("annotations", annotations)) if v}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": namespace},
            "spec": dict({"backoffLimit": 0, "template": template}, **spec)}


def _env(k8s_env: Dict[str, str], tmp_path: Path) -> Dict[str, str]:
    return dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
                ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def run_module(env: Dict[str, str], tmp_path: Path, check: bool = False, **args: Any) -> Tuple[Dict[str, Any], float]:
    """Run the module once through ``ansible localhost -m``; its result and the wall-clock time the process ended."""
    args.setdefault("kubeconfig", env.get("KUBECONFIG"))
    args = {k: v for k, v in args.items() if v is not None}
    cmd = [str(ANSIBLE), "localhost", "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
           "-m", "datasurface.yellow.k8s_job", "-a", json.dumps(args)] + (["--check"] if check else [])
    # the minimal callback prints "localhost | CHANGED => {result}" (the json callback would overwrite "action")
    run_env = dict(_env(env, tmp_path), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    proc = subprocess.run(cmd, env=run_env, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    ended = time.time()
    try:
        status, text = proc.stdout.split(" => ", 1)
        result = json.loads(text)
    except ValueError:
        pytest.fail(f"no JSON result (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    result["failed"] = status.endswith("FAILED!")
    assert (proc.returncode == 0) != result["failed"], (proc.returncode, status, result)
    result["stderr"] = proc.stderr
    return result, ended


def k8s_job(env: Dict[str, str], tmp_path: Path, check: bool = False, **args: Any) -> Dict[str, Any]:
    return run_module(env, tmp_path, check, **args)[0]


def get(cluster: Cluster, kind: str, name: str, namespace: str) -> Optional[Dict[str, Any]]:
    """The object as the admin sees it, None when it does not exist."""
    proc = cluster.kubectl("get", kind, name, "-n", namespace, "-o", "json", "--ignore-not-found", check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def pods_of(cluster: Cluster, namespace: str, job: str) -> List[Dict[str, Any]]:
    return cluster.get("pods", "-n", namespace, "-l", f"job-name={job}")["items"]


def record(cluster: Cluster, namespace: str, job: str) -> Optional[Dict[str, Any]]:
    configmap = get(cluster, "configmap", RECORDS, namespace)
    text = ((configmap or {}).get("data") or {}).get(job)
    return json.loads(text) if text else None


def wait_until(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def stamp(text: str) -> float:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


# ---- the ordinary life of a Job ------------------------------------------------------------------------------


def test_unchanged_rerun_changed_spec_check_mode_and_absent(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                            k8s_recorder, tmp_path: Path) -> None:
    ns = k8s_namespace
    first = k8s_job(k8s_env, tmp_path, definition=job_manifest("ring1-init", ns))
    assert (first["changed"], first["action"], first["result"]) == (True, "created", "succeeded"), first
    job = get(cluster, "job", "ring1-init", ns)
    assert first["job"] == {"name": "ring1-init", "namespace": ns, "uid": job["metadata"]["uid"]}
    assert job["metadata"]["annotations"]["datasurface.yellow/manifest-sha256"] == first["manifest_sha256"]
    assert [c["type"] for c in first["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    (old_pod,) = first["pods"]
    assert [p["metadata"]["name"] for p in pods_of(cluster, ns, "ring1-init")] == [old_pod]
    assert first["record"] == record(cluster, ns, "ring1-init") == {
        "sha256": first["manifest_sha256"], "uid": job["metadata"]["uid"], "completionTime": job["status"]["completionTime"]}
    records = get(cluster, "configmap", RECORDS, ns)
    assert records["metadata"].get("ownerReferences") is None
    assert records["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "datasurface.yellow"

    # already succeeded, same manifest: the recording proxy sees reads only, the objects are untouched
    again = k8s_job(k8s_env, tmp_path, definition=job_manifest("ring1-init", ns), kubeconfig=str(k8s_recorder.kubeconfig))
    assert (again["changed"], again["action"], again["result"]) == (False, "unchanged", "succeeded"), again
    assert k8s_recorder.requests and k8s_recorder.writes() == []
    assert again["pods"] == [old_pod]
    same = get(cluster, "job", "ring1-init", ns)
    assert (same["metadata"]["uid"], same["metadata"]["resourceVersion"]) == (job["metadata"]["uid"], job["metadata"]["resourceVersion"])
    assert get(cluster, "configmap", RECORDS, ns)["metadata"]["resourceVersion"] == records["metadata"]["resourceVersion"]

    # rerun: deleted (Foreground: its pod with it) and created again
    rerun = k8s_job(k8s_env, tmp_path, definition=job_manifest("ring1-init", ns), rerun=True)
    assert (rerun["changed"], rerun["action"], rerun["result"]) == (True, "recreated", "succeeded"), rerun
    assert rerun["job"]["uid"] != first["job"]["uid"] and rerun["pods"] != [old_pod]
    assert get(cluster, "pod", old_pod, ns) is None
    assert record(cluster, ns, "ring1-init")["uid"] == rerun["job"]["uid"]

    # another image: another hash, recreated
    changed = k8s_job(k8s_env, tmp_path, definition=job_manifest("ring1-init", ns, image="ds:2"))
    assert (changed["action"], changed["result"]) == ("recreated", "succeeded"), changed
    assert changed["manifest_sha256"] != first["manifest_sha256"]
    assert "the manifest changed" in changed["msg"]

    # check mode: the decision, no write (the proxy), no wait
    k8s_recorder.requests.clear()
    current = get(cluster, "job", "ring1-init", ns)
    checked = k8s_job(k8s_env, tmp_path, check=True, definition=job_manifest("ring1-init", ns, image="ds:3"),
                      kubeconfig=str(k8s_recorder.kubeconfig))
    assert (checked["changed"], checked["action"], checked["result"]) == (True, "recreated", "skipped"), checked
    assert checked["msg"].startswith(f"check mode: would recreate job {ns}/ring1-init: the manifest changed")
    same = k8s_job(k8s_env, tmp_path, check=True, definition=job_manifest("ring1-init", ns, image="ds:2"),
                   kubeconfig=str(k8s_recorder.kubeconfig))
    assert (same["changed"], same["action"]) == (False, "unchanged")
    gone = k8s_job(k8s_env, tmp_path, check=True, name="ring1-init", namespace=ns, state="absent",
                   kubeconfig=str(k8s_recorder.kubeconfig))
    assert (gone["changed"], gone["action"], gone["result"]) == (True, "deleted", "skipped")
    assert k8s_recorder.requests and k8s_recorder.writes() == []
    after = get(cluster, "job", "ring1-init", ns)
    assert (after["metadata"]["uid"], after["metadata"]["resourceVersion"]) == (
        current["metadata"]["uid"], current["metadata"]["resourceVersion"])

    # absent: the Job and its pods go, its record too; a second time there is nothing to do
    assert pods_of(cluster, ns, "ring1-init")
    deleted = k8s_job(k8s_env, tmp_path, name="ring1-init", namespace=ns, state="absent")
    assert (deleted["changed"], deleted["action"], deleted["result"]) == (True, "deleted", "absent"), deleted
    assert get(cluster, "job", "ring1-init", ns) is None
    assert pods_of(cluster, ns, "ring1-init") == []
    assert record(cluster, ns, "ring1-init") is None
    absent = k8s_job(k8s_env, tmp_path, name="ring1-init", namespace=ns, state="absent")
    assert (absent["changed"], absent["action"]) == (False, "absent")


def test_failed_job_is_reported_with_reason_log_and_events(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                           tmp_path: Path) -> None:
    ns = k8s_namespace
    src = tmp_path / "bootstrap.yaml"
    src.write_text(yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}},
        job_manifest("ring2-init", ns, labels={FAIL_LABEL: "true"}, annotations={f"{FAIL_LABEL}/delay": "1s"})]))
    result, ended = run_module(k8s_env, tmp_path, src=str(src), timeout=120, log_lines=2)
    assert result["failed"] and result["result"] == "failed" and result["reason"] == "BackoffLimitExceeded", result
    assert result["msg"].startswith(f"job {ns}/ring2-init failed: BackoffLimitExceeded: Job has reached the specified backoff limit")
    (pod,) = result["pods"]
    assert result["logs"] == {pod: {"main": SIMULATED_LOG.strip()}}
    assert SIMULATED_LOG.strip() in result["msg"]
    reasons = [(e["object"], e["reason"]) for e in result["events"]]
    assert ("Job/ring2-init", "SuccessfulCreate") in reasons and ("Job/ring2-init", "BackoffLimitExceeded") in reasons
    assert get(cluster, "configmap", "settings", ns) is None  # the other documents are not applied
    assert record(cluster, ns, "ring2-init") is None
    job = get(cluster, "job", "ring2-init", ns)
    failed = next(c for c in job["status"]["conditions"] if c["type"] == "Failed")
    # lastTransitionTime has a resolution of one second: the lag printed is at most one second too long
    print(f"\nreported {ended - stamp(failed['lastTransitionTime']):.2f} s after the Failed condition's lastTransitionTime "
          f"(module duration {result['duration']:.2f} s)")


def test_image_pull_back_off_fails_after_the_grace(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                   tmp_path: Path) -> None:
    ns = k8s_namespace
    result = k8s_job(k8s_env, tmp_path, definition=job_manifest("pull", ns, image="registry.example.com/nope:1",
                                                                labels={"yellow.test/simulate": "image-pull-backoff"}),
                     timeout=300, pod_failure_grace=3)
    assert result["result"] == "failed" and result["reason"] == "ImagePullBackOff", result
    (pod,) = result["pods"]
    assert re.match(rf"job {ns}/pull failed: ImagePullBackOff: pod {pod} container main in ImagePullBackOff for 3 s "
                    r"\(pod_failure_grace 3 s\): Back-off pulling image \"registry.example.com/nope:1\"", result["msg"]), result["msg"]
    assert {"Failed", "BackOff"} <= {e["reason"] for e in result["events"] if e["object"] == f"Pod/{pod}"}
    assert get(cluster, "job", "pull", ns)["status"].get("conditions") is None  # left as it is, for inspection


def test_timeout_says_what_state_the_job_was_in(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                tmp_path: Path) -> None:
    ns = k8s_namespace
    result = k8s_job(k8s_env, tmp_path, definition=job_manifest("slow", ns, pod_spec={"nodeSelector": {"yellow.test/none": "x"}}),
                     timeout=3, pod_failure_grace=600)
    (pod,) = result["pods"]
    assert result["result"] == "timeout" and result["reason"] == "Timeout", result
    assert result["msg"] == f"job {ns}/slow not finished after 3 s: active=1 succeeded=0 failed=0; pod {pod} Pending (Unschedulable)"


def test_waits_on_a_running_job_and_replaces_a_failed_one(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                          tmp_path: Path, no_ambient_auth) -> None:
    """The pods wait for a node labelled ``yellow.test/hb-wait=<token>`` (none at first); labelling one lets the real
    scheduler place them, and KWOK completes them. The wait on a running Job runs in-process, so that the label is
    set exactly when the runner, having decided to wait, starts to watch (its first listing of the Job)."""
    from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.job import JobRunner, manifest_hash
    ns = k8s_namespace
    token = ns[-11:].strip("-")
    selector = {"nodeSelector": {"yellow.test/hb-wait": token}}
    # The deadline fails the first ring3 (no node matches yet) and must leave its recreation, once a node matches,
    # room to be scheduled and completed on a machine loaded by the lab beside the tests (2 s did not, once).
    doomed = job_manifest("ring3", ns, pod_spec=selector, activeDeadlineSeconds=15)
    merge = job_manifest("merge", ns, pod_spec=selector)
    try:
        for manifest in (doomed, merge):
            started = k8s_job(k8s_env, tmp_path, definition=manifest, wait=False)
            assert (started["changed"], started["action"], started["result"]) == (True, "created", "running"), started
        cluster.kubectl("wait", "--for=condition=Failed", "--timeout=120s", "-n", ns, "job/ring3")
        merge_uid = get(cluster, "job", "merge", ns)["metadata"]["uid"]

        jobs = _jobs(cluster)
        list_jobs = jobs.list_jobs

        def place_then_list(namespace: str, name: str):
            if not placed:
                placed.append(cluster.kubectl("label", "node", cluster.nodes[-1], f"yellow.test/hb-wait={token}", "--overwrite"))
            return list_jobs(namespace, name)

        placed: List[Any] = []
        jobs.list_jobs = place_then_list
        body = _prepared("merge", ns, pod_spec=selector)
        waited = JobRunner(jobs, ns, "merge", timeout=300, pod_failure_grace=120).present(body, manifest_hash(body))
        assert (waited["changed"], waited["action"], waited["result"]) == (False, "waited", "succeeded"), waited
        assert waited["job"]["uid"] == merge_uid and placed

        replaced = k8s_job(k8s_env, tmp_path, definition=doomed)
        assert (replaced["changed"], replaced["action"], replaced["result"]) == (True, "recreated", "succeeded"), replaced
        assert "the existing Job failed (DeadlineExceeded: Job was active longer than specified deadline)" in replaced["msg"]
    finally:
        cluster.kubectl("label", "node", cluster.nodes[-1], "yellow.test/hb-wait-", check=False)


def test_bad_input_fails_before_any_request(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str], k8s_recorder,
                                            tmp_path: Path) -> None:
    ns = k8s_namespace
    deployment = dict(job_manifest("x", ns), kind="Deployment", apiVersion="apps/v1")
    result = k8s_job(k8s_env, tmp_path, definition=deployment, kubeconfig=str(k8s_recorder.kubeconfig))
    assert result["msg"] == "definition: kind must be Job, got 'Deployment'"
    result = k8s_job(k8s_env, tmp_path, definition=job_manifest("x", ns), namespace="elsewhere",
                     kubeconfig=str(k8s_recorder.kubeconfig))
    assert result["msg"] == f"namespace: 'elsewhere' differs from the manifest's metadata.namespace '{ns}' in definition"
    assert k8s_recorder.requests == []
    assert get(cluster, "job", "x", ns) is None


def test_a_playbook_runs_jobs_in_sequence_and_is_idempotent(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                            tmp_path: Path) -> None:
    ns = k8s_namespace
    names = ["test-dp-ring1-init", "test-dp-ring2-init", "test-dp-model-merge"]
    cmd = [str(PLAYBOOK), "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
           "-e", f"k8s_job_kubeconfig={k8s_env['KUBECONFIG']}", "-e", f"k8s_job_namespace={ns}",
           str(ROOT / "tests/integration/playbooks/k8s_job_sequence.yml")]
    first = subprocess.run(cmd, env=_env(k8s_env, tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    jobs = [get(cluster, "job", name, ns) for name in names]
    second = subprocess.run(cmd, env=_env(k8s_env, tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(r"localhost\s*:\s*ok=2\s+changed=1\b", first.stdout), first.stdout
    assert re.search(r"localhost\s*:\s*ok=2\s+changed=0\b", second.stdout), second.stdout
    # one after the other: each created once its predecessor had completed (the API's times have 1 s resolution)
    for before, after in zip(jobs, jobs[1:]):
        assert stamp(before["status"]["completionTime"]) <= stamp(after["metadata"]["creationTimestamp"])
    assert [get(cluster, "job", name, ns)["metadata"]["uid"] for name in names] == [j["metadata"]["uid"] for j in jobs]


# ---- issue 12: the real controllers ------------------------------------------------------------------------------


def test_failed_create_for_a_missing_service_account(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                     tmp_path: Path) -> None:
    ns = k8s_namespace
    result = k8s_job(k8s_env, tmp_path, definition=job_manifest("sa", ns, pod_spec={"serviceAccountName": "missing-sa"}),
                     timeout=300, pod_failure_grace=2)
    assert result["result"] == "failed" and result["reason"] == "FailedCreate", result
    assert re.match(rf"job {ns}/sa failed: FailedCreate: the Job controller cannot create its pods \(FailedCreate for \d+ s, "
                    rf"pod_failure_grace 2 s\): Error creating: pods \"sa-\" is forbidden: error looking up service "
                    rf"account {ns}/missing-sa: serviceaccount \"missing-sa\" not found", result["msg"]), result["msg"]
    assert result["pods"] == [] and pods_of(cluster, ns, "sa") == []
    assert ("Job/sa", "Warning", "FailedCreate") in [(e["object"], e["type"], e["reason"]) for e in result["events"]]


def test_failed_create_for_pod_security_fails_at_once(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                      tmp_path: Path) -> None:
    ns = k8s_namespace
    cluster.kubectl("label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted")
    result = k8s_job(k8s_env, tmp_path, definition=job_manifest("psa", ns), timeout=300, pod_failure_grace=250)
    assert result["result"] == "failed" and result["reason"] == "FailedCreate", result
    # "at once": the message has no "FailedCreate for N s", the grace (250 s) was not sat out
    assert result["msg"].startswith(f"job {ns}/psa failed: FailedCreate: the Job controller cannot create its pods: Error creating: "), result["msg"]
    assert 'violates PodSecurity "restricted:latest"' in result["msg"]
    assert result["pods"] == []


def test_failed_create_for_a_resource_quota(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                            tmp_path: Path) -> None:
    ns = k8s_namespace
    cluster.apply([{"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "no-pods", "namespace": ns},
                    "spec": {"hard": {"pods": "0"}}}])
    wait_until(lambda: (get(cluster, "resourcequota", "no-pods", ns).get("status") or {}).get("hard"), "the quota's status")
    result = k8s_job(k8s_env, tmp_path, definition=job_manifest("quota", ns), timeout=300, pod_failure_grace=2)
    assert result["result"] == "failed" and result["reason"] == "FailedCreate", result
    assert "exceeded quota: no-pods" in result["msg"], result["msg"]
    assert result["pods"] == []


def test_unschedulable_pod_fails_after_the_grace(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                 tmp_path: Path) -> None:
    ns = k8s_namespace
    result = k8s_job(k8s_env, tmp_path, definition=job_manifest("nowhere", ns, pod_spec={"nodeSelector": {"yellow.test/no-such-node": "true"}}),
                     timeout=300, pod_failure_grace=2)
    assert result["result"] == "failed" and result["reason"] == "Unschedulable", result
    (pod,) = result["pods"]
    assert re.match(rf"job {ns}/nowhere failed: Unschedulable: pod {pod} unschedulable for 2 s \(pod_failure_grace 2 s\): "
                    r"0/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity/selector", result["msg"]), result["msg"]
    assert (f"Pod/{pod}", "FailedScheduling") in [(e["object"], e["reason"]) for e in result["events"]]


def test_unbound_pvc_fails_after_the_grace_naming_the_claim(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                            tmp_path: Path) -> None:
    """The pool's volumes are 20Gi: a 500Gi claim of the lab's class binds to none."""
    ns = k8s_namespace
    cluster.apply([{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": ns},
                    "spec": {"storageClassName": "local-path", "accessModes": ["ReadWriteOnce"],
                             "resources": {"requests": {"storage": "500Gi"}}}}], operator=True)
    volumes = {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}
    result = k8s_job(k8s_env, tmp_path, definition=job_manifest("claims", ns, pod_spec=volumes), timeout=300, pod_failure_grace=2)
    assert result["result"] == "failed" and result["reason"] == "UnboundPersistentVolumeClaim", result
    (pod,) = result["pods"]
    assert re.match(rf"job {ns}/claims failed: UnboundPersistentVolumeClaim: pod {pod} unschedulable for 2 s "
                    r"\(pod_failure_grace 2 s\): 0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims", result["msg"]), result["msg"]
    assert result["msg"].endswith("; PersistentVolumeClaim data is Pending (storageClassName 'local-path', requests 500Gi)")
    assert get(cluster, "pvc", "data", ns)["status"]["phase"] == "Pending"
    objects = {e["object"] for e in result["events"]}
    assert f"Pod/{pod}" in objects and "PersistentVolumeClaim/data" in objects, result["events"]


def test_a_job_removed_by_the_ttl_controller_is_not_run_again(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                              k8s_recorder, tmp_path: Path) -> None:
    ns = k8s_namespace
    manifest = job_manifest("ttl", ns, ttlSecondsAfterFinished=0)
    first = k8s_job(k8s_env, tmp_path, definition=manifest)
    assert (first["changed"], first["action"], first["result"]) == (True, "created", "succeeded"), first
    wait_until(lambda: get(cluster, "job", "ttl", ns) is None, "the TTL-after-finished controller to delete the Job")
    configmap = get(cluster, "configmap", RECORDS, ns)
    assert json.loads(configmap["data"]["ttl"]) == first["record"] and first["record"]["uid"] == first["job"]["uid"]

    checked = k8s_job(k8s_env, tmp_path, check=True, definition=manifest)
    assert (checked["changed"], checked["action"], checked["result"]) == (False, "unchanged", "succeeded"), checked
    again = k8s_job(k8s_env, tmp_path, definition=manifest, kubeconfig=str(k8s_recorder.kubeconfig))
    assert (again["changed"], again["action"], again["result"]) == (False, "unchanged", "succeeded"), again
    assert again["job"]["uid"] is None and again["record"] == first["record"]
    assert f"recorded in ConfigMap {RECORDS}; the Job itself is gone" in again["msg"]
    assert k8s_recorder.requests and k8s_recorder.writes() == []
    assert get(cluster, "job", "ttl", ns) is None
    assert get(cluster, "configmap", RECORDS, ns)["metadata"]["resourceVersion"] == configmap["metadata"]["resourceVersion"]

    rerun = k8s_job(k8s_env, tmp_path, definition=manifest, rerun=True)
    assert (rerun["changed"], rerun["action"], rerun["result"]) == (True, "created", "succeeded"), rerun
    assert rerun["record"]["uid"] == rerun["job"]["uid"] != first["job"]["uid"]


def test_a_job_deleted_while_its_pods_terminate_is_waited_for(cluster: Cluster, k8s_namespace: str, k8s_env: Dict[str, str],
                                                              tmp_path: Path) -> None:
    """Pods labelled ``yellow.test/simulate: slow-termination`` run until deleted, then terminate for 6 s (our KWOK
    stages, tests/cluster/stages/yellow-slow-termination.yaml; only a running pod terminates gracefully). Deleted
    with Background propagation, the Job is gone at once while its pod terminates: the next create waits for the pod.
    Replaced by the module (rerun, Foreground), the old Job stays until its pod is gone. A poller checks that the
    new Job never exists while the old pod does."""
    ns = k8s_namespace
    slow = {"labels": {"yellow.test/simulate": "slow-termination"}, "annotations": {"yellow.test/termination-delay": "6s"}}
    manifest = job_manifest("linger", ns, **slow)

    def running_pod() -> str:
        found: List[str] = []
        wait_until(lambda: found.extend(p["metadata"]["name"] for p in pods_of(cluster, ns, "linger")
                                        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp"))
                   or found, "the Job's pod to run")
        return found[0]

    def watched(old_pod: str, **args: Any) -> Tuple[Dict[str, Any], List[Tuple[bool, Optional[str]]]]:
        samples: List[Tuple[bool, Optional[str]]] = []
        stop = threading.Event()

        def sample() -> None:  # the Job first: a pod seen after it existed then as well (a gone pod never returns)
            job = get(cluster, "job", "linger", ns)
            pod = get(cluster, "pod", old_pod, ns) is not None
            samples.append((pod, job["metadata"]["uid"] if job else None))

        def poll() -> None:
            while not stop.is_set():
                sample()
                time.sleep(0.1)

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        try:
            result = k8s_job(k8s_env, tmp_path, definition=manifest, wait=False, **args)
        finally:
            stop.set()
            thread.join()
        # One sample after the module returned: a sample takes two kubectl runs, longer than the module takes from
        # creating the Job to its exit, so the poller alone may stop before it sees the new Job.
        sample()
        return result, samples

    first = k8s_job(k8s_env, tmp_path, definition=manifest, wait=False)
    assert (first["action"], first["result"]) == ("created", "running"), first
    old_pod = running_pod()
    cluster.kubectl("delete", "job", "linger", "-n", ns, "--cascade=background", "--wait=false")
    wait_until(lambda: get(cluster, "job", "linger", ns) is None, "the Job to go")
    wait_until(lambda: (get(cluster, "pod", old_pod, ns) or {}).get("metadata", {}).get("deletionTimestamp"),
               "the garbage collector to delete the pod")
    second, samples = watched(old_pod)
    assert (second["changed"], second["action"], second["result"]) == (True, "created", "running"), second
    assert samples[0] == (True, None), samples
    assert not [s for s in samples if s[0] and s[1]], samples  # never the new Job while the old pod was there
    assert second["job"]["uid"] in {s[1] for s in samples}

    old_pod = running_pod()
    third, samples = watched(old_pod, rerun=True)  # deleted with Foreground propagation, then created again
    assert (third["changed"], third["action"], third["result"]) == (True, "recreated", "running"), third
    assert (True, second["job"]["uid"]) in samples  # the old Job stayed while its pod terminated
    assert not [s for s in samples if s[0] and s[1] == third["job"]["uid"]], samples
    assert third["job"]["uid"] in {s[1] for s in samples}


# ---- the client in-process against the real API server (moved from tests/unit/test_k8s_job_client.py) ------------


@pytest.fixture
def no_ambient_auth(monkeypatch, tmp_path):
    for var in ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_CONTEXT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # kubernetes.core's discovery cache


def _jobs(cluster: Cluster):
    from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import JobApi, api_client
    return JobApi(api_client({"kubeconfig": str(cluster.operator_kubeconfig)}))


def _prepared(name: str, namespace: str, **kwargs: Any) -> Dict[str, Any]:
    from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.job import prepare_manifest
    return prepare_manifest(job_manifest(name, namespace, **kwargs))


def test_client_from_kubeconfig_option_env_and_host_with_a_token(cluster: Cluster, k8s_namespace: str, no_ambient_auth,
                                                                 monkeypatch, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import JobApi, api_client
    ns = k8s_namespace
    assert _jobs(cluster).get_job(ns, "missing") is None
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", str(cluster.operator_kubeconfig))
    assert JobApi(api_client({})).list_jobs(ns, "x")[0] == []
    monkeypatch.delenv("K8S_AUTH_KUBECONFIG")
    # host + api_key: a real ServiceAccount token (TokenRequest); that account has no RBAC, so the server says who it
    # is. In a fresh process, as the module always runs: loading a kubeconfig (above) sets kubernetes' default
    # configuration for the rest of a process, client certificate included.
    cluster.apply([{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nobody", "namespace": ns}}])
    token = cluster.kubectl("create", "token", "nobody", "-n", ns, "--duration=10m").stdout.strip()
    env = {k: v for k, v in k8s_env.items() if k not in ("KUBECONFIG", "K8S_AUTH_KUBECONFIG")}
    result = k8s_job(env, tmp_path, kubeconfig=None, host=cluster.server, api_key=token, validate_certs=False,
                     name="missing", namespace=ns, state="absent")
    assert result["failed"] and result["reason"] == "Forbidden", result
    assert result["msg"] == (f'job {ns}/missing: 403 Forbidden: jobs.batch "missing" is forbidden: User '
                             f'"system:serviceaccount:{ns}:nobody" cannot get resource "jobs" in API group "batch" in the '
                             f'namespace "{ns}"')
    raw = api_client({"host": cluster.server, "api_key": token, "validate_certs": False})
    assert raw.configuration.host == cluster.server
    assert raw.configuration.api_key == {"authorization": f"Bearer {token}"}


def test_job_api_calls(cluster: Cluster, k8s_namespace: str, no_ambient_auth) -> None:
    from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import K8sApiError
    ns = k8s_namespace
    jobs = _jobs(cluster)
    with pytest.raises(K8sApiError) as err:
        jobs.create_job(ns, dict(_prepared("a", ns), kind="Pod"))
    assert err.value.status == 400 and err.value.reason == "BadRequest"
    created = jobs.create_job(ns, _prepared("a", ns))
    uid = created["metadata"]["uid"]
    items, version = jobs.list_jobs(ns, "a")
    assert [j["metadata"]["uid"] for j in items] == [uid] and version.isdigit()
    stream = jobs.watch_jobs(ns, "a", created["metadata"]["resourceVersion"], 30)
    for event in stream:  # the real Job controller and KWOK complete it
        if any(c["type"] == "Complete" for c in (event["object"].get("status") or {}).get("conditions") or []):
            stream.close()
    pods, _version = jobs.list_pods(ns, f"batch.kubernetes.io/controller-uid={uid}")
    (pod,) = [p["metadata"]["name"] for p in pods]
    assert jobs.pod_log(ns, pod, "main", 2) == SIMULATED_LOG
    events, _version = jobs.list_events(ns, f"involvedObject.uid={uid}")
    assert {"SuccessfulCreate", "Completed"} <= {e["reason"] for e in events}
    assert jobs.get_pvc(ns, "none") is None and jobs.get_configmap(ns, "none") is None
    with pytest.raises(K8sApiError) as err:
        jobs.merge_configmap_data(ns, "none", {"k": "v"})
    assert err.value.status == 404
    jobs.create_configmap(ns, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "r"}, "data": {"a": "1", "b": "2"}})
    assert jobs.merge_configmap_data(ns, "r", {"a": None, "c": "3"})["data"] == {"b": "2", "c": "3"}
    assert jobs.delete_job(ns, "a", "not-the-uid") is False  # uid precondition
    assert jobs.delete_job(ns, "a", uid, "Background") is True
    wait_until(lambda: jobs.get_job(ns, "a") is None and not jobs.list_pods(ns, f"controller-uid={uid}")[0], "the Job and its pod to go")
    assert jobs.delete_job(ns, "a", uid) is False


def test_closing_a_watch_unblocks_its_reader(cluster: Cluster, k8s_namespace: str, no_ambient_auth) -> None:
    jobs = _jobs(cluster)
    stream = jobs.watch_pods(k8s_namespace, "x=y", jobs.list_pods(k8s_namespace, "x=y")[1], 30)
    done = threading.Event()

    def read() -> None:
        for _event in stream:
            pass
        done.set()

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.2)
    stream.close()
    assert done.wait(10)


def test_an_expired_watch_lists_again(cluster: Cluster, k8s_namespace: str, no_ambient_auth) -> None:
    """A watch from a resourceVersion older than the API server's watch cache is answered 410 Gone (``too old
    resource version``); the runner lists again and still sees the Job succeed."""
    from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.job import JobRunner, manifest_hash
    ns = k8s_namespace
    jobs = _jobs(cluster)
    stale = {"jobs": True}
    list_jobs = jobs.list_jobs

    def first_list_is_stale(namespace: str, name: str):
        items, version = list_jobs(namespace, name)
        if stale.pop("jobs", False):
            return items, "1"
        return items, version

    jobs.list_jobs = first_list_is_stale
    body = _prepared("churned", ns)
    existing = jobs.create_job(ns, dict(body, metadata=dict(body["metadata"], annotations={
        "datasurface.yellow/manifest-sha256": manifest_hash(body)})))
    runner = JobRunner(jobs, ns, "churned", timeout=60, watch_seconds=5)
    result = runner.present(body, manifest_hash(body))  # same manifest: waits on it (lists, then watches)
    assert result["result"] == "succeeded" and result["job"]["uid"] == existing["metadata"]["uid"]
    assert runner.relists >= 1


def test_reaction_to_failed_in_process(cluster: Cluster, k8s_namespace: str, no_ambient_auth) -> None:
    from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.job import JobFailed, JobRunner, manifest_hash
    ns = k8s_namespace
    body = _prepared("boom", ns, labels={FAIL_LABEL: "true"}, annotations={f"{FAIL_LABEL}/delay": "1s"})
    with pytest.raises(JobFailed) as err:
        JobRunner(_jobs(cluster), ns, "boom", timeout=60).present(body, manifest_hash(body))
    reported = time.time()
    result = err.value.result
    assert result["reason"] == "BackoffLimitExceeded" and result["result"] == "failed"
    (pod,) = result["pods"]
    assert result["logs"] == {pod: {"main": SIMULATED_LOG.strip()}}
    job_events = [e["reason"] for e in result["events"] if e["object"] == "Job/boom"]
    assert job_events[0] == "SuccessfulCreate" and "BackoffLimitExceeded" in job_events
    failed = next(c for c in result["conditions"] if c["type"] == "Failed")
    print(f"\nin-process report {reported - stamp(failed['lastTransitionTime']):.2f} s after the Failed condition's "
          "lastTransitionTime (1 s resolution)")
