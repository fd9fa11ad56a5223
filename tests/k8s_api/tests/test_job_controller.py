# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The opt-in Job controller (job_controller.py) and the CLI's --jobs options, through the real kubernetes client."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from kubernetes import client as k8s
from kubernetes import config

from ..job_controller import JobController
from ..server import ApiServer

ROOT = Path(__file__).resolve().parents[3]
NS = "default"


@pytest.fixture
def clients(k8s_api: ApiServer) -> Iterator[Any]:
    api_client = config.new_client_from_config(config_file=str(k8s_api.kubeconfig_path))
    try:
        yield k8s.BatchV1Api(api_client), k8s.CoreV1Api(api_client)
    finally:
        api_client.close()


def _job(name: str, image: str = "registry.example/app:1", **spec: Any) -> Dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "labels": {"app": "demo"}},
            "spec": {"backoffLimit": 0, **spec, "template": {"metadata": {"labels": {"team": "data"}}, "spec": {
                "restartPolicy": "Never", "containers": [{"name": "main", "image": image}]}}}}


def _until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def _conditions(api: ApiServer, name: str) -> List[str]:
    job = api.store.get_object("batch/v1", "Job", name, NS)
    return [c["type"] for c in ((job or {}).get("status") or {}).get("conditions") or [] if c.get("status") == "True"]


def _pods(api: ApiServer, name: str) -> List[Dict[str, Any]]:
    return api.store.list_objects("v1", "Pod", NS, label_selector=f"job-name={name}")


def _events(api: ApiServer, name: str) -> List[tuple]:
    return sorted((e["involvedObject"]["kind"], e["reason"], e["type"]) for e in api.store.list_objects("v1", "Event", NS)
                  if e["involvedObject"]["name"].startswith(name))


def test_succeed_creates_an_owned_pod_with_a_log_and_completes(k8s_api: ApiServer, clients: Any) -> None:
    batch, core = clients
    with JobController(k8s_api, delay=0.3) as ctl:
        created = batch.create_namespaced_job(NS, _job("ok"))
        _until(lambda: "Complete" in _conditions(k8s_api, "ok"))
    uid = created.metadata.uid
    (pod,) = _pods(k8s_api, "ok")
    labels = pod["metadata"]["labels"]
    assert labels == {"team": "data", "controller-uid": uid, "batch.kubernetes.io/controller-uid": uid,
                      "job-name": "ok", "batch.kubernetes.io/job-name": "ok"}
    assert pod["metadata"]["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "Job", "name": "ok", "uid": uid,
                                                   "controller": True, "blockOwnerDeletion": True}]
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    # found the way k8s_job and kubectl find them: by the controller-uid label
    listed = core.list_namespaced_pod(NS, label_selector=f"batch.kubernetes.io/controller-uid={uid}").items
    assert [p.metadata.name for p in listed] == [pod["metadata"]["name"]]
    assert core.read_namespaced_pod_log(pod["metadata"]["name"], NS, container="main") == "ok: starting\nok: working\nok: done\n"
    job = batch.read_namespaced_job("ok", NS)
    assert job.status.succeeded == 1 and job.status.completion_time
    assert _events(k8s_api, "ok") == [("Job", "Completed", "Normal"), ("Job", "SuccessfulCreate", "Normal"),
                                      ("Pod", "Scheduled", "Normal"), ("Pod", "Started", "Normal")]
    assert [a for _t, a, _ns, n in ctl.history if n == "ok"] == ["created", "running", "succeeded"]
    assert 0.25 <= ctl.when("succeeded", "ok") - ctl.when("created", "ok") < 2.0


def test_fail_marks_the_pod_and_job_failed(k8s_api: ApiServer, clients: Any) -> None:
    batch, _core = clients
    with JobController(k8s_api, delay=0.2, outcomes={"bad": "fail"}) as ctl:
        batch.create_namespaced_job(NS, _job("bad"))
        ctl.wait_for("failed", "bad")
    job = batch.read_namespaced_job("bad", NS)
    failed = [c for c in job.status.conditions if c.type == "Failed"]
    assert failed and failed[0].reason == "BackoffLimitExceeded" and job.status.failed == 1
    (pod,) = _pods(k8s_api, "bad")
    assert pod["status"]["phase"] == "Failed"
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 1 and terminated["reason"] == "Error"
    assert ("Job", "BackoffLimitExceeded", "Warning") in _events(k8s_api, "bad")
    assert "error" in k8s_api.store.pod_log(NS, pod["metadata"]["name"])


