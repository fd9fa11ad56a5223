# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""k8s_job's client side in-process against the Kubernetes API test server: the client kubernetes.core builds
(kubeconfig, K8S_AUTH_* variables, host/api_key), JobApi's calls, watch expiry (410) on a short history, and the
runner's reaction time to a Failed condition set by the JobController."""

from __future__ import annotations

import threading
import time

import pytest
from k8s_api.fixtures import k8s_api  # noqa: F401  pylint: disable=unused-import
from k8s_api.job_controller import JobController
from k8s_api.server import ApiServer

from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import ClientError, JobApi, K8sApiError, api_client
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.job import JobFailed, JobRunner, manifest_hash, prepare_manifest

NS = "default"


def manifest(name):
    return prepare_manifest({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                             "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
                                                                               "containers": [{"name": "main", "image": "ds:1"}]}}}})


def run(api, name, **kwargs):
    body = manifest(name)
    return JobRunner(api, NS, name, **kwargs).present(body, manifest_hash(body))


@pytest.fixture(autouse=True)
def _no_ambient_auth(monkeypatch, tmp_path):
    for var in ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_CONTEXT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # kubernetes.core's discovery cache


def test_client_from_kubeconfig_option_env_and_host(k8s_api, monkeypatch):  # noqa: F811
    jobs = JobApi(api_client({"kubeconfig": str(k8s_api.kubeconfig_path)}))
    assert jobs.get_job(NS, "missing") is None
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", str(k8s_api.kubeconfig_path))
    assert JobApi(api_client({})).list_jobs(NS, "x")[0] == []
    monkeypatch.delenv("K8S_AUTH_KUBECONFIG")
    raw = api_client({"host": k8s_api.url, "api_key": "t0ken", "validate_certs": False})
    assert raw.configuration.host == k8s_api.url
    assert raw.configuration.api_key == {"authorization": "Bearer t0ken"}
    assert JobApi(raw).get_job(NS, "missing") is None


def test_bad_kubeconfig_is_a_client_error(tmp_path):
    bad = tmp_path / "kubeconfig"
    bad.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    with pytest.raises(ClientError, match="^Could not create API client: "):
        api_client({"kubeconfig": str(bad)})


def test_job_api_calls(k8s_api):  # noqa: F811
    jobs = JobApi(api_client({"kubeconfig": str(k8s_api.kubeconfig_path)}))
    with pytest.raises(K8sApiError) as err:
        jobs.create_job("nowhere", dict(manifest("a"), metadata={"name": "a", "namespace": "nowhere"}))
    assert err.value.status == 404 and err.value.reason == "NotFound" and "nowhere" in err.value.message
    created = jobs.create_job(NS, manifest("a"))
    uid = created["metadata"]["uid"]
    items, version = jobs.list_jobs(NS, "a")
    assert [j["metadata"]["uid"] for j in items] == [uid] and version.isdigit()
    pod = k8s_api.make_pod_for_job(NS, "a", log="one\ntwo\nthree\n")
    pods, _version = jobs.list_pods(NS, f"batch.kubernetes.io/controller-uid={uid}")
    assert [p["metadata"]["name"] for p in pods] == [pod["metadata"]["name"]]
    assert jobs.pod_log(NS, pod["metadata"]["name"], "main", 2) == "two\nthree\n"
    stream = jobs.watch_jobs(NS, "a", version, 5)
    timer = threading.Timer(0.2, k8s_api.complete_job, (NS, "a"))
    timer.start()
    events = []
    for event in stream:
        events.append(event)
        stream.close()
    assert events[0]["type"] == "MODIFIED" and events[0]["object"]["status"]["conditions"][-1]["type"] == "Complete"
    assert jobs.delete_job(NS, "a", "not-the-uid") is False  # uid precondition
    assert jobs.delete_job(NS, "a", uid, "Background") is True
    assert jobs.get_job(NS, "a") is None and jobs.list_pods(NS, f"controller-uid={uid}")[0] == []
    assert jobs.delete_job(NS, "a", uid) is False


def test_closing_a_watch_unblocks_its_reader(k8s_api):  # noqa: F811
    jobs = JobApi(api_client({"kubeconfig": str(k8s_api.kubeconfig_path)}))
    stream = jobs.watch_pods(NS, "x=y", jobs.list_pods(NS, "x=y")[1], 30)
    done = threading.Event()

    def read():
        for _event in stream:
            pass
        done.set()

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.2)
    start = time.monotonic()
    stream.close()
    assert done.wait(3) and time.monotonic() - start < 3


def test_watch_expiry_on_a_short_history_relists(tmp_path):
    with ApiServer(kubeconfig_path=tmp_path / "kubeconfig", history=30) as api, JobController(api, delay=2.5):
        jobs = JobApi(api_client({"kubeconfig": str(api.kubeconfig_path)}))
        stop = threading.Event()

        def churn():  # unrelated changes push the watches' resourceVersion out of the short history
            i = 0
            while not stop.wait(0.005):
                api.store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i % 50}", "namespace": NS},
                               "data": {"i": str(i)}})
                i += 1

        thread = threading.Thread(target=churn, daemon=True)
        thread.start()
        try:
            runner = JobRunner(jobs, NS, "churned", timeout=30, watch_seconds=1)  # reconnects from a stale version
            body = manifest("churned")
            result = runner.present(body, manifest_hash(body))
        finally:
            stop.set()
            thread.join()
    assert result["result"] == "succeeded" and runner.relists >= 1


def test_reaction_to_failed_is_immediate(k8s_api):  # noqa: F811
    jobs = JobApi(api_client({"kubeconfig": str(k8s_api.kubeconfig_path)}))
    with JobController(k8s_api, delay=1.0, default="fail") as ctl:
        with pytest.raises(JobFailed) as err:
            run(jobs, "boom", timeout=60)
        reported = time.monotonic()
    reaction = reported - ctl.when("failed", "boom")
    assert 0 <= reaction < 1.0, reaction
    result = err.value.result
    assert result["reason"] == "BackoffLimitExceeded" and 0.9 <= result["duration"] < 3
    (pod,) = result["pods"]
    assert result["logs"] == {pod: {"main": "boom: starting\nboom: working\nboom: error: something went wrong (exit status 1)"}}
    assert [e["reason"] for e in result["events"] if e["object"] == "Job/boom"] == ["SuccessfulCreate", "BackoffLimitExceeded"]
