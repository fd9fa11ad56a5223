# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Discovery documents: ``/version``, ``/api``, ``/apis``, ``/api/v1``, ``/apis/{group}/{version}``, and Tables.

Only the legacy (unaggregated) discovery format is served, with ``Content-Type: application/json``; clients that
ask for aggregated discovery (kubectl, helm) fall back to it. There are no OpenAPI schemas: ``/openapi/v2`` is
404, and ``/openapi/v3`` serves only the index and per group/version PATCH operations that advertise server-side
field validation (see below). ``table`` renders lists for ``kubectl get`` (``Accept: ...;as=Table``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from .resources import Registry, ResourceType

KUBE_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4",
    "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T16:02:27Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions(server_address: str) -> Dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: List[str]) -> Dict[str, Any]:
    gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(registry: Registry) -> Dict[str, Any]:
    groups = [_group(name, versions) for name, versions in registry.groups().items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, name: str) -> Optional[Dict[str, Any]]:
    versions = registry.groups().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _resource(rt: ResourceType) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        out["shortNames"] = list(rt.short_names)
    if rt.categories:
        out["categories"] = list(rt.categories)
    return out


def _subresource(rt: ResourceType, sub: str) -> Dict[str, Any]:
    verbs = ["get"] if sub == "log" else ["get", "patch", "update"]
    return {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced, "kind": rt.kind, "verbs": verbs}


def api_resource_list(registry: Registry, group: str, version: str) -> Optional[Dict[str, Any]]:
    types = registry.in_version(group, version)
    if not types:
        return None
    resources: List[Dict[str, Any]] = []
    for rt in types:
        resources.append(_resource(rt))
        resources.extend(_subresource(rt, sub) for sub in rt.subresources)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": rt.api_version, "resources": resources}


def _age(timestamp: str) -> str:
    try:
        created = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return "<unknown>"
    secs = max(0, int((datetime.now(timezone.utc) - created).total_seconds()))
    if secs < 120:
        return f"{secs}s"
    if secs < 7200:
        return f"{secs // 60}m"
    if secs < 172800:
        return f"{secs // 3600}h"
    return f"{secs // 86400}d"


def partial_metadata(obj: Dict[str, Any]) -> Dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def table(items: List[Dict[str, Any]], resource_version: str, include_object: str = "PartialObjectMetadata") -> Dict[str, Any]:
    """A ``meta.k8s.io/v1`` Table with Name and Age columns (what ``kubectl get`` prints for CRDs)."""
    rows = []
    for obj in items:
        meta = obj.get("metadata", {})
        row: Dict[str, Any] = {"cells": [meta.get("name", ""), _age(meta.get("creationTimestamp", ""))]}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": "Time since creation", "priority": 0},
        ],
        "rows": rows,
    }


# ---- OpenAPI v3 -------------------------------------------------------------------------------------------
# No schemas are served. What is served is what client-go's field-validation check reads: the /openapi/v3
# index and, per group/version, one PATCH operation per kind that declares the ``fieldValidation`` query
# parameter. With that, kubectl and helm (``Validator(Strict)``) leave validation to the server (which does
# none) instead of fetching the protobuf-only /openapi/v2 to validate on the client, which fails here.


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_index(registry: Registry) -> Dict[str, Any]:
    paths = {}
    for group, versions in registry.groups().items():
        for version in versions:
            gv = _gv_path(group, version)
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={_hash(registry, group, version)}"}
    return {"paths": paths}


def _hash(registry: Registry, group: str, version: str) -> str:
    kinds = ",".join(sorted(f"{rt.plural}:{rt.kind}" for rt in registry.in_version(group, version)))
    return hashlib.sha256(kinds.encode("utf-8")).hexdigest()[:16].upper()


def openapi_v3_group_version(registry: Registry, group: str, version: str) -> Optional[Dict[str, Any]]:
    types = registry.in_version(group, version)
    if not types:
        return None
    paths: Dict[str, Any] = {}
    for rt in types:
        prefix = "/" + _gv_path(group, version)
        ns = "/namespaces/{namespace}" if rt.namespaced else ""
        paths[f"{prefix}{ns}/{rt.plural}/{{name}}"] = {
            "patch": {
                "operationId": f"patch{rt.kind}",
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": rt.kind},
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                    {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}},
                ],
                "responses": {"200": {"description": "OK"}},
            }
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBE_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": {}},
    }