def test_image_pull_backoff_keeps_the_job_active(k8s_api: ApiServer, clients: Any) -> None:
    batch, _core = clients
    with JobController(k8s_api, delay=0.2, outcomes={"pull-*": "image-pull-backoff"}) as ctl:
        batch.create_namespaced_job(NS, _job("pull-1", image="registry.example/missing:0"))
        ctl.wait_for("image-pull-backoff", "pull-1")
    (pod,) = _pods(k8s_api, "pull-1")
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert pod["status"]["phase"] == "Pending" and waiting["reason"] == "ImagePullBackOff"
    assert "registry.example/missing:0" in waiting["message"]
    assert _conditions(k8s_api, "pull-1") == []
    assert batch.read_namespaced_job("pull-1", NS).status.active == 1
    assert {("Pod", "Failed", "Warning"), ("Pod", "BackOff", "Normal")} <= set(_events(k8s_api, "pull-1"))
    assert [a for _t, a, _ns, _n in ctl.history] == ["created", "err-image-pull", "image-pull-backoff"]


def test_hang_leaves_the_pod_running(k8s_api: ApiServer, clients: Any) -> None:
    batch, _core = clients
    with JobController(k8s_api, delay=0.2, default="hang") as ctl:
        batch.create_namespaced_job(NS, _job("slow"))
        ctl.wait_for("running", "slow")
        time.sleep(0.4)
    (pod,) = _pods(k8s_api, "slow")
    assert pod["status"]["phase"] == "Running" and _conditions(k8s_api, "slow") == []
    assert batch.read_namespaced_job("slow", NS).status.ready == 1


def test_outcome_selection_and_jobs_left_alone(k8s_api: ApiServer, clients: Any) -> None:
    ctl = JobController(k8s_api, outcomes={"*-init": "fail", "ring1-init": "succeed", "x?": "hang"}, default=None)
    assert ctl.outcome_for("ring1-init") == "succeed"  # an exact name wins over globs
    assert ctl.outcome_for("ring2-init") == "fail"
    assert ctl.outcome_for("x1") == "hang"
    assert ctl.outcome_for("other") is None
    with pytest.raises(ValueError, match="unknown Job outcome"):
        JobController(k8s_api, default="explode")
    batch, _core = clients
    with ctl:
        batch.create_namespaced_job(NS, _job("other"))
        batch.create_namespaced_job(NS, _job("ring2-init"))
        ctl.wait_for("failed", "ring2-init")
    assert _pods(k8s_api, "other") == [] and _conditions(k8s_api, "other") == []


def test_suspended_jobs_wait_until_resumed(k8s_api: ApiServer, clients: Any) -> None:
    batch, _core = clients
    with JobController(k8s_api, delay=0.1) as ctl:
        batch.create_namespaced_job(NS, _job("later", suspend=True))
        time.sleep(0.3)
        assert _pods(k8s_api, "later") == []
        batch.patch_namespaced_job("later", NS, {"spec": {"suspend": False}})
        ctl.wait_for("succeeded", "later")


def test_jobs_existing_before_start_or_already_finished_are_not_replayed(k8s_api: ApiServer, clients: Any) -> None:
    batch, _core = clients
    batch.create_namespaced_job(NS, _job("before"))
    with JobController(k8s_api, delay=0.1) as ctl:
        k8s_api.store.put({**_job("done"), "status": {"conditions": [{"type": "Complete", "status": "True"}]}})
        batch.create_namespaced_job(NS, _job("after"))
        ctl.wait_for("succeeded", "after")
    assert _pods(k8s_api, "before") == [] and _pods(k8s_api, "done") == []


