# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The real ``kubernetes`` Python client (typed APIs, DynamicClient, Watch) against the test API server."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from kubernetes import client as k8s
from kubernetes import config, watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from ..server import ApiServer


@pytest.fixture
def api_client(k8s_api: ApiServer) -> Iterator[k8s.ApiClient]:
    client = config.new_client_from_config(config_file=str(k8s_api.kubeconfig_path))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def dyn(api_client: k8s.ApiClient, tmp_path: Path) -> DynamicClient:
    return DynamicClient(api_client, cache_file=str(tmp_path / "discovery.json"))


def _ns(dyn: DynamicClient, name: str) -> None:
    dyn.resources.get(api_version="v1", kind="Namespace").create(body={"metadata": {"name": name}})


def test_discovery_finds_builtin_kinds_and_subresources(dyn: DynamicClient) -> None:
    assert dyn.version["kubernetes"]["gitVersion"].startswith("v1.32.")
    job = dyn.resources.get(api_version="batch/v1", kind="Job")
    assert job.namespaced and job.name == "jobs"
    assert "status" in job.subresources
    pods = dyn.resources.get(api_version="v1", kind="Pod")
    assert {"log", "status"} <= set(pods.subresources)
    assert dyn.resources.get(api_version="v1", short_names=["cm"]).kind == "ConfigMap"
    for api_version, kind in [("apps/v1", "StatefulSet"), ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
                              ("policy/v1", "PodDisruptionBudget"), ("networking.k8s.io/v1", "NetworkPolicy"),
                              ("storage.k8s.io/v1", "StorageClass"), ("coordination.k8s.io/v1", "Lease"),
                              ("v1", "Node"), ("v1", "Endpoints"), ("v1", "PersistentVolumeClaim")]:
        assert dyn.resources.get(api_version=api_version, kind=kind).kind == kind


def test_namespace_and_secret_crud(dyn: DynamicClient) -> None:
    namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
    created = namespaces.create(body={"metadata": {"name": "app"}})
    assert created.status.phase == "Active"
    assert int(created.metadata.resourceVersion) > 0 and created.metadata.uid

    secrets = dyn.resources.get(api_version="v1", kind="Secret")
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "labels": {"app": "db"}},
            "stringData": {"password": "s3cret"}}
    sec = secrets.create(body=body, namespace="app")
    assert sec.type == "Opaque"
    assert base64.b64decode(sec.data.password) == b"s3cret"
    assert "stringData" not in sec.to_dict()

    with pytest.raises(ApiException) as err:
        secrets.create(body=body, namespace="app")
    assert err.value.status == 409 and '"AlreadyExists"' in err.value.body

    got = secrets.get(name="creds", namespace="app")
    assert got.metadata.uid == sec.metadata.uid

    replaced_body = got.to_dict()
    replaced_body["data"]["user"] = base64.b64encode(b"admin").decode()
    replaced = secrets.replace(body=replaced_body, namespace="app")
    assert int(replaced.metadata.resourceVersion) > int(got.metadata.resourceVersion)

    stale = got.to_dict()
    stale["data"]["user"] = base64.b64encode(b"root").decode()
    with pytest.raises(ApiException) as err:
        secrets.replace(body=stale, namespace="app")
    assert err.value.status == 409 and '"Conflict"' in err.value.body

    listed = secrets.get(namespace="app")
    assert listed.kind == "SecretList" and [i.metadata.name for i in listed.items] == ["creds"]
    assert int(listed.metadata.resourceVersion) >= int(replaced.metadata.resourceVersion)

    deleted = secrets.delete(name="creds", namespace="app")
    assert deleted.kind == "Status" and deleted.status == "Success"
    with pytest.raises(ApiException) as err:
        secrets.get(name="creds", namespace="app")
    assert err.value.status == 404 and '"NotFound"' in err.value.body


