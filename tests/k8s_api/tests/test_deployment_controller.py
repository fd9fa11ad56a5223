# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The opt-in, simulated Deployment roll-outs (deployment_controller.py) and the CLI's --deployments option."""

from __future__ import annotations

import ipaddress
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

from ..controllers import mark_rollout_ready
from ..deployment_controller import POD_IP_RANGE, SIMULATED, SIMULATED_BY, DeploymentController
from ..server import ApiServer

ROOT = Path(__file__).resolve().parents[3]
NS = "default"
LABELS = {"app.kubernetes.io/name": "demo-mcp", "app.kubernetes.io/part-of": "demo"}


@pytest.fixture
def clients(k8s_api: ApiServer) -> Iterator[Any]:
    api_client = config.new_client_from_config(config_file=str(k8s_api.kubeconfig_path))
    try:
        yield k8s.AppsV1Api(api_client), k8s.CoreV1Api(api_client)
    finally:
        api_client.close()


def _deployment(name: str = "demo-mcp", image: str = "registry.example/mcp:1", replicas: Optional[int] = 2) -> Dict[str, Any]:
    spec: Dict[str, Any] = {
        "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        "template": {"metadata": {"labels": {**LABELS, "app.kubernetes.io/name": name}}, "spec": {"containers": [
            {"name": "mcp", "image": image, "ports": [{"name": "http", "containerPort": 8000}]}]}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": "demo"}}, "spec": spec}


def _service(name: str = "demo-mcp", selector: Optional[Dict[str, str]] = None, target: Any = "http") -> Dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": {"team": "data"}},
            "spec": {"type": "NodePort", "selector": selector if selector is not None else {"app.kubernetes.io/name": "demo-mcp"},
                     "ports": [{"name": "web", "port": 80, "targetPort": target, "nodePort": 30081}]}}


def _until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def _pods(api: ApiServer, name: str = "demo-mcp") -> List[Dict[str, Any]]:
    return sorted(api.store.list_objects("v1", "Pod", NS, label_selector=f"app.kubernetes.io/name={name}"),
                  key=lambda p: p["metadata"]["name"])


def _status(api: ApiServer, name: str = "demo-mcp") -> Dict[str, Any]:
    return (api.store.get_object("apps/v1", "Deployment", name, NS) or {}).get("status") or {}


def _addresses(api: ApiServer, name: str = "demo-mcp") -> List[str]:
    endpoints = api.store.get_object("v1", "Endpoints", name, NS) or {}
    return sorted(a["targetRef"]["name"] for s in endpoints.get("subsets") or [] for a in s.get("addresses") or [])


