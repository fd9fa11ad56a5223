# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The wire protocol seen with a bare HTTP client: discovery, Status errors, watch framing, views, CLI."""

from __future__ import annotations

import http.client
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import pytest
import yaml

from ..server import ApiServer

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Resp:
    status: int
    headers: Dict[str, str]
    body: Any


def call(api: ApiServer, method: str, path: str, body: Any = None, content_type: str = "application/json",
         headers: Optional[Dict[str, str]] = None) -> Resp:
    conn = http.client.HTTPConnection(api.host, api.port, timeout=10)
    try:
        payload: Optional[bytes] = None
        if body is not None:
            payload = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        hdrs = {"Content-Type": content_type, **(headers or {})}
        conn.request(method, path, body=payload, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        ctype = resp.getheader("Content-Type", "")
        return Resp(resp.status, dict(resp.getheaders()), json.loads(raw) if "json" in ctype else raw.decode())
    finally:
        conn.close()


def body_of(api: ApiServer, method: str, path: str, headers: Optional[Dict[str, str]] = None) -> Any:
    return call(api, method, path, headers=headers).body


def test_discovery_documents(k8s_api: ApiServer) -> None:
    version_resp = call(k8s_api, "GET", "/version")
    version = version_resp.body
    assert version_resp.status == 200 and version["gitVersion"].startswith("v1.32.") and version["major"] == "1"
    api = body_of(k8s_api, "GET", "/api")
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    apis = body_of(k8s_api, "GET", "/apis")
    groups = {g["name"]: g for g in apis["groups"]}
    for name in ("apps", "batch", "rbac.authorization.k8s.io", "policy", "networking.k8s.io", "storage.k8s.io",
                 "coordination.k8s.io"):
        assert groups[name]["preferredVersion"] == {"groupVersion": f"{name}/v1", "version": "v1"}
    core = body_of(k8s_api, "GET", "/api/v1")
    by_name = {r["name"]: r for r in core["resources"]}
    assert core["kind"] == "APIResourceList" and core["groupVersion"] == "v1"
    for name in ("namespaces", "secrets", "configmaps", "serviceaccounts", "services", "pods", "events",
                 "persistentvolumeclaims", "nodes", "endpoints", "pods/log", "pods/status"):
        assert name in by_name, name
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["singularName"] == "pod"
    assert by_name["nodes"]["namespaced"] is False and by_name["pods/log"]["verbs"] == ["get"]
    assert set(by_name["pods"]["verbs"]) >= {"create", "delete", "get", "list", "patch", "update", "watch"}
    apps = body_of(k8s_api, "GET", "/apis/apps/v1")
    assert {"deployments/status", "statefulsets/status", "daemonsets", "replicasets"} <= {r["name"] for r in apps["resources"]}
    batch = body_of(k8s_api, "GET", "/apis/batch/v1")
    assert {"jobs", "jobs/status", "cronjobs"} <= {r["name"] for r in batch["resources"]}
    assert call(k8s_api, "GET", "/openapi/v2").status == 404
    index = body_of(k8s_api, "GET", "/openapi/v3")
    assert "apis/apps/v1" in index["paths"]
    gv = body_of(k8s_api, "GET", index["paths"]["apis/apps/v1"]["serverRelativeURL"])
    patch_op = gv["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch_op["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert "fieldValidation" in [p["name"] for p in patch_op["parameters"]]
    assert call(k8s_api, "GET", "/apis/nope/v1").status == 404
    assert call(k8s_api, "GET", "/healthz").body == "ok"


def _expect_status(result: Resp, code: int, reason: str) -> Dict[str, Any]:
    body = result.body
    assert result.status == code, body
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["reason"] == reason and body["code"] == code and body["message"]
    return body


def test_errors_are_status_objects(k8s_api: ApiServer) -> None:
    body = _expect_status(call(k8s_api, "GET", "/apis/apps/v1/namespaces/default/deployments/nope"), 404, "NotFound")
    assert body["message"] == 'deployments.apps "nope" not found'
    assert body["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert call(k8s_api, "POST", "/api/v1/namespaces/default/configmaps", cm).status == 201
    _expect_status(call(k8s_api, "POST", "/api/v1/namespaces/default/configmaps", cm), 409, "AlreadyExists")
    stale = {**cm, "metadata": {"name": "c", "resourceVersion": "1"}}
    _expect_status(call(k8s_api, "PUT", "/api/v1/namespaces/default/configmaps/c", stale), 409, "Conflict")
    _expect_status(call(k8s_api, "POST", "/api/v1/namespaces/default/configmaps", "{not json"), 400, "BadRequest")
    _expect_status(call(k8s_api, "POST", "/api/v1/namespaces/default/configmaps", {**cm, "kind": "Secret"}), 400, "BadRequest")
    _expect_status(call(k8s_api, "POST", "/api/v1/namespaces/default/configmaps/c", cm), 405, "MethodNotAllowed")
    _expect_status(call(k8s_api, "POST", "/api/v1/namespaces/default/configmaps",
                        {**cm, "metadata": {"name": "Bad_Name"}}), 422, "Invalid")
    _expect_status(call(k8s_api, "POST", "/api/v1/namespaces/default/configmaps",
                        {**cm, "metadata": {"name": "l", "labels": {"a": 1}}}), 400, "BadRequest")
    _expect_status(call(k8s_api, "POST", "/api/v1/namespaces/nowhere/configmaps", cm), 404, "NotFound")
    _expect_status(call(k8s_api, "PATCH", "/api/v1/namespaces/default/configmaps/c", {"data": {}}, "text/plain"),
                   415, "UnsupportedMediaType")
    _expect_status(call(k8s_api, "GET", "/api/v1/pods?labelSelector=a+in+(b"), 400, "BadRequest")


def test_server_side_apply_protocol(k8s_api: ApiServer) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: '1'\n"
    path = "/api/v1/namespaces/default/configmaps/applied"
    _expect_status(call(k8s_api, "PATCH", path, manifest, "application/apply-patch+yaml"), 400, "BadRequest")
    created_resp = call(k8s_api, "PATCH", path + "?fieldManager=me", manifest, "application/apply-patch+yaml")
    created = created_resp.body
    assert created_resp.status == 201 and created["data"] == {"a": "1"}
    same_resp = call(k8s_api, "PATCH", path + "?fieldManager=me&force=true", manifest, "application/apply-patch+yaml")
    same = same_resp.body
    assert same_resp.status == 200 and same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_table_and_partial_metadata_views(k8s_api: ApiServer) -> None:
    k8s_api.store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}})
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    table = body_of(k8s_api, "GET", "/api/v1/namespaces/default/configmaps", headers={"Accept": accept})
    assert table["kind"] == "Table" and [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    assert table["rows"][0]["cells"][0] == "c" and table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    partial = body_of(k8s_api, "GET", "/api/v1/namespaces/default/configmaps",
                      headers={"Accept": "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"})
    assert partial["kind"] == "PartialObjectMetadataList" and partial["items"][0]["metadata"]["name"] == "c"


def _watch_lines(api: ApiServer, path: str) -> Resp:
    conn = http.client.HTTPConnection(api.host, api.port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        lines = [json.loads(line) for line in resp.read().decode().splitlines() if line.strip()]
        return Resp(resp.status, headers, lines)
    finally:
        conn.close()


def test_watch_framing_legacy_path_and_expiry(tmp_path: Path) -> None:
    with ApiServer(history=5) as api:
        api.store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}})
        rv = api.store.resource_version
        api.store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "default"}})
        watched = _watch_lines(api, f"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=1")
        assert watched.headers["transfer-encoding"] == "chunked" and watched.headers["content-type"] == "application/json"
        events = watched.body
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "b")]
        events = _watch_lines(api, "/api/v1/watch/namespaces/default/configmaps/a?timeoutSeconds=1").body
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "a")]
        for i in range(10):
            api.store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"x{i}", "namespace": "default"}})
        events = _watch_lines(api, "/api/v1/configmaps?watch=1&resourceVersion=1&timeoutSeconds=1").body
        assert events[0]["type"] == "ERROR" and events[0]["object"]["code"] == 410


