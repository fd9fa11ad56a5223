# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Many reads in one module run: each query is a kind (found by discovery of its group version, as kubernetes.core
finds it: by kind, plural name, singular name or short name) with an optional name, namespace and label and field
selectors; its answer has k8s_info's shape (``api_found``, ``resources`` with ``apiVersion`` and ``kind`` set on
list items as the kubernetes dynamic client sets them, or ``failed`` and ``msg``).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import ApiClient, K8sApiError

Obj = Dict[str, Any]


class Discovery:
    """The resources of each group version, asked once per run."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self._lists: Dict[str, Optional[List[Obj]]] = {}

    def _resources(self, api_version: str) -> Optional[List[Obj]]:
        if api_version not in self._lists:
            path = "/api/v1" if api_version == "v1" else "/apis/" + api_version
            try:
                response = self.client.request("GET", path)
            except K8sApiError as exc:
                if exc.status != 404:
                    raise
                self._lists[api_version] = None
            else:
                try:
                    self._lists[api_version] = [r for r in json.loads(response.data.decode("utf-8")).get("resources") or []
                                                if "/" not in str(r.get("name", ""))]
                finally:
                    response.release_conn()
        return self._lists[api_version]

    def find(self, api_version: str, kind: str) -> Optional[Obj]:
        """The APIResource for ``kind`` in ``api_version``; None when the server serves no such thing."""
        resources = self._resources(api_version) or []
        for key in ("kind", "name", "singularName"):
            matches = [r for r in resources if r.get(key) == kind]
            if len(matches) == 1:
                return matches[0]
        matches = [r for r in resources if kind in (r.get("shortNames") or [])]
        return matches[0] if len(matches) == 1 else None


def _path(api_version: str, resource: Obj, namespace: Optional[str], name: Optional[str]) -> str:
    path = "/api/v1" if api_version == "v1" else "/apis/" + api_version
    if resource.get("namespaced") and namespace:
        path += "/namespaces/" + quote(namespace, safe="")
    path += "/" + resource["name"]
    return path + ("/" + quote(name, safe="") if name else "")


def _items(data: Obj, api_version: str, kind: str) -> List[Obj]:
    if not str(data.get("kind", "")).endswith("List") or "items" not in data:
        return [data]
    for item in data.get("items") or []:
        item.setdefault("apiVersion", data.get("apiVersion") or api_version)
        item.setdefault("kind", kind)
    return data.get("items") or []


def read_one(client: ApiClient, discovery: Discovery, query: Obj) -> Obj:
    """One query's answer (k8s_info's shape); K8sApiError for what the server refused or a broken connection."""
    api_version, kind = query.get("api_version") or "v1", query["kind"]
    resource = discovery.find(api_version, kind)
    if resource is None:
        return {"api_found": False, "resources": [],
                "msg": f'Failed to find API for resource with apiVersion "{api_version}" and kind "{kind}"'}
    selectors = {"labelSelector": ",".join(query.get("label_selectors") or []) or None,
                 "fieldSelector": ",".join(query.get("field_selectors") or []) or None}
    try:
        response = client.request("GET", _path(api_version, resource, query.get("namespace"), query.get("name")), query=selectors)
    except K8sApiError as exc:
        if exc.status == 404 and query.get("name"):
            return {"api_found": True, "resources": []}
        if exc.status == 400:  # k8s_info answers a bad selector with nothing found
            return {"api_found": True, "resources": []}
        raise
    try:
        data = json.loads(response.data.decode("utf-8"))
    except ValueError as exc:
        raise K8sApiError(0, "BadResponse", f"the server did not answer with JSON: {exc}") from exc
    finally:
        response.release_conn()
    return {"api_found": True, "resources": _items(data, api_version, resource.get("kind") or kind)}


def describe(query: Obj) -> str:
    """``kind[/name][ in namespace]`` for messages."""
    text = query["kind"] + ("/" + query["name"] if query.get("name") else "")
    return text + (" in namespace " + query["namespace"] if query.get("namespace") else "")


def read_all(client: ApiClient, queries: List[Obj], fail_on_error: bool) -> Tuple[List[Obj], Optional[str]]:
    """(answers in query order, the first error's message when ``fail_on_error``). Without ``fail_on_error`` a
    query the server refused answers ``failed`` with ``msg`` and no ``resources``; the others are still read."""
    discovery = Discovery(client)
    results: List[Obj] = []
    unreachable: Optional[K8sApiError] = None
    for query in queries:
        try:
            if unreachable is not None:  # the server was not reached: the next query would wait as long again
                raise unreachable
            answer = read_one(client, discovery, query)
        except K8sApiError as exc:
            message = f"{describe(query)}: {exc}"
            if fail_on_error:
                return results, message
            unreachable = exc if exc.status == 0 else None
            answer = {"failed": True, "msg": message, "reason": exc.reason}
        results.append(dict(answer, query=query))
    return results, None