def test_a_deployment_gets_ready_pods_and_its_service_endpoints(k8s_api: ApiServer, clients: Any) -> None:
    apps, core = clients
    k8s_api.add_node("node-a")
    k8s_api.add_node("node-b")
    core.create_namespaced_service(NS, _service())
    core.create_namespaced_service(NS, _service("other", {"app.kubernetes.io/name": "nothing"}))
    with DeploymentController(k8s_api, delay=0.2) as ctl:
        created = apps.create_namespaced_deployment(NS, _deployment())
        assert created.status.ready_replicas is None
        ctl.wait_for("rolled-out", "demo-mcp")
        _until(lambda: ctl.count("endpoints", "demo-mcp"))
        core.create_namespaced_service(NS, _service("late", target=8000))
        _until(lambda: ctl.count("endpoints", "late"))

    deployment = apps.read_namespaced_deployment("demo-mcp", NS)
    status = deployment.status
    assert (status.observed_generation, status.replicas, status.ready_replicas, status.available_replicas,
            status.updated_replicas) == (1, 2, 2, 2, 2)
    assert sorted((c.type, c.status, c.reason) for c in status.conditions) == [
        ("Available", "True", "MinimumReplicasAvailable"), ("Progressing", "True", "NewReplicaSetAvailable")]

    (rs,) = apps.list_namespaced_replica_set(NS).items
    assert rs.metadata.owner_references[0].uid == created.metadata.uid
    pod_hash = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"demo-mcp-{pod_hash}"

    pods = _pods(k8s_api)
    assert len(pods) == 2
    for pod in pods:
        assert pod["metadata"]["name"].startswith(f"demo-mcp-{pod_hash}-")
        assert pod["metadata"]["labels"] == {**LABELS, "pod-template-hash": pod_hash, SIMULATED: "true"}
        assert pod["metadata"]["annotations"] == {SIMULATED: SIMULATED_BY}
        assert pod["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs.metadata.name,
                                                       "uid": rs.metadata.uid, "controller": True, "blockOwnerDeletion": True}]
        assert pod["status"]["phase"] == "Running"
        assert {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"] == "True"
        assert [c["ready"] for c in pod["status"]["containerStatuses"]] == [True]
        assert ipaddress.ip_address(pod["status"]["podIP"]) in POD_IP_RANGE
        assert pod["spec"]["containers"][0]["image"] == "registry.example/mcp:1"
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["node-a", "node-b"]
    assert len({p["status"]["podIP"] for p in pods}) == 2

    endpoints = core.read_namespaced_endpoints("demo-mcp", NS)
    assert endpoints.metadata.labels == {"team": "data", SIMULATED: "true"}
    (subset,) = endpoints.subsets
    assert [(p.name, p.port, p.protocol) for p in subset.ports] == [("web", 8000, "TCP")]
    assert sorted((a.ip, a.target_ref.kind, a.target_ref.name, a.node_name) for a in subset.addresses) == sorted(
        (p["status"]["podIP"], "Pod", p["metadata"]["name"], p["spec"]["nodeName"]) for p in pods)
    assert _addresses(k8s_api, "late") == [p["metadata"]["name"] for p in pods]
    (late,) = core.read_namespaced_endpoints("late", NS).subsets
    assert [(p.name, p.port) for p in late.ports] == [("web", 8000)]
    assert k8s_api.store.get_object("v1", "Endpoints", "other", NS) is None
    reasons = sorted(e["reason"] for e in k8s_api.store.list_objects("v1", "Event", NS))
    assert reasons == ["ScalingReplicaSet", "SuccessfulCreate", "SuccessfulCreate"]


def test_a_changed_template_rolls_again_and_replicas_follow(k8s_api: ApiServer, clients: Any) -> None:
    apps, core = clients
    core.create_namespaced_service(NS, _service())
    with DeploymentController(k8s_api, delay=0.2) as ctl:
        apps.create_namespaced_deployment(NS, _deployment())
        ctl.wait_for("rolled-out", "demo-mcp")
        first = {p["metadata"]["name"] for p in _pods(k8s_api)}
        assert len(first) == 2 and _addresses(k8s_api) == sorted(first)

        apps.patch_namespaced_deployment("demo-mcp", NS, {"spec": {"template": {"spec": {"containers": [
            {"name": "mcp", "image": "registry.example/mcp:2"}]}}}})
        ctl.wait_for("rolled-out", "demo-mcp", times=2)
        second = _pods(k8s_api)
        assert len(second) == 2 and not first & {p["metadata"]["name"] for p in second}
        assert {p["spec"]["containers"][0]["image"] for p in second} == {"registry.example/mcp:2"}
        assert _addresses(k8s_api) == [p["metadata"]["name"] for p in second]
        assert _status(k8s_api)["observedGeneration"] == 2 and _status(k8s_api)["readyReplicas"] == 2
        replica_sets = {rs.metadata.name: (rs.spec.replicas, rs.status.replicas) for rs in apps.list_namespaced_replica_set(NS).items}
        new_hash = second[0]["metadata"]["labels"]["pod-template-hash"]
        assert replica_sets.pop(f"demo-mcp-{new_hash}") == (2, 2)
        assert list(replica_sets.values()) == [(0, 0)]

        apps.patch_namespaced_deployment("demo-mcp", NS, {"spec": {"replicas": 3}})
        ctl.wait_for("rolled-out", "demo-mcp", times=3)
        third = _pods(k8s_api)
        assert len(third) == 3 and {p["metadata"]["name"] for p in second} < {p["metadata"]["name"] for p in third}
        assert _status(k8s_api)["readyReplicas"] == 3 and len(_addresses(k8s_api)) == 3

        apps.patch_namespaced_deployment("demo-mcp", NS, {"spec": {"replicas": 0}})
        ctl.wait_for("rolled-out", "demo-mcp", times=4)
        assert _pods(k8s_api) == [] and _addresses(k8s_api) == []
        assert core.read_namespaced_endpoints("demo-mcp", NS).subsets is None
        assert ctl.count("rolled-out", "demo-mcp") == 4


def test_a_deleted_pod_is_replaced_and_deleting_the_deployment_empties_the_endpoints(k8s_api: ApiServer, clients: Any) -> None:
    apps, core = clients
    core.create_namespaced_service(NS, _service())
    with DeploymentController(k8s_api, delay=0.2) as ctl:
        apps.create_namespaced_deployment(NS, _deployment(replicas=None))
        ctl.wait_for("rolled-out", "demo-mcp")
        (pod,) = _pods(k8s_api)
        core.delete_namespaced_pod(pod["metadata"]["name"], NS)
        (replacement,) = _until(lambda: [p for p in _pods(k8s_api) if p["metadata"]["name"] != pod["metadata"]["name"]])
        _until(lambda: _addresses(k8s_api) == [replacement["metadata"]["name"]])
        assert ctl.count("rolled-out", "demo-mcp") == 1

        apps.delete_namespaced_deployment("demo-mcp", NS)
        _until(lambda: (k8s_api.store.get_object("v1", "Endpoints", "demo-mcp", NS) or {"subsets": 1}).get("subsets") is None)
    assert _pods(k8s_api) == [] and apps.list_namespaced_replica_set(NS).items == []


def test_deployments_someone_else_plays_and_their_endpoints_are_left_alone(k8s_api: ApiServer, clients: Any) -> None:
    apps, core = clients
    # Played by the test before the controller starts: a ready status (like the lab's seeds or helm --wait tests).
    k8s_api.store.put(_deployment("seeded"))
    mark_rollout_ready(k8s_api.store, "Deployment", NS, "seeded")
    # A Service whose Endpoints the test wrote itself.
    core.create_namespaced_service(NS, _service("own-endpoints"))
    k8s_api.store.put({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "own-endpoints", "namespace": NS},
                       "subsets": [{"addresses": [{"ip": "10.0.0.9"}], "ports": [{"port": 1}]}]})
    before = k8s_api.store.get_object("v1", "Endpoints", "own-endpoints", NS)
    with DeploymentController(k8s_api, delay=0.2) as ctl:
        assert ctl.count("left-alone", "seeded") == 1
        apps.patch_namespaced_deployment("seeded", NS, {"spec": {"replicas": 5}})
        apps.create_namespaced_deployment(NS, _deployment())
        ctl.wait_for("rolled-out", "demo-mcp")
        core.create_namespaced_service(NS, _service())
        _until(lambda: ctl.count("endpoints", "demo-mcp"))
        # a Deployment whose status the test sets before the delay is over is not rolled out either
        apps.create_namespaced_deployment(NS, _deployment("marked", replicas=1))
        mark_rollout_ready(k8s_api.store, "Deployment", NS, "marked")
        apps.create_namespaced_deployment(NS, _deployment("after-marked", replicas=1))
        ctl.wait_for("rolled-out", "after-marked")
    assert _status(k8s_api, "seeded")["readyReplicas"] == 2 and _status(k8s_api, "seeded")["observedGeneration"] == 1
    assert _pods(k8s_api, "seeded") == [] and _pods(k8s_api, "marked") == []
    assert ctl.count("rolled-out", "marked") == 0 and ctl.count("left-alone", "marked") == 1
    assert k8s_api.store.get_object("v1", "Endpoints", "own-endpoints", NS) == before
    assert len(_addresses(k8s_api)) == 2