def test_watch_selector_transitions(k8s_api: ApiServer) -> None:
    def change() -> None:
        deadline = time.monotonic() + 10
        while not any(r.query.get("watch") for r in list(k8s_api.requests)) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        k8s_api.store.put({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default", "labels": {"a": "b"}}})
        k8s_api.store.set_status("v1", "Pod", "p", {"phase": "Running"}, "default")
        k8s_api.store.update_object("v1", "Pod", "p", lambda o: o["metadata"]["labels"].update(a="c"), "default")

    thread = threading.Thread(target=change)
    thread.start()
    events = _watch_lines(k8s_api, "/api/v1/namespaces/default/pods?watch=1&labelSelector=a%3Db"
                                   "&fieldSelector=status.phase%3DRunning&timeoutSeconds=2").body
    thread.join()
    # not Running at first (no event), then Running (enters the selection: ADDED), then relabelled (leaves: DELETED)
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]


def test_crd_registers_kind(k8s_api: ApiServer) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                 "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object"}}}]},
    }
    created_resp = call(k8s_api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    created = created_resp.body
    assert created_resp.status == 201
    assert {"type": "Established", "status": "True"}.items() <= created["status"]["conditions"][1].items()
    resources = body_of(k8s_api, "GET", "/apis/example.com/v1")
    assert {r["name"] for r in resources["resources"]} == {"widgets", "widgets/status"}
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}}
    assert call(k8s_api, "POST", "/apis/example.com/v1/namespaces/default/widgets", widget).status == 201
    call(k8s_api, "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
    assert call(k8s_api, "GET", "/apis/example.com/v1").status == 404
    assert call(k8s_api, "GET", "/apis/example.com/v1/namespaces/default/widgets").status == 404
    # the objects went with their definition
    assert call(k8s_api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).status == 201
    assert body_of(k8s_api, "GET", "/apis/example.com/v1/namespaces/default/widgets")["items"] == []


def test_deletecollection_and_delete_options(k8s_api: ApiServer) -> None:
    for name, labels in [("a", {"x": "1"}), ("b", {"x": "1"}), ("c", {"x": "2"})]:
        k8s_api.store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default", "labels": labels}})
    assert call(k8s_api, "DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=x%3D1").status == 200
    assert [c["metadata"]["name"] for c in k8s_api.store.list_objects("v1", "ConfigMap", "default")] == ["c"]
    uid = k8s_api.store.get_object("v1", "ConfigMap", "c")["metadata"]["uid"]  # type: ignore[index]
    _expect_status(call(k8s_api, "DELETE", "/api/v1/namespaces/default/configmaps/c",
                        {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "other"}}), 409, "Conflict")
    deleted = call(k8s_api, "DELETE", "/api/v1/namespaces/default/configmaps/c",
                   {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": uid}, "propagationPolicy": "Foreground"})
    assert deleted.status == 200 and deleted.body["status"] == "Success" and deleted.body["details"]["uid"] == uid


def test_cascade_through_owner_references(k8s_api: ApiServer) -> None:
    dep = k8s_api.store.put({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "default"}, "spec": {}})
    rs = k8s_api.store.put({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {
        "name": "d-1", "namespace": "default", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "d",
                                                                   "uid": dep["metadata"]["uid"], "controller": True}]}, "spec": {}})
    k8s_api.store.put({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "d-1-x", "namespace": "default", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "d-1",
                                                                     "uid": rs["metadata"]["uid"], "controller": True}]}})
    assert call(k8s_api, "DELETE", "/apis/apps/v1/namespaces/default/deployments/d").status == 200
    assert k8s_api.store.list_objects("apps/v1", "ReplicaSet") == [] and k8s_api.store.list_objects("v1", "Pod") == []