def test_patch_flavours(dyn: DynamicClient) -> None:
    _ns(dyn, "p")
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    deployments.create(namespace="p", body={
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"a": "1"}},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]},
                                    {"name": "side", "image": "busybox"}]}}}})

    # strategic merge: containers merge by name, env by name
    smp = deployments.patch(name="web", namespace="p", content_type="application/strategic-merge-patch+json", body={
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2", "env": [{"name": "B", "value": "2"}]}]}}}})
    containers = smp.to_dict()["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web", "side"]
    assert containers[0]["image"] == "nginx:2"
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert smp.metadata.generation == 2

    # merge patch: lists are replaced, null deletes
    merged = deployments.patch(name="web", namespace="p", content_type="application/merge-patch+json", body={
        "metadata": {"labels": {"a": None, "b": "2"}},
        "spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x"}]}}}})
    assert merged.metadata.labels.to_dict() == {"b": "2"}
    assert [c.name for c in merged.spec.template.spec.containers] == ["only"]

    # JSON patch
    jp = deployments.patch(name="web", namespace="p", content_type="application/json-patch+json", body=[
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/annotations", "value": {"x/y": "z"}},
        {"op": "copy", "from": "/metadata/labels/b", "path": "/metadata/labels/c"},
        {"op": "move", "from": "/metadata/labels/c", "path": "/metadata/labels/d"},
        {"op": "remove", "path": "/metadata/labels/b"}])
    assert jp.spec.replicas == 3
    assert jp.metadata.labels.to_dict() == {"d": "2"}
    assert jp.metadata.annotations["x/y"] == "z"
    with pytest.raises(ApiException) as err:
        deployments.patch(name="web", namespace="p", content_type="application/json-patch+json",
                          body=[{"op": "test", "path": "/spec/replicas", "value": 99}])
    assert err.value.status == 422

    # a stale resourceVersion in a patch is a conflict
    with pytest.raises(ApiException) as err:
        deployments.patch(name="web", namespace="p", content_type="application/merge-patch+json",
                          body={"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 5}})
    assert err.value.status == 409


def test_noop_patch_keeps_resource_version(dyn: DynamicClient) -> None:
    _ns(dyn, "n")
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    cm = cms.create(namespace="n", body={"metadata": {"name": "c"}, "data": {"k": "v"}})
    again = cms.patch(name="c", namespace="n", body={"metadata": {"name": "c"}, "data": {"k": "v"}},
                      content_type="application/strategic-merge-patch+json")
    assert again.metadata.resourceVersion == cm.metadata.resourceVersion
    put = cms.replace(namespace="n", body=again.to_dict())
    assert put.metadata.resourceVersion == cm.metadata.resourceVersion


def test_server_side_apply_create_and_noop(dyn: DynamicClient, k8s_api: ApiServer) -> None:
    _ns(dyn, "ssa")
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": "ssa"}, "data": {"a": "1"}}
    created = cms.server_side_apply(body=manifest, name="conf", namespace="ssa", field_manager="test")
    assert created.data.a == "1"
    again = cms.server_side_apply(body=manifest, name="conf", namespace="ssa", field_manager="test", force_conflicts=True)
    assert again.metadata.resourceVersion == created.metadata.resourceVersion
    changed = cms.server_side_apply(body={**manifest, "data": {"a": "2"}}, name="conf", namespace="ssa", field_manager="test")
    assert changed.data.a == "2" and changed.metadata.resourceVersion != created.metadata.resourceVersion
    applies = [r for r in k8s_api.requests if r.content_type == "application/apply-patch+yaml"]
    assert applies and all(r.query.get("fieldManager") == "test" for r in applies)

    # the real server insists on a fieldManager
    with pytest.raises(ApiException) as err:
        cms.patch(body=manifest, name="conf", namespace="ssa", content_type="application/apply-patch+yaml")
    assert err.value.status == 400


def test_dry_run_changes_nothing(dyn: DynamicClient, k8s_api: ApiServer) -> None:
    _ns(dyn, "dry")
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    before = k8s_api.store.resource_version
    ghost = cms.create(namespace="dry", body={"metadata": {"name": "ghost"}, "data": {"a": "1"}}, dry_run="All")
    assert ghost.metadata.name == "ghost"
    assert k8s_api.store.get_object("v1", "ConfigMap", "ghost", "dry") is None
    assert k8s_api.store.resource_version == before

    real = cms.create(namespace="dry", body={"metadata": {"name": "real"}, "data": {"a": "1"}})
    patched = cms.patch(name="real", namespace="dry", body={"data": {"a": "2"}}, dry_run="All",
                        content_type="application/merge-patch+json")
    assert patched.data.a == "2" and patched.metadata.resourceVersion == real.metadata.resourceVersion
    replaced = cms.replace(namespace="dry", body={**real.to_dict(), "data": {"a": "3"}}, dry_run="All")
    assert replaced.data.a == "3"
    cms.delete(name="real", namespace="dry", dry_run="All")
    applied = cms.server_side_apply(namespace="dry", name="real", field_manager="t", dry_run="All",
                                    body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "real"}, "data": {"a": "4"}})
    assert applied.data.a == "4"
    stored = k8s_api.store.get_object("v1", "ConfigMap", "real", "dry")
    assert stored is not None and stored["data"] == {"a": "1"}
    assert stored["metadata"]["resourceVersion"] == real.metadata.resourceVersion