@pytest.mark.parametrize("policy", ["Background", "Foreground"])
def test_deleting_the_job_removes_its_pods(k8s_api: ApiServer, clients: Any, policy: str) -> None:
    batch, core = clients
    with JobController(k8s_api, delay=0.2, default="hang") as ctl:
        first = batch.create_namespaced_job(NS, _job("again"))
        ctl.wait_for("running", "again")
        core.create_namespaced_pod(NS, {"metadata": {"name": "bystander"}, "spec": {"containers": [{"name": "m", "image": "i"}]}})
        batch.delete_namespaced_job("again", NS, body=k8s.V1DeleteOptions(propagation_policy=policy))
        assert [p.metadata.name for p in core.list_namespaced_pod(NS).items] == ["bystander"]
        assert k8s_api.store.list_objects("batch/v1", "Job", NS) == []
        # the same name again is a new Job (new uid): it gets its own pod
        second = batch.create_namespaced_job(NS, _job("again"))
        _until(lambda: _pods(k8s_api, "again"))
    (pod,) = _pods(k8s_api, "again")
    assert second.metadata.uid != first.metadata.uid
    assert pod["metadata"]["labels"]["controller-uid"] == second.metadata.uid


def test_orphan_keeps_the_pods(k8s_api: ApiServer, clients: Any) -> None:
    batch, _core = clients
    with JobController(k8s_api, delay=0.2, default="hang") as ctl:
        batch.create_namespaced_job(NS, _job("kept"))
        ctl.wait_for("created", "kept")
        batch.delete_namespaced_job("kept", NS)  # batch/v1 default: orphan
    (pod,) = _pods(k8s_api, "kept")
    assert "ownerReferences" not in pod["metadata"]


def _http(url: str, method: str = "GET", body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 (loopback test server)
        return json.loads(resp.read())


def test_cli_plays_jobs_with_outcomes(tmp_path: Path) -> None:
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "tests.k8s_api", "--kubeconfig", str(tmp_path / "kubeconfig"), "--jobs", "succeed",
         "--job-delay", "0.2", "--job-outcome", "bad-*=fail", "--job-outcome", "pull=image-pull-backoff"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else url
        base = f"{url}/apis/batch/v1/namespaces/default/jobs"
        for name in ("good", "bad-1", "pull"):
            _http(base, "POST", _job(name))

        def state(name: str) -> List[str]:
            job = _http(f"{base}/{name}")
            return [c["type"] for c in (job.get("status") or {}).get("conditions") or []]

        assert "Complete" in _until(lambda: state("good"))
        assert "Failed" in _until(lambda: state("bad-1"))
        pods = _until(lambda: [p for p in _http(f"{url}/api/v1/namespaces/default/pods?labelSelector=job-name%3Dpull")["items"]
                               if (p["status"].get("containerStatuses") or [{}])[0].get("state", {}).get("waiting", {}).get("reason")
                               == "ImagePullBackOff"])
        assert len(pods) == 1 and state("pull") == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_cli_rejects_unknown_outcomes(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tests.k8s_api", "--job-outcome", "x=explode"], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=30)
    assert proc.returncode == 2 and "NAME_OR_GLOB=OUTCOME" in proc.stderr


def test_effect_runs_before_success_and_a_failing_effect_fails_the_job(tmp_path):
    from tests.k8s_api import ApiServer, JobController  # pylint: disable=import-outside-toplevel
    marker = tmp_path / "ran"
    with ApiServer() as api:
        with JobController(api, delay=0.1, effects={"*-init": f"touch {marker}", "bad-*": "echo boom; exit 3"}) as ctl:
            for name in ("ring1-init", "bad-job"):
                api.store.put({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "default"},
                               "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}],
                                                              "restartPolicy": "Never"}}}})
            ctl.wait_for("succeeded", "ring1-init")
            ctl.wait_for("failed", "bad-job")
        assert marker.exists()
        pods = [p for p in api.store.list_objects("v1", "Pod", "default") if p["metadata"]["name"].startswith("bad-job")]
        log = api.store.pod_log("default", pods[0]["metadata"]["name"])
        assert "simulated effect of bad-job (exit 3)" in log and "boom" in log