def test_protobuf_secret_body(k8s_api: ApiServer) -> None:
    def field(number: int, payload: bytes) -> bytes:
        return bytes([number << 3 | 2, len(payload)]) + payload

    meta = field(1, b"pb") + field(11, field(1, b"owner") + field(2, b"helm"))
    secret = field(1, meta) + field(2, field(1, b"release") + field(2, b"\x00\x01binary")) + field(3, b"helm.sh/release.v1")
    envelope = b"k8s\x00" + field(1, field(1, b"v1") + field(2, b"Secret")) + field(2, secret)
    created_resp = call(k8s_api, "POST", "/api/v1/namespaces/default/secrets", envelope, "application/vnd.kubernetes.protobuf")
    created = created_resp.body
    assert created_resp.status == 201, created
    assert created["type"] == "helm.sh/release.v1" and created["metadata"]["labels"] == {"owner": "helm"}
    assert created["data"]["release"] == "AAFiaW5hcnk="


def test_kubeconfig_file(k8s_api: ApiServer) -> None:
    path = k8s_api.kubeconfig_path
    assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
    config = yaml.safe_load(path.read_text())
    assert config["clusters"][0]["cluster"] == {"server": k8s_api.url, "insecure-skip-tls-verify": True}
    assert config["users"][0]["user"]["token"]
    assert urlsplit(k8s_api.url).hostname == "127.0.0.1"


def test_cli_runs_until_sigterm(tmp_path: Path) -> None:
    kubeconfig, pidfile = tmp_path / "kc", tmp_path / "pid"
    seed = tmp_path / "seed.yml"
    seed.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: seeded, namespace: default}\n")
    proc = subprocess.Popen([sys.executable, "-m", "tests.k8s_api", "--port", "0", "--kubeconfig", str(kubeconfig),
                             "--pidfile", str(pidfile), "--node", "node-1", "--seed", str(seed)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        assert int(pidfile.read_text()) == proc.pid
        assert stat.S_IMODE(os.stat(kubeconfig).st_mode) == 0o600
        host, port = urlsplit(url).hostname, urlsplit(url).port
        conn = http.client.HTTPConnection(host or "", port, timeout=5)
        conn.request("GET", "/api/v1/nodes")
        assert [n["metadata"]["name"] for n in json.loads(conn.getresponse().read())["items"]] == ["node-1"]
        conn.request("GET", "/api/v1/namespaces/default/configmaps/seeded")
        assert conn.getresponse().status == 200
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert not pidfile.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_server_stops_with_open_watch() -> None:
    api = ApiServer().start()
    conn = http.client.HTTPConnection(api.host, api.port, timeout=10)
    conn.request("GET", "/api/v1/pods?watch=1")
    resp = conn.getresponse()
    started = time.monotonic()
    api.stop()
    resp.read()
    conn.close()
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("selector, expected", [("a=b", ["1"]), ("a!=b", ["2", "3"]), ("!a", ["3"]), ("a", ["1", "2"])])
def test_store_list_objects_selectors(k8s_api: ApiServer, selector: str, expected: List[str]) -> None:
    for name, labels in [("1", {"a": "b"}), ("2", {"a": "c"}), ("3", {})]:
        k8s_api.store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}})
    assert [o["metadata"]["name"] for o in k8s_api.store.list_objects("v1", "ConfigMap", "default", selector)] == expected