def test_label_and_field_selectors(api_client: k8s.ApiClient, k8s_api: ApiServer) -> None:
    v1 = k8s.CoreV1Api(api_client)
    v1.create_namespace({"metadata": {"name": "sel"}})
    specs = [("a", {"app": "db", "tier": "x"}, "Running"), ("b", {"app": "web", "tier": "y"}, "Pending"),
             ("c", {"app": "web"}, "Running")]
    for name, labels, phase in specs:
        v1.create_namespaced_pod("sel", {"metadata": {"name": name, "labels": labels},
                                         "spec": {"containers": [{"name": "m", "image": "i"}]}})
        k8s_api.store.set_status("v1", "Pod", name, {"phase": phase}, "sel")

    def names(**kw: Any) -> List[str]:
        return [p.metadata.name for p in v1.list_namespaced_pod("sel", **kw).items]

    assert names(label_selector="app=web") == ["b", "c"]
    assert names(label_selector="app==web,tier") == ["b"]
    assert names(label_selector="app!=web") == ["a"]
    assert names(label_selector="app in (db, web),!tier") == ["c"]
    assert names(label_selector="tier notin (x)") == ["b", "c"]
    assert names(field_selector="status.phase=Running") == ["a", "c"]
    assert names(field_selector="metadata.name!=a,status.phase=Running") == ["c"]
    assert [p.metadata.name for p in v1.list_pod_for_all_namespaces(field_selector="metadata.namespace=sel").items] == ["a", "b", "c"]
    with pytest.raises(ApiException) as err:
        v1.list_namespaced_pod("sel", label_selector="app in (db")
    assert err.value.status == 400


def test_list_pagination(api_client: k8s.ApiClient) -> None:
    v1 = k8s.CoreV1Api(api_client)
    for i in range(5):
        v1.create_namespaced_config_map("default", {"metadata": {"name": f"cm{i}"}})
    first = v1.list_namespaced_config_map("default", limit=2)
    assert [c.metadata.name for c in first.items] == ["cm0", "cm1"] and first.metadata._continue
    rest = v1.list_namespaced_config_map("default", limit=10, _continue=first.metadata._continue)
    assert [c.metadata.name for c in rest.items] == ["cm2", "cm3", "cm4"] and not rest.metadata._continue


