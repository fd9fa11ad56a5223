# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""datasurface.yellow.k8s_job run for real (ansible ad-hoc and ansible-playbook) against the Kubernetes API
test server, with the test playing the Job controller (tests/k8s_api/job_controller.py, or by hand).

Asserted: success; a failed Job reported within 2 s of its Failed condition (the module's own ``duration``
against the controller's timestamps, and the process exit against the ansible overhead measured here) with
the pod's log and events; image pull back-off failing after the grace, long before the timeout; a timeout
saying what state the Job was in; unchanged/rerun/changed-spec/check-mode/absent behaviour and the requests
each made (``api.requests``); input errors failing before any request.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest
import yaml
from k8s_api.job_controller import JobController
from k8s_api.server import ApiServer

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = Path(sys.executable).with_name("ansible")
PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
NS = "demo1"
WRITES = ("POST", "PUT", "PATCH", "DELETE")

pytestmark = pytest.mark.skipif(not ANSIBLE.exists(), reason="ansible is not installed next to this python")


def job_manifest(name: str, image: str = "registry.example.com/datasurface/datasurface:v1.2.3") -> Dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NS},
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "main", "image": image, "args": ["bootstrap", name]}]}}}}


def _env(k8s_env: Dict[str, str], tmp_path: Path) -> Dict[str, str]:
    return dict(k8s_env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
                ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def run_module(api: ApiServer, env: Dict[str, str], tmp_path: Path, check: bool = False, **args: Any) -> Tuple[Dict[str, Any], float]:
    """Run the module once through ``ansible localhost -m``; its result and the monotonic time the process ended."""
    args.setdefault("kubeconfig", str(api.kubeconfig_path))
    cmd = [str(ANSIBLE), "localhost", "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
           "-m", "datasurface.yellow.k8s_job", "-a", json.dumps(args)] + (["--check"] if check else [])
    # the minimal callback prints "localhost | CHANGED => {result}" (the json callback would overwrite "action")
    run_env = dict(_env(env, tmp_path), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    proc = subprocess.run(cmd, env=run_env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    ended = time.monotonic()
    try:
        status, text = proc.stdout.split(" => ", 1)
        result = json.loads(text)
    except ValueError:
        pytest.fail(f"no JSON result (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    result["failed"] = status.endswith("FAILED!")
    assert (proc.returncode == 0) != result["failed"], (proc.returncode, status, result)
    return result, ended


def k8s_job(api: ApiServer, env: Dict[str, str], tmp_path: Path, check: bool = False, **args: Any) -> Dict[str, Any]:
    return run_module(api, env, tmp_path, check, **args)[0]


def writes_since(api: ApiServer, mark: int) -> list:
    return [(r.method, r.path) for r in list(api.requests)[mark:] if r.method in WRITES]


@pytest.fixture
def api(k8s_api: ApiServer) -> ApiServer:
    k8s_api.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    return k8s_api


def stored(api: ApiServer, name: str) -> Dict[str, Any]:
    job = api.store.get_object("batch/v1", "Job", name, NS)
    assert job is not None
    return job


def test_unchanged_rerun_changed_spec_check_mode_and_absent(api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    with JobController(api, delay=0.5):
        first = k8s_job(api, k8s_env, tmp_path, definition=job_manifest("ring1-init"))
        assert (first["changed"], first["action"], first["result"]) == (True, "created", "succeeded")
        job = stored(api, "ring1-init")
        assert first["job"] == {"name": "ring1-init", "namespace": NS, "uid": job["metadata"]["uid"]}
        assert job["metadata"]["annotations"]["datasurface.yellow/manifest-sha256"] == first["manifest_sha256"]
        assert [c["type"] for c in first["conditions"]] == ["SuccessCriteriaMet", "Complete"]
        (old_pod,) = first["pods"]
        assert 0.3 <= first["duration"] < 10

        # already succeeded, same manifest: nothing is written
        mark = len(api.requests)
        again = k8s_job(api, k8s_env, tmp_path, definition=job_manifest("ring1-init"))
        assert (again["changed"], again["action"], again["result"]) == (False, "unchanged", "succeeded")
        assert writes_since(api, mark) == []
        assert again["pods"] == [old_pod]

        # rerun: deleted (its pod with it) and created again
        mark = len(api.requests)
        rerun = k8s_job(api, k8s_env, tmp_path, definition=job_manifest("ring1-init"), rerun=True)
        assert (rerun["changed"], rerun["action"], rerun["result"]) == (True, "recreated", "succeeded")
        assert rerun["job"]["uid"] != first["job"]["uid"] and rerun["pods"] != [old_pod]
        assert api.store.get_object("v1", "Pod", old_pod, NS) is None
        assert writes_since(api, mark) == [("DELETE", f"/apis/batch/v1/namespaces/{NS}/jobs/ring1-init"),
                                           ("POST", f"/apis/batch/v1/namespaces/{NS}/jobs")]

        # another image: another hash, recreated
        changed = k8s_job(api, k8s_env, tmp_path, definition=job_manifest("ring1-init", image="ds:2"))
        assert (changed["action"], changed["result"]) == ("recreated", "succeeded")
        assert changed["manifest_sha256"] != first["manifest_sha256"]
        assert "the manifest changed" in changed["msg"]

        # check mode: the decision, no write, no wait
        mark = len(api.requests)
        uid = stored(api, "ring1-init")["metadata"]["uid"]
        checked = k8s_job(api, k8s_env, tmp_path, check=True, definition=job_manifest("ring1-init", image="ds:3"))
        assert (checked["changed"], checked["action"], checked["result"]) == (True, "recreated", "skipped")
        assert checked["msg"].startswith("check mode: would recreate job demo1/ring1-init: the manifest changed")
        same = k8s_job(api, k8s_env, tmp_path, check=True, definition=job_manifest("ring1-init", image="ds:2"))
        assert (same["changed"], same["action"]) == (False, "unchanged")
        gone = k8s_job(api, k8s_env, tmp_path, check=True, name="ring1-init", namespace=NS, state="absent")
        assert (gone["changed"], gone["action"], gone["result"]) == (True, "deleted", "skipped")
        assert writes_since(api, mark) == []
        assert stored(api, "ring1-init")["metadata"]["uid"] == uid

        # absent: the Job and its pods go; a second time there is nothing to do
        pods = stored(api, "ring1-init") and api.store.list_objects("v1", "Pod", NS)
        assert pods
        deleted = k8s_job(api, k8s_env, tmp_path, name="ring1-init", namespace=NS, state="absent")
        assert (deleted["changed"], deleted["action"], deleted["result"]) == (True, "deleted", "absent")
        assert api.store.get_object("batch/v1", "Job", "ring1-init", NS) is None
        assert api.store.list_objects("v1", "Pod", NS) == []
        absent = k8s_job(api, k8s_env, tmp_path, name="ring1-init", namespace=NS, state="absent")
        assert (absent["changed"], absent["action"]) == (False, "absent")


def test_failed_job_is_reported_within_two_seconds(api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    # the ansible start-up and tear-down overhead on this machine, from a run that does nothing
    started = time.monotonic()
    k8s_job(api, k8s_env, tmp_path, name="nothing", namespace=NS, state="absent")
    overhead = time.monotonic() - started

    src = tmp_path / "bootstrap.yaml"
    src.write_text(yaml.safe_dump_all([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}},
                                       job_manifest("ring2-init")]))
    with JobController(api, delay=1.0, outcomes={"ring2-*": "fail"}) as ctl:
        result, ended = run_module(api, k8s_env, tmp_path, src=str(src), timeout=120, log_lines=2)
    created, failed = ctl.when("created", "ring2-init"), ctl.when("failed", "ring2-init")
    assert created is not None and failed is not None
    assert result["failed"] and result["result"] == "failed" and result["reason"] == "BackoffLimitExceeded"
    assert result["msg"].startswith("job demo1/ring2-init failed: BackoffLimitExceeded: Job has reached the specified backoff limit")
    (pod,) = result["pods"]
    assert result["logs"] == {pod: {"main": "ring2-init: working\nring2-init: error: something went wrong (exit status 1)"}}
    assert "ring2-init: error: something went wrong" in result["msg"]
    reasons = [(e["object"], e["reason"]) for e in result["events"]]
    assert ("Job/ring2-init", "SuccessfulCreate") in reasons and ("Job/ring2-init", "BackoffLimitExceeded") in reasons
    # the module's own wait began when the Job was created; the Failed condition came (failed - created) later
    module_reaction = result["duration"] - (failed - created)
    exit_lag = ended - failed
    print(f"\nmodule reaction {module_reaction:.3f} s; process exit {exit_lag:.2f} s after Failed; ansible overhead {overhead:.2f} s")
    assert module_reaction < 2.0
    assert exit_lag < 2.0 + overhead
    assert result["duration"] < 5


def test_image_pull_back_off_fails_after_the_grace(api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    with JobController(api, delay=0.4, default="image-pull-backoff"):
        result = k8s_job(api, k8s_env, tmp_path, definition=job_manifest("pull", image="registry.example.com/nope:1"),
                         timeout=300, pod_failure_grace=2)
    assert result["result"] == "failed" and result["reason"] == "ImagePullBackOff"
    (pod,) = result["pods"]
    assert re.match(rf"job demo1/pull failed: ImagePullBackOff: pod {pod} container main in ImagePullBackOff for 2 s "
                    r"\(pod_failure_grace 2 s\): Back-off pulling image \"registry.example.com/nope:1\"", result["msg"]), result["msg"]
    assert 2.0 <= result["duration"] < 10
    assert {"Failed", "BackOff"} <= {e["reason"] for e in result["events"] if e["object"] == f"Pod/{pod}"}


def test_timeout_says_what_state_the_job_was_in(api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    with JobController(api, delay=600, default="hang"):
        result = k8s_job(api, k8s_env, tmp_path, definition=job_manifest("slow"), timeout=3)
    (pod,) = result["pods"]
    assert result["result"] == "timeout" and result["reason"] == "Timeout"
    assert result["msg"] == f"job demo1/slow not finished after 3 s: active=1 succeeded=0 failed=0; pod {pod} Pending (ContainerCreating)"
    assert 2.9 <= result["duration"] < 6


def test_waits_on_a_running_job_and_replaces_a_failed_one(api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    started = k8s_job(api, k8s_env, tmp_path, definition=job_manifest("merge"), wait=False)
    assert (started["changed"], started["action"], started["result"]) == (True, "created", "running")

    def finish_later(uid_not: str = "") -> threading.Thread:
        mark = len(api.requests)

        def watching() -> bool:
            return any(r.method == "GET" and r.path.endswith(f"/namespaces/{NS}/jobs") and r.query.get("watch") in ("1", "true", "True")
                       for r in list(api.requests)[mark:])

        def play() -> None:  # the test plays the controller by hand: once the module watches the (new) Job, complete it
            end = time.monotonic() + 60
            while time.monotonic() < end:
                job = api.store.get_object("batch/v1", "Job", "merge", NS)
                if job is not None and job["metadata"]["uid"] != uid_not and watching():
                    time.sleep(0.5)
                    api.make_pod_for_job(NS, "merge", phase="Succeeded", log="merged\n")
                    api.complete_job(NS, "merge")
                    return
                time.sleep(0.02)
        thread = threading.Thread(target=play, daemon=True)
        thread.start()
        return thread

    thread = finish_later()
    waited = k8s_job(api, k8s_env, tmp_path, definition=job_manifest("merge"))
    thread.join()
    assert (waited["changed"], waited["action"], waited["result"]) == (False, "waited", "succeeded")
    assert waited["job"]["uid"] == started["job"]["uid"] and waited["duration"] >= 0.4

    api.fail_job(NS, "merge", "DeadlineExceeded", "Job was active longer than specified deadline")
    thread = finish_later(uid_not=started["job"]["uid"])
    replaced = k8s_job(api, k8s_env, tmp_path, definition=job_manifest("merge"))
    thread.join()
    assert (replaced["changed"], replaced["action"], replaced["result"]) == (True, "recreated", "succeeded")
    assert "the existing Job failed (DeadlineExceeded: Job was active longer than specified deadline)" in replaced["msg"]


def test_bad_input_fails_before_any_request(api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    mark = len(api.requests)
    deployment = dict(job_manifest("x"), kind="Deployment", apiVersion="apps/v1")
    result = k8s_job(api, k8s_env, tmp_path, definition=deployment)
    assert result["msg"] == "definition: kind must be Job, got 'Deployment'"
    result = k8s_job(api, k8s_env, tmp_path, definition=job_manifest("x"), namespace="elsewhere")
    assert result["msg"] == "namespace: 'elsewhere' differs from the manifest's metadata.namespace 'demo1' in definition"
    assert len(api.requests) == mark


def test_a_playbook_runs_jobs_in_sequence_and_is_idempotent(api: ApiServer, k8s_env: Dict[str, str], tmp_path: Path) -> None:
    cmd = [str(PLAYBOOK), "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
           "-e", f"k8s_job_kubeconfig={api.kubeconfig_path}", "-e", f"k8s_job_namespace={NS}",
           str(ROOT / "tests/integration/playbooks/k8s_job_sequence.yml")]
    with JobController(api, delay=0.3) as ctl:
        first = subprocess.run(cmd, env=_env(k8s_env, tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
        assert first.returncode == 0, first.stdout + first.stderr
        second = subprocess.run(cmd, env=_env(k8s_env, tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
        assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(r"localhost\s*:\s*ok=2\s+changed=1\b", first.stdout), first.stdout
    assert re.search(r"localhost\s*:\s*ok=2\s+changed=0\b", second.stdout), second.stdout
    order = [name for _t, action, _ns, name in ctl.history if action == "created"]
    assert order == ["test-dp-ring1-init", "test-dp-ring2-init", "test-dp-model-merge"]
