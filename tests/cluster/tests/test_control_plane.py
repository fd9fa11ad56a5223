# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The lab's control plane does what the collection's tests rely on (each behaviour by the real component).

Pinned versions; TLS with client certificates; RBAC for the operator; the default admission plugins
(PodSecurity, ServiceAccount); the Job, TTL-after-finished, Deployment/ReplicaSet, StatefulSet, PV binder,
ServiceAccount, node-ipam and endpointslice controllers; the scheduler; KWOK's simulated nodes (Ready, pods
Running/Ready, Job pods Succeeded, a container failure on request, pod logs).
"""

from __future__ import annotations

import json
import re
import ssl
import time
import urllib.error
import urllib.request
from typing import Callable, Dict

import pytest
import yaml

from tests.cluster.cluster import LAB_NODES, NODE_ALLOCATABLE, SIMULATED_LOG, Cluster


def wait_for(predicate: Callable[[], object], what: str, timeout: float = 90) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def create(cluster: Cluster, obj: Dict, operator: bool = False):
    return cluster.kubectl("create", "-f", "-", input=yaml.safe_dump(obj), operator=operator, check=False)


def job(name: str, namespace: str, **extra) -> Dict:
    template = {"metadata": {"labels": extra.pop("labels", {})},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36"}]}}
    template["spec"].update(extra.pop("pod_spec", {}))
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": namespace},
            "spec": {"backoffLimit": 0, "template": template, **extra}}


def condition(obj: Dict, kind: str) -> str:
    return next((c["status"] for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind), "")


def test_server_is_the_pinned_kubernetes_over_tls(cluster: Cluster):
    version = json.loads(cluster.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == "v1.34.4"
    assert version["clientVersion"]["gitVersion"] == "v1.34.4"
    anonymous = ssl.create_default_context(cafile=str(cluster.pki.path("ca.crt")))
    with pytest.raises(urllib.error.HTTPError) as err:  # no client certificate: anonymous, refused by RBAC
        urllib.request.urlopen(f"{cluster.server}/api/v1/namespaces", context=anonymous, timeout=10)
    assert err.value.code in (401, 403)


def test_nodes_are_kwok_nodes_with_capacity_and_pod_cidrs(cluster: Cluster):
    nodes = {n["metadata"]["name"]: n for n in cluster.get("nodes")["items"]}
    for name in LAB_NODES:
        node = nodes[name]
        assert condition(node, "Ready") == "True"
        assert node["status"]["allocatable"]["cpu"] == NODE_ALLOCATABLE["cpu"]
        assert node["status"]["allocatable"]["memory"] == NODE_ALLOCATABLE["memory"]
        assert re.fullmatch(r"10\.244\.\d+\.0/24", node["spec"]["podCIDR"]), node["spec"]
        assert node["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"


def test_job_completes_and_ttl_controller_deletes_it(cluster: Cluster, k8s_namespace: str):
    assert create(cluster, job("done", k8s_namespace, ttlSecondsAfterFinished=2)).returncode == 0
    done = wait_for(lambda: condition(cluster.get("job", "done", "-n", k8s_namespace), "Complete") == "True",
                    "the Job controller to complete the Job")
    assert done
    wait_for(lambda: cluster.kubectl("get", "job", "done", "-n", k8s_namespace, check=False).returncode != 0,
             "the TTL-after-finished controller to delete the Job")


def test_container_failure_on_request_fails_the_job_and_logs_are_served(cluster: Cluster, k8s_namespace: str):
    labels = {"pod-container-running-failed.stage.kwok.x-k8s.io": "true"}
    assert create(cluster, job("broken", k8s_namespace, labels=labels)).returncode == 0
    wait_for(lambda: condition(cluster.get("job", "broken", "-n", k8s_namespace), "Failed") == "True",
             "the Job to fail")
    pods = cluster.get("pods", "-n", k8s_namespace, "-l", "job-name=broken")["items"]
    assert pods and pods[0]["status"]["phase"] == "Failed"
    assert pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 1
    logs = cluster.kubectl("logs", "-n", k8s_namespace, pods[0]["metadata"]["name"]).stdout
    assert logs == SIMULATED_LOG


def test_missing_service_account_is_a_failed_create(cluster: Cluster, k8s_namespace: str):
    assert create(cluster, job("nosa", k8s_namespace, pod_spec={"serviceAccountName": "absent"})).returncode == 0

    def failed_create():
        events = cluster.get("events", "-n", k8s_namespace, "--field-selector", "involvedObject.name=nosa")["items"]
        return [e for e in events if e["reason"] == "FailedCreate"]
    event = wait_for(failed_create, "a FailedCreate event")[0]
    assert 'serviceaccount "absent" not found' in event["message"]


def test_pod_security_admission_refuses_a_privileged_pod(cluster: Cluster, k8s_namespace: str):
    cluster.kubectl("label", "namespace", k8s_namespace, "pod-security.kubernetes.io/enforce=restricted")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "priv", "namespace": k8s_namespace},
           "spec": {"containers": [{"name": "c", "image": "busybox", "securityContext": {"privileged": True}}]}}
    proc = create(cluster, pod)
    assert proc.returncode != 0 and 'violates PodSecurity "restricted:latest"' in proc.stderr


def test_unmatched_node_selector_is_unschedulable(cluster: Cluster, k8s_namespace: str):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nowhere", "namespace": k8s_namespace},
           "spec": {"nodeSelector": {"disk": "none"}, "containers": [{"name": "c", "image": "busybox"}]}}
    assert create(cluster, pod).returncode == 0

    def unschedulable():
        status = cluster.get("pod", "nowhere", "-n", k8s_namespace).get("status", {})
        return [c for c in status.get("conditions", []) if c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable"]
    assert "didn't match Pod's node affinity/selector" in wait_for(unschedulable, "PodScheduled=False")[0]["message"]


def test_pvc_binds_to_a_pre_created_volume_and_an_oversized_one_does_not(cluster: Cluster, k8s_namespace: str):
    def pvc(name, size):
        return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": k8s_namespace},
                "spec": {"storageClassName": "local-path", "accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": size}}}}
    assert create(cluster, pvc("fits", "1Gi")).returncode == 0
    assert create(cluster, pvc("huge", "1Ti")).returncode == 0
    wait_for(lambda: cluster.get("pvc", "fits", "-n", k8s_namespace).get("status", {}).get("phase") == "Bound",
             "the PV binder to bind the claim")
    assert cluster.get("pvc", "huge", "-n", k8s_namespace)["status"]["phase"] == "Pending"


def test_deployment_rolls_out_and_endpoint_slices_list_ready_pods(cluster: Cluster, k8s_namespace: str):
    labels = {"app": "web"}
    cluster.apply([
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": k8s_namespace},
         "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
             "metadata": {"labels": labels}, "spec": {"containers": [
                 {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": k8s_namespace},
         "spec": {"selector": labels, "ports": [{"port": 80}]}}])
    wait_for(lambda: cluster.get("deployment", "web", "-n", k8s_namespace).get("status", {}).get("readyReplicas") == 2,
             "the Deployment to be ready")

    def ready_endpoints():
        slices = cluster.get("endpointslices", "-n", k8s_namespace, "-l", "kubernetes.io/service-name=web")["items"]
        return [e for s in slices for e in s.get("endpoints") or [] if e["conditions"].get("ready")]
    assert len(wait_for(lambda: len(ready_endpoints()) == 2 and ready_endpoints(), "2 ready endpoints")) == 2


def test_operator_is_not_cluster_admin(cluster: Cluster, k8s_namespace: str):
    def can(*args):
        return cluster.kubectl("auth", "can-i", *args, operator=True, check=False).stdout.strip()
    assert can("create", "secrets", "-n", k8s_namespace) == "yes"
    assert can("get", "secrets", "-n", "kube-system") == "no"
    assert can("delete", "nodes") == "no"