def test_watch_sees_changes_from_another_thread(api_client: k8s.ApiClient, k8s_api: ApiServer) -> None:
    v1 = k8s.CoreV1Api(api_client)
    v1.create_namespace({"metadata": {"name": "w"}})
    v1.create_namespaced_config_map("w", {"metadata": {"name": "pre", "labels": {"watch": "me"}}})

    def writer() -> None:
        deadline = time.monotonic() + 10
        while not any(r.query.get("watch") for r in list(k8s_api.requests)) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        writer_v1 = k8s.CoreV1Api(api_client)
        writer_v1.create_namespaced_config_map("w", {"metadata": {"name": "new", "labels": {"watch": "me"}}})
        writer_v1.create_namespaced_config_map("w", {"metadata": {"name": "other"}})  # filtered out by the selector
        writer_v1.patch_namespaced_config_map("new", "w", {"data": {"k": "v"}})
        writer_v1.delete_namespaced_config_map("new", "w")

    thread = threading.Thread(target=writer)
    thread.start()
    seen: List[Tuple[str, str]] = []
    w = watch.Watch()
    for event in w.stream(v1.list_namespaced_config_map, "w", label_selector="watch=me", timeout_seconds=10):
        seen.append((event["type"], event["object"].metadata.name))
        if event["type"] == "DELETED":
            w.stop()
    thread.join()
    assert seen == [("ADDED", "pre"), ("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "new")]


def test_watch_from_resource_version_and_timeout(api_client: k8s.ApiClient) -> None:
    v1 = k8s.CoreV1Api(api_client)
    v1.create_namespaced_config_map("default", {"metadata": {"name": "old"}})
    rv = v1.list_namespaced_config_map("default").metadata.resource_version
    v1.create_namespaced_config_map("default", {"metadata": {"name": "after"}})
    started = time.monotonic()
    events: List[Dict[str, Any]] = list(watch.Watch().stream(v1.list_namespaced_config_map, "default",
                                                             resource_version=rv, timeout_seconds=1))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "after")]
    assert time.monotonic() - started < 5


def test_pod_log(api_client: k8s.ApiClient, k8s_api: ApiServer) -> None:
    v1 = k8s.CoreV1Api(api_client)
    v1.create_namespaced_pod("default", {"metadata": {"name": "logger"}, "spec": {"containers": [{"name": "m", "image": "i"}]}})
    k8s_api.set_pod_log("default", "logger", "one\ntwo\nthree\n")
    assert v1.read_namespaced_pod_log("logger", "default") == "one\ntwo\nthree\n"
    assert v1.read_namespaced_pod_log("logger", "default", tail_lines=2, container="m") == "two\nthree\n"
    with pytest.raises(ApiException) as err:
        v1.read_namespaced_pod_log("missing", "default")
    assert err.value.status == 404


def test_status_subresource_is_isolated(dyn: DynamicClient, k8s_api: ApiServer) -> None:
    jobs = dyn.resources.get(api_version="batch/v1", kind="Job")
    job = jobs.create(namespace="default", body={
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "i"}]}}},
        "status": {"succeeded": 5}})
    assert job.status.to_dict() == {}  # status is not settable on create

    # main resource updates ignore status
    patched = jobs.patch(name="j", namespace="default", content_type="application/merge-patch+json",
                         body={"metadata": {"labels": {"x": "y"}}, "status": {"succeeded": 1}})
    assert patched.metadata.labels.x == "y" and not patched.status.succeeded

    # /status updates ignore everything else
    status = jobs.status.patch(name="j", namespace="default", content_type="application/merge-patch+json",
                               body={"metadata": {"labels": {"x": "z"}}, "status": {"active": 1}})
    assert status.status.active == 1 and status.metadata.labels.x == "y"
    got = jobs.status.get(name="j", namespace="default")
    assert got.status.active == 1
    put = got.to_dict()
    put["status"] = {"succeeded": 1}
    put["spec"]["parallelism"] = 7
    replaced = jobs.status.replace(body=put, namespace="default")
    assert replaced.status.to_dict() == {"succeeded": 1} and replaced.spec.parallelism == 1

    k8s_api.complete_job("default", "j")
    done = jobs.get(name="j", namespace="default")
    assert [c.type for c in done.status.conditions] == ["SuccessCriteriaMet", "Complete"]


