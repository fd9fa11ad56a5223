# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""k8s_read's logic against a fake API client: discovery by kind/plural/singular/short name (each group version
asked once), paths for namespaced and cluster kinds, list items given apiVersion and kind, a missing name and a
bad selector answering no resources, an unserved kind api_found=false, and errors failing the run or only their
query (a server that cannot be reached is not asked again). The real API server answers the same queries in
tests/integration/test_k8s_read.py."""

from __future__ import annotations

import json

from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import K8sApiError
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.read import read_all

CORE = {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
    {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "shortNames": ["po"]},
    {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod"},
    {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node", "shortNames": ["no"]},
    {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret"}]}
STORAGE = {"kind": "APIResourceList", "groupVersion": "storage.k8s.io/v1", "resources": [
    {"name": "storageclasses", "singularName": "storageclass", "namespaced": False, "kind": "StorageClass", "shortNames": ["sc"]}]}


class Response:
    def __init__(self, data):
        self.data = json.dumps(data).encode()

    def release_conn(self):
        pass


class Client:
    """Answers from ``routes`` (path -> object, or an exception to raise); records (path, query)."""

    def __init__(self, routes):
        self.routes, self.calls = routes, []

    def request(self, method, path, query=None, **_kwargs):
        assert method == "GET"
        self.calls.append((path, {k: v for k, v in (query or {}).items() if v is not None}))
        answer = self.routes.get(path, K8sApiError(404, "NotFound", f"{path} not found"))
        if isinstance(answer, Exception):
            raise answer
        return Response(answer)


def _pod(name):
    return {"metadata": {"name": name, "namespace": "demo1"}, "spec": {}}


def test_queries_answer_in_k8s_info_shape():
    client = Client({
        "/api/v1": CORE, "/apis/storage.k8s.io/v1": STORAGE,
        "/api/v1/namespaces/demo1/pods": {"kind": "PodList", "apiVersion": "v1", "items": [_pod("a"), _pod("b")]},
        "/api/v1/nodes": {"kind": "NodeList", "apiVersion": "v1", "items": [{"metadata": {"name": "n1"}}]},
        "/apis/storage.k8s.io/v1/storageclasses": {"kind": "StorageClassList", "apiVersion": "storage.k8s.io/v1", "items": []},
        "/api/v1/namespaces/demo1/secrets/s1": {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s1"}},
    })
    queries = [{"kind": "po", "namespace": "demo1", "label_selectors": ["release=airflow", "component=worker"]},
               {"kind": "Node", "namespace": "ignored"},
               {"api_version": "storage.k8s.io/v1", "kind": "storageclass"},
               {"kind": "Secret", "namespace": "demo1", "name": "s1"},
               {"kind": "Secret", "namespace": "demo1", "name": "gone"},
               {"api_version": "batch/v1", "kind": "Job", "namespace": "demo1"},
               {"kind": "Widget"}]
    results, error = read_all(client, queries, fail_on_error=True)
    assert error is None
    assert [r["query"] for r in results] == queries
    pods, nodes, classes, secret, gone, jobs, widget = results
    assert [(p["metadata"]["name"], p["apiVersion"], p["kind"]) for p in pods["resources"]] == [("a", "v1", "Pod"), ("b", "v1", "Pod")]
    assert pods["api_found"] is True
    assert [n["kind"] for n in nodes["resources"]] == ["Node"]
    assert classes["resources"] == []
    assert secret["resources"] == [{"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s1"}}]
    assert (gone["api_found"], gone["resources"]) == (True, [])
    assert (jobs["api_found"], jobs["resources"]) == (False, [])
    assert jobs["msg"] == 'Failed to find API for resource with apiVersion "batch/v1" and kind "Job"'
    assert (widget["api_found"], widget["resources"]) == (False, [])
    assert client.calls.count(("/api/v1", {})) == 1  # one discovery per group version
    assert ("/api/v1/namespaces/demo1/pods", {"labelSelector": "release=airflow,component=worker"}) in client.calls
    assert ("/api/v1/nodes", {}) in client.calls  # a cluster kind ignores the namespace


def test_a_bad_selector_answers_nothing_and_errors_fail_the_run_or_the_query():
    refused = K8sApiError(403, "Forbidden", 'pods is forbidden: User "op" cannot list resource "pods"')
    client = Client({"/api/v1": CORE, "/api/v1/pods": K8sApiError(400, "BadRequest", "unable to parse requirement"),
                     "/api/v1/namespaces/demo1/pods": refused,
                     "/api/v1/nodes": {"kind": "NodeList", "apiVersion": "v1", "items": []}})
    results, error = read_all(client, [{"kind": "Pod", "field_selectors": ["bad"]}, {"kind": "Pod", "namespace": "demo1"},
                                       {"kind": "Node"}], fail_on_error=True)
    assert results[0]["resources"] == [] and len(results) == 1
    assert error == 'Pod in namespace demo1: 403 Forbidden: pods is forbidden: User "op" cannot list resource "pods"'
    results, error = read_all(client, [{"kind": "Pod", "namespace": "demo1"}, {"kind": "Node"}], fail_on_error=False)
    assert error is None
    assert (results[0]["failed"], results[0]["reason"], "resources" in results[0]) == (True, "Forbidden", False)
    assert results[1]["resources"] == []


def test_an_unreachable_server_is_asked_once():
    down = K8sApiError(0, "ConnectionError", "connection refused")
    client = Client({"/api/v1": down})
    results, error = read_all(client, [{"kind": "Node"}, {"kind": "Pod"}], fail_on_error=False)
    assert error is None and len(client.calls) == 1
    assert [r["msg"] for r in results] == ["Node: ConnectionError: connection refused", "Pod: ConnectionError: connection refused"]