def test_ready_pods_that_already_match_count_towards_the_replicas(k8s_api: ApiServer, clients: Any) -> None:
    """The lab seeds Airflow's pods (labelled simulated, Ready, no owner): a Deployment selecting them gets no second pod."""
    apps, _core = clients
    k8s_api.store.put({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "demo-mcp-7d9f8c6b5-lab01", "namespace": NS, "labels": {**LABELS, SIMULATED: "true"}},
        "spec": {"containers": [{"name": "mcp", "image": "x"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
    with DeploymentController(k8s_api, delay=0.2) as ctl:
        apps.create_namespaced_deployment(NS, _deployment(replicas=3))
        ctl.wait_for("rolled-out", "demo-mcp")
    names = [p["metadata"]["name"] for p in _pods(k8s_api)]
    assert len(names) == 3 and "demo-mcp-7d9f8c6b5-lab01" in names
    assert _status(k8s_api)["readyReplicas"] == 3


def _http(url: str, method: str = "GET", body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 (loopback test server)
        return json.loads(resp.read())


def _cli(tmp_path: Path, *args: str) -> "subprocess.Popen[str]":
    return subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "tests.k8s_api", "--kubeconfig", str(tmp_path / "kubeconfig"), *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def _stop(proc: "subprocess.Popen[str]") -> None:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)
    assert proc.returncode == 0


@pytest.mark.parametrize("enabled", [True, False], ids=["deployments-ready", "default-off"])
def test_cli_rolls_out_deployments_only_when_asked(tmp_path: Path, enabled: bool) -> None:
    # With the default (off), a Job played by --jobs finishing after the Deployment's delay shows the server
    # ran on: the Deployment would have been rolled out by then, and is not.
    proc = _cli(tmp_path, "--jobs", "succeed", "--job-delay", "1", "--deployment-delay", "0.1",
                *(["--deployments", "ready"] if enabled else []))
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else url
        _http(f"{url}/api/v1/namespaces/default/services", "POST", _service())
        _http(f"{url}/apis/apps/v1/namespaces/default/deployments", "POST", _deployment())
        _http(f"{url}/apis/batch/v1/namespaces/default/jobs", "POST", {
            "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "marker"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox"}]}}}})
        _until(lambda: [c for c in (_http(f"{url}/apis/batch/v1/namespaces/default/jobs/marker").get("status") or {})
                        .get("conditions") or [] if c["type"] == "Complete"])
        status = _http(f"{url}/apis/apps/v1/namespaces/default/deployments/demo-mcp").get("status") or {}
        pods = _http(f"{url}/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io%2Fname%3Ddemo-mcp")["items"]
        endpoints = _http(f"{url}/api/v1/namespaces/default/endpoints")["items"]
    finally:
        _stop(proc)
    if enabled:
        assert (status.get("readyReplicas"), len(pods), [len(s["addresses"]) for e in endpoints for s in e.get("subsets") or []]) \
            == (2, 2, [2])
    else:
        assert (status, pods, endpoints) == ({}, [], [])