def test_job_delete_propagation(dyn: DynamicClient, k8s_api: ApiServer) -> None:
    jobs = dyn.resources.get(api_version="batch/v1", kind="Job")
    pods = dyn.resources.get(api_version="v1", kind="Pod")
    body = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "i"}]}}}}
    jobs.create(namespace="default", body=body)
    owned = k8s_api.make_pod_for_job("default", "j", phase="Succeeded", log="done\n")
    pods.create(namespace="default", body={"metadata": {"name": "labelled", "labels": {"job-name": "j"}},
                                           "spec": {"containers": [{"name": "m", "image": "i"}]}})
    pods.create(namespace="default", body={"metadata": {"name": "bystander"}, "spec": {"containers": [{"name": "m", "image": "i"}]}})
    assert pods.log.get(name=owned["metadata"]["name"], namespace="default") == "done\n"

    jobs.delete(name="j", namespace="default", body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"})
    assert [p.metadata.name for p in pods.get(namespace="default").items] == ["bystander"]

    # without a policy batch/v1 orphans: the pod stays and loses its owner reference
    jobs.create(namespace="default", body=body)
    orphan = k8s_api.make_pod_for_job("default", "j")
    jobs.delete(name="j", namespace="default")
    left = pods.get(name=orphan["metadata"]["name"], namespace="default")
    assert not left.metadata.ownerReferences


def test_namespace_deletion_cascades(dyn: DynamicClient, k8s_api: ApiServer) -> None:
    _ns(dyn, "gone")
    _ns(dyn, "kept")
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    roles = dyn.resources.get(api_version="rbac.authorization.k8s.io/v1", kind="Role")
    for ns in ("gone", "kept"):
        cms.create(namespace=ns, body={"metadata": {"name": "c"}})
        roles.create(namespace=ns, body={"metadata": {"name": "r"}, "rules": []})
    result = dyn.resources.get(api_version="v1", kind="Namespace").delete(name="gone")
    assert result.status.phase == "Terminating" and result.metadata.deletionTimestamp
    assert [c.metadata.namespace for c in cms.get().items] == ["kept"]
    assert [r.metadata.namespace for r in roles.get().items] == ["kept"]
    with pytest.raises(ApiException) as err:
        cms.create(namespace="gone", body={"metadata": {"name": "c"}})
    assert err.value.status == 404


def test_generate_name_and_cluster_scoped_nodes(api_client: k8s.ApiClient, k8s_api: ApiServer) -> None:
    v1 = k8s.CoreV1Api(api_client)
    cm = v1.create_namespaced_config_map("default", {"metadata": {"generateName": "gen-"}})
    assert cm.metadata.name.startswith("gen-") and len(cm.metadata.name) == 9
    k8s_api.add_node("n1")
    k8s_api.add_node("n2", ready=False)
    nodes = v1.list_node().items
    assert [(n.metadata.name, n.status.conditions[0].status) for n in nodes] == [("n1", "True"), ("n2", "False")]


def test_finalizers_delay_deletion(api_client: k8s.ApiClient) -> None:
    v1 = k8s.CoreV1Api(api_client)
    v1.create_namespaced_config_map("default", {"metadata": {"name": "f", "finalizers": ["example.com/hold"]}})
    v1.delete_namespaced_config_map("f", "default")
    held = v1.read_namespaced_config_map("f", "default")
    assert held.metadata.deletion_timestamp is not None
    v1.patch_namespaced_config_map("f", "default", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as err:
        v1.read_namespaced_config_map("f", "default")
    assert err.value.status == 404


def test_typed_client_deletes_decode(api_client: k8s.ApiClient) -> None:
    """Pods and Services answer DELETE with the object (the typed client insists), others with a Status."""
    v1 = k8s.CoreV1Api(api_client)
    v1.create_namespace({"metadata": {"name": "del"}})
    v1.create_namespaced_pod("del", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "m", "image": "i"}]}})
    v1.create_namespaced_service("del", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})
    v1.create_namespaced_config_map("del", {"metadata": {"name": "c"}})
    assert v1.delete_namespaced_pod("p", "del").metadata.name == "p"
    svc = v1.delete_namespaced_service("s", "del")
    assert svc.metadata.name == "s" and svc.spec.cluster_ip
    assert v1.delete_namespaced_config_map("c", "del")["status"] == "Success"
    assert v1.delete_namespace("del")["status"]["phase"] == "Terminating"
